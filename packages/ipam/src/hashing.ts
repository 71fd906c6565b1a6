// Open-addressing hash tables on typed arrays for the allocator's hot path. A JS Map costs 240-550 ns
// to look up and insert a fresh 36-character key on these machines (measured); these tables keep the owner index
// and the address index in flat typed arrays with linear probing and backward-shift deletion.

const EMPTY = -1;
/** Equal hashes of different keys tolerated before a StringTable hashes keys by more of their units. */
const COLLISION_LIMIT = 1024;

/** Hash of s[from, to) with two FNV-style lanes, two UTF-16 units a step each, continuing from `seed`. */
function hashRange(s: string, from: number, to: number, seed: number): number {
  // The seed (a length) gets a multiply of its own: XOR-ed straight into the first units, a length of
  // 20 ending "10000000" and a length of 21 ending "00000000" hashed alike.
  let a = Math.imul(0x811c9dc5 ^ seed, 0x01000193);
  let b = 0x9e3779b9;
  let i = from;
  for (; i + 3 < to; i += 4) {
    a = Math.imul(a ^ (s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16)), 0x01000193);
    b = Math.imul(b ^ (s.charCodeAt(i + 2) | (s.charCodeAt(i + 3) << 16)), 0x5bd1e995);
  }
  for (; i < to; i++) a = Math.imul(a ^ s.charCodeAt(i), 0x01000193);
  return a ^ Math.imul(b, 0x85ebca6b);
}

function avalanche(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h | 0;
}

/** A 32-bit hash of every UTF-16 unit of s. Reading the characters is the cost (~1.2 ns each here). */
export function hashString(s: string): number {
  return avalanche(hashRange(s, 0, s.length, s.length));
}

/**
 * A 32-bit hash of a key's length and its last 8 UTF-16 units; the whole key when it is at most 8 long.
 * This is what StringTable hashes first. Owner keys vary at their ends: a pod UID's last 8 hex digits
 * carry 32 bits, a pod name's last 8 characters (`pod/ns/web-7d9f8b6c4-xk2lp`) about as many, and an
 * endpoint key ends with its address (`ep/ns/svc/10.244.3.17`).
 * Why so few: a charCodeAt costs about 31 machine instructions in Node 20's optimised code (each call
 * dispatches on the string's representation again), counted with callgrind. The 16 units the table read
 * before took 541 instructions a call, most of a lookup.
 * PoolImpl.allocate has a copy of this hash, for keys longer than 8; change both together (pool.test.ts
 * fails when they differ).
 */
export function sampledHash(s: string): number {
  const n = s.length;
  if (n <= 8) return hashString(s);
  const i = n - 8;
  const a = Math.imul(
    Math.imul(0x811c9dc5 ^ n, 0x01000193) ^ (s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16)),
    0x01000193,
  );
  const b = Math.imul(0x9e3779b9 ^ (s.charCodeAt(i + 2) | (s.charCodeAt(i + 3) << 16)), 0x5bd1e995);
  const c = Math.imul(a ^ (s.charCodeAt(i + 4) | (s.charCodeAt(i + 5) << 16)), 0x01000193);
  const d = Math.imul(b ^ (s.charCodeAt(i + 6) | (s.charCodeAt(i + 7) << 16)), 0x5bd1e995);
  return avalanche(c ^ Math.imul(d, 0x85ebca6b));
}

/**
 * A 32-bit hash of a key's length, first 4 and last 12 UTF-16 units; the whole key when it is at most 16
 * long. StringTable's second step, for keys whose last 8 units repeat (a UID followed by a NIC name,
 * `0f8e3c1a-...-2d3b4c5d6e7f/net1`).
 */
export function wideHash(s: string): number {
  const n = s.length;
  if (n <= 16) return hashString(s);
  let a = Math.imul(
    Math.imul(0x811c9dc5 ^ n, 0x01000193) ^ (s.charCodeAt(0) | (s.charCodeAt(1) << 16)),
    0x01000193,
  );
  let b = Math.imul(0x9e3779b9 ^ (s.charCodeAt(2) | (s.charCodeAt(3) << 16)), 0x5bd1e995);
  for (let i = n - 12; i < n; i += 4) {
    a = Math.imul(a ^ (s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16)), 0x01000193);
    b = Math.imul(b ^ (s.charCodeAt(i + 2) | (s.charCodeAt(i + 3) << 16)), 0x5bd1e995);
  }
  return avalanche(a ^ Math.imul(b, 0x85ebca6b));
}

/** How a StringTable hashes its keys; it moves up a level when keys collide too often. */
export type KeyHashing = 'sampled' | 'wide' | 'full';
const HASHINGS: readonly KeyHashing[] = ['sampled', 'wide', 'full'];

function hashPair(hi: number, lo: number): number {
  let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 15;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

/** Offset (hi, lo) -> owner entry: the address index of a pool. */
export interface OffsetIndex {
  readonly size: number;
  get(hi: number, lo: number): number;
  set(hi: number, lo: number, value: number): void;
  delete(hi: number, lo: number): boolean;
  byteSize(): number;
}

const PAGE_BITS = 12; // 4096 offsets, 16 KiB, a page

/**
 * The address index of a dense pool (at most 2^24 addresses, so `hi` is always 0): one uint32 per
 * address, in pages of 4096 allocated on first use. Pools fill from their lowest address, so the pages
 * in use follow what is allocated; an empty /8 holds only 4096 page slots (0.016 bits per address).
 * No hashing: a lookup is two loads, and addresses next to each other share a page.
 */
export class PagedIndex implements OffsetIndex {
  private readonly pages: Array<Uint32Array<ArrayBuffer> | undefined>;
  size = 0;

  constructor(span: number) {
    this.pages = new Array<Uint32Array<ArrayBuffer> | undefined>(Math.ceil(span / (1 << PAGE_BITS))).fill(
      undefined,
    );
  }

  get(_hi: number, lo: number): number {
    const page = this.pages[lo >>> PAGE_BITS];
    return page === undefined ? EMPTY : page[lo & ((1 << PAGE_BITS) - 1)]! - 1;
  }

  set(_hi: number, lo: number, value: number): void {
    let page = this.pages[lo >>> PAGE_BITS];
    if (page === undefined) {
      page = new Uint32Array(1 << PAGE_BITS);
      this.pages[lo >>> PAGE_BITS] = page;
    }
    const i = lo & ((1 << PAGE_BITS) - 1);
    if (page[i] === 0) this.size++;
    page[i] = value + 1;
  }

  delete(_hi: number, lo: number): boolean {
    const page = this.pages[lo >>> PAGE_BITS];
    const i = lo & ((1 << PAGE_BITS) - 1);
    if (page === undefined || page[i] === 0) return false;
    page[i] = 0;
    this.size--;
    return true;
  }

  byteSize(): number {
    let bytes = this.pages.length * 8;
    for (const p of this.pages) if (p !== undefined) bytes += p.byteLength;
    return bytes;
  }
}

/**
 * Map from a 64-bit key given as two uint32 halves to a non-negative int32 value.
 * Used as the address -> owner-entry index (offsets inside a pool). One interleaved array
 * [hi, lo, value + 1] per slot keeps a probe within one cache line.
 */
export class PairMap implements OffsetIndex {
  private slots: Uint32Array<ArrayBuffer>;
  private mask: number;
  size = 0;

  constructor(expected = 16) {
    let cap = 16;
    while (cap < expected * 2) cap *= 2;
    this.slots = new Uint32Array(cap * 3);
    this.mask = cap - 1;
  }

  /** The value for the key, or -1. */
  get(hi: number, lo: number): number {
    const { slots, mask } = this;
    for (let i = hashPair(hi, lo) & mask; ; i = (i + 1) & mask) {
      const k = i * 3;
      const v = slots[k + 2]!;
      if (v === 0) return EMPTY;
      if (slots[k + 1] === lo && slots[k] === hi) return v - 1;
    }
  }

  /** Set key -> value (value >= 0), replacing any previous value. */
  set(hi: number, lo: number, value: number): void {
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    const { slots, mask } = this;
    for (let i = hashPair(hi, lo) & mask; ; i = (i + 1) & mask) {
      const k = i * 3;
      if (slots[k + 2] === 0) {
        slots[k] = hi;
        slots[k + 1] = lo;
        slots[k + 2] = value + 1;
        this.size++;
        return;
      }
      if (slots[k + 1] === lo && slots[k] === hi) {
        slots[k + 2] = value + 1;
        return;
      }
    }
  }

  /** Remove the key; true when it was present. */
  delete(hi: number, lo: number): boolean {
    const { slots, mask } = this;
    let i = hashPair(hi, lo) & mask;
    for (; ; i = (i + 1) & mask) {
      const k = i * 3;
      if (slots[k + 2] === 0) return false;
      if (slots[k + 1] === lo && slots[k] === hi) break;
    }
    // Backward-shift deletion keeps probe chains intact without tombstones.
    for (let j = (i + 1) & mask; slots[j * 3 + 2] !== 0; j = (j + 1) & mask) {
      const home = hashPair(slots[j * 3]!, slots[j * 3 + 1]!) & mask;
      if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
        slots[i * 3] = slots[j * 3]!;
        slots[i * 3 + 1] = slots[j * 3 + 1]!;
        slots[i * 3 + 2] = slots[j * 3 + 2]!;
        i = j;
      }
    }
    slots[i * 3 + 2] = 0;
    this.size--;
    return true;
  }

  private grow(): void {
    const old = this.slots;
    const cap = (this.mask + 1) * 2;
    this.slots = new Uint32Array(cap * 3);
    this.mask = cap - 1;
    this.size = 0;
    for (let k = 0; k < old.length; k += 3) {
      if (old[k + 2] !== 0) this.set(old[k]!, old[k + 1]!, old[k + 2]! - 1);
    }
  }

  /** Bytes held by the table's arrays. */
  byteSize(): number {
    return this.slots.byteLength;
  }
}

/**
 * Interning table from owner key (string) to a dense entry number, with entry numbers reused after removal.
 * Callers keep per-entry data in their own columns indexed by the entry number. Slots interleave
 * [entry + 1, hash] so a probe rarely touches the key strings; the key array is pre-sized and grown
 * by doubling because Array.push of strings costs ~100 ns here (measured).
 */
export class StringTable {
  // PoolImpl.allocate has find()'s probe written out (see "Performance" in the package README): it reads
  // slots, mask, keys and level, and writes lastHash, lastSlot and hitSlot. No other code outside the class touches them.
  /** @internal */ slots: Int32Array<ArrayBuffer>;
  /** @internal */ mask: number;
  /** @internal */ keys: Array<string | undefined>;
  // Entry numbers freed by remove(), a stack on a typed array as long as the key array (growKeys grows
  // both), so it always has room: at most `used` entries are free. With a JS array grown by
  // push(), a release on a new /16 pool cost about 12 ns more than on a pool whose array had already
  // grown (measured).
  private freeStack: Uint32Array<ArrayBuffer>;
  private freeTop = 0;
  private used = 0; // entry numbers ever handed out
  size = 0;
  // The hash and the empty slot where the last missed find() stopped; insertAfterFind() reuses both.
  /** @internal */ lastHash = 0;
  /** @internal */ lastSlot = -1;
  // The slot where the last successful find() stopped; remove() of that entry reuses it.
  /** @internal */ hitSlot = -1;
  // Keys are hashed by sampledHash (level 0) until different keys meet with equal hashes too often;
  // then every key is rehashed by wideHash (level 1), and after that, if they still collide (keys that
  // differ only in the middle), in full (level 2). A table never goes back down.
  /** @internal */ level = 0;
  private collisions = 0;

  constructor(expected = 16) {
    let cap = 16;
    while (cap < expected * 2) cap *= 2;
    this.slots = new Int32Array(cap * 2);
    this.mask = cap - 1;
    this.keys = new Array<string | undefined>(Math.max(16, expected)).fill(undefined);
    this.freeStack = new Uint32Array(Math.max(16, expected));
  }

  /** Number of entry numbers ever handed out (upper bound for column sizes). */
  get capacity(): number {
    return this.used;
  }

  /** The entry of the key, or -1. */
  find(key: string): number {
    const h = this.level === 0 ? sampledHash(key) : this.hashAbove(key);
    this.lastHash = h;
    const { slots, mask, keys } = this;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const e = slots[i * 2]!;
      if (e === 0) {
        this.lastSlot = i;
        return -1;
      }
      if (slots[i * 2 + 1] === h) {
        if (keys[e - 1] === key) {
          this.hitSlot = i;
          return e - 1;
        }
        if (this.level < 2 && ++this.collisions > COLLISION_LIMIT) {
          this.rehash(this.level + 1);
          return this.find(key);
        }
      }
    }
  }

  /** How keys are hashed now: 'sampled' until keys collide too often, then 'wide', then 'full'. */
  get hashing(): KeyHashing {
    return HASHINGS[this.level]!;
  }

  /** The hash of a key at the table's level, for levels above 0 (kept out of find's inlined body). */
  private hashAbove(key: string): number {
    return this.level === 1 ? wideHash(key) : hashString(key);
  }

  private hashOf(key: string): number {
    return this.level === 0 ? sampledHash(key) : this.hashAbove(key);
  }

  private rehash(level: number): void {
    this.level = level;
    this.collisions = 0;
    const slots = new Int32Array((this.mask + 1) * 2);
    for (let e = 0; e < this.used; e++) {
      const key = this.keys[e];
      if (key === undefined) continue;
      const h = this.hashOf(key);
      let i = h & this.mask;
      while (slots[i * 2] !== 0) i = (i + 1) & this.mask;
      slots[i * 2] = e + 1;
      slots[i * 2 + 1] = h;
    }
    this.slots = slots;
    this.lastSlot = -1;
    this.hitSlot = -1;
  }

  /** Insert a key known to be absent; call right after find(key) returned -1. Returns its entry. */
  insertAfterFind(key: string): number {
    if ((this.size + 1) * 2 > this.mask + 1) {
      this.grow();
      this.lastSlot = -1;
    }
    return this.place(key, this.lastHash, this.lastSlot);
  }

  insert(key: string): number {
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    return this.place(key, this.hashOf(key), -1);
  }

  private place(key: string, h: number, slot: number): number {
    const entry = this.freeTop > 0 ? this.freeStack[--this.freeTop]! : this.newEntry();
    this.keys[entry] = key;
    const { slots, mask } = this;
    let i = slot;
    if (i < 0) {
      i = h & mask;
      while (slots[i * 2] !== 0) i = (i + 1) & mask;
    }
    slots[i * 2] = entry + 1;
    slots[i * 2 + 1] = h;
    this.size++;
    this.lastSlot = -1;
    this.hitSlot = -1;
    return entry;
  }

  /** A never-used entry number; the key array grows here, off the hot path of place(). */
  private newEntry(): number {
    const entry = this.used++;
    if (entry >= this.keys.length) this.growKeys();
    return entry;
  }

  /** Double the key array, and the free stack with it (so remove() never has to check for room). */
  private growKeys(): void {
    const bigger = new Array<string | undefined>(this.keys.length * 2).fill(undefined);
    for (let i = 0; i < this.keys.length; i++) bigger[i] = this.keys[i];
    this.keys = bigger;
    const stack = new Uint32Array(bigger.length);
    stack.set(this.freeStack.subarray(0, this.freeTop));
    this.freeStack = stack;
  }

  keyOf(entry: number): string | undefined {
    return this.keys[entry];
  }

  /** Remove an entry; its number may be handed out again. */
  remove(entry: number): void {
    const { slots, mask } = this;
    const key = this.keys[entry];
    if (key === undefined) return;
    let i =
      this.hitSlot >= 0 && slots[this.hitSlot * 2] === entry + 1 ? this.hitSlot : this.hashOf(key) & mask;
    while (slots[i * 2] !== entry + 1) i = (i + 1) & mask;
    this.hitSlot = -1;
    for (let j = (i + 1) & mask; slots[j * 2] !== 0; j = (j + 1) & mask) {
      const home = slots[j * 2 + 1]! & mask;
      if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
        slots[i * 2] = slots[j * 2]!;
        slots[i * 2 + 1] = slots[j * 2 + 1]!;
        i = j;
      }
    }
    slots[i * 2] = 0;
    this.keys[entry] = undefined;
    this.freeStack[this.freeTop++] = entry;
    this.size--;
    this.lastSlot = -1;
  }

  /** Every live entry number. */
  *entries(): IterableIterator<number> {
    for (let e = 0; e < this.used; e++) if (this.keys[e] !== undefined) yield e;
  }

  private grow(): void {
    const old = this.slots;
    const cap = (this.mask + 1) * 2;
    const slots = new Int32Array(cap * 2);
    const mask = cap - 1;
    for (let k = 0; k < old.length; k += 2) {
      if (old[k] === 0) continue;
      let i = old[k + 1]! & mask;
      while (slots[i * 2] !== 0) i = (i + 1) & mask;
      slots[i * 2] = old[k]!;
      slots[i * 2 + 1] = old[k + 1]!;
    }
    this.slots = slots;
    this.mask = mask;
    this.hitSlot = -1;
  }

  byteSize(): number {
    return this.slots.byteLength + this.keys.length * 8 + this.freeStack.byteLength;
  }
}
