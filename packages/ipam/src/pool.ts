import { Addr, type Family, parseV4Fast, tryParseAddr, tryParseAddrRange } from './addr';
import { DenseBitmap } from './bitmap';
import { IpamError, show } from './errors';
import { type OffsetIndex, PagedIndex, PairMap, StringTable } from './hashing';
import { IPSet } from './ipset';
import { type ResolvedPoolSpec, resolvePoolSpec } from './poolspec';
import type { Prefix } from './prefix';
import { SparseSpace } from './sparse';
import type { PoolRoute, PoolSpec } from './spec';

/** Pools whose subnet has at most this many addresses keep a bitmap; larger ones are sparse. */
const DENSE_MAX_SPAN = 2 ** 24;
/** Largest block allocateBlock accepts. */
export const MAX_BLOCK = 65_536;

export interface PoolStats {
  /** Allocatable addresses (the gateway, excluded and reserved addresses are not counted). */
  readonly total: bigint;
  /** Addresses held by owners. */
  readonly allocated: number;
  /** total - allocated. */
  readonly free: bigint;
  /** Owner keys holding addresses. */
  readonly owners: number;
}

/**
 * A pool's allocations as compact plain JSON. `allocations` lists `[owner, addresses]` in address order,
 * where addresses is one address, a contiguous run `"a-b"`, or a comma-separated list.
 */
export interface PoolSnapshot {
  readonly version: 1;
  readonly pool: string;
  readonly subnet: string;
  readonly allocations: ReadonlyArray<readonly [owner: string, addresses: string]>;
}

export type SnapshotConflictReason =
  | 'invalid-entry'
  | 'duplicate-owner'
  | 'duplicate-address'
  | 'out-of-pool'
  | 'pool-name';

export interface SnapshotConflict {
  readonly reason: SnapshotConflictReason;
  readonly owner?: string;
  readonly address?: string;
  /** For duplicate-address: the owner that claimed the address first. */
  readonly heldBy?: string;
  readonly message: string;
}

/** A stateful allocator over one pool (Spiderpool SpiderIPPool semantics). Failed calls change nothing. */
export interface Pool {
  readonly name: string;
  readonly spec: PoolSpec;
  readonly family: Family;
  readonly subnet: Prefix;
  readonly gateway: Addr | undefined;
  readonly routes: readonly PoolRoute[];
  /**
   * Lowest free address. Idempotent: an owner that holds exactly one address gets it back; one that holds
   * more is OWNER_CONFLICT.
   */
  allocate(owner: string): Addr;
  /**
   * Lowest run of n contiguous free addresses (first fit), in address order. Idempotent: an owner holding
   * exactly such a run of n gets it back; any other holding is OWNER_CONFLICT.
   */
  allocateBlock(owner: string, n: number): Addr[];
  /** Fixed addresses for an owner, all or nothing; idempotent when the owner already holds exactly these. */
  reserve(owner: string, addresses: Addr | string | ReadonlyArray<Addr | string>): Addr[];
  /** Free everything the owner holds; returns what was freed (empty when the owner held nothing). */
  release(owner: string): Addr[];
  ownerOf(address: Addr | string): string | undefined;
  addressesOf(owner: string): Addr[];
  has(owner: string): boolean;
  stats(): PoolStats;
  /** Free addresses as a set of ranges. */
  freeRanges(): IPSet;
  /** Every address the pool can hand out, free or not. */
  allocatable(): IPSet;
  /** Every owner with its addresses, in address order. */
  allocations(): Array<[owner: string, addresses: Addr[]]>;
  snapshot(): PoolSnapshot;
  /** Bytes held by the allocator's own structures (bitmap, indexes), without owner strings. */
  memoryBytes(): number;
}

/** True when sorted offsets form one run with no gaps. */
function isRun(offs: ReadonlyArray<readonly [number, number]>): boolean {
  for (let i = 1; i < offs.length; i++) {
    const [ph, pl] = offs[i - 1]!;
    const [h, l] = offs[i]!;
    const next = pl === 0xffff_ffff ? h === ph + 1 && l === 0 : h === ph && l === pl + 1;
    if (!next) return false;
  }
  return true;
}

function badOwner(owner: unknown): IpamError {
  return new IpamError('INVALID_ARGUMENT', `owner must be a non-empty string, got ${show(owner)}`, {
    owner,
  });
}

function checkOwner(owner: unknown): asserts owner is string {
  if (typeof owner !== 'string' || owner.length === 0) throw badOwner(owner);
}

function growU32(a: Uint32Array<ArrayBuffer>, min: number): Uint32Array<ArrayBuffer> {
  if (min <= a.length) return a;
  let n = Math.max(16, a.length * 2);
  while (n < min) n *= 2;
  const b = new Uint32Array(n);
  b.set(a);
  return b;
}

class PoolImpl implements Pool {
  readonly name: string;
  readonly spec: PoolSpec;
  readonly family: Family;
  readonly subnet: Prefix;
  readonly gateway: Addr | undefined;
  readonly routes: readonly PoolRoute[];
  private readonly resolved: ResolvedPoolSpec;
  private readonly owners: StringTable;
  // Per-entry data, interleaved so that one cache line serves a release: ent[2e] is the low word of
  // the first offset, ent[2e + 1] the address count minus one. The high word is kept only by sparse
  // pools, whose offsets pass 2^32.
  private startHi: Uint32Array<ArrayBuffer>;
  private ent: Uint32Array<ArrayBuffer>;
  /** Entries whose addresses are not one contiguous run (a multi-address reserve). */
  private readonly scattered = new Map<number, Array<[number, number]>>();
  /** Offset -> owner entry. */
  private readonly byOffset: OffsetIndex;
  /** byOffset when it is a PagedIndex (dense pools), typed so the hot path's calls are monomorphic. */
  private readonly paged: PagedIndex | undefined;
  private readonly dense: DenseBitmap | undefined;
  private readonly sparse: SparseSpace | undefined;
  private readonly total: bigint;
  private allocatedCount = 0;
  // The subnet's first address; offsets are OR-ed into its low 64 bits (host bits are zero there).
  private readonly b0: number;
  private readonly b1: number;
  private readonly b2: number;
  private readonly b3: number;
  private readonly hostHiMask: number;
  private readonly hostLoMask: number;

  constructor(resolved: ResolvedPoolSpec, expectedOwners = 16) {
    this.resolved = resolved;
    this.spec = resolved.spec;
    this.name = resolved.name;
    this.family = resolved.family;
    this.subnet = resolved.subnet;
    this.gateway = resolved.gateway;
    this.routes = Object.freeze([...(resolved.spec.routes ?? [])]);
    const first = this.subnet.first();
    this.b0 = first.w0;
    this.b1 = first.w1;
    this.b2 = first.w2;
    this.b3 = first.w3;
    const hostBits = first.bitLength() - this.subnet.bits;
    if (hostBits > 64) {
      throw new IpamError(
        'INVALID_POOL_SPEC',
        `pool ${show(this.name)}: subnet ${this.subnet} is too large for a pool; use /64 or longer for IPv6`,
        { pool: this.name, field: 'subnet', value: this.subnet.toString() },
      );
    }
    this.hostLoMask = hostBits >= 32 ? 0xffff_ffff : 2 ** hostBits - 1;
    this.hostHiMask = hostBits <= 32 ? 0 : hostBits >= 64 ? 0xffff_ffff : 2 ** (hostBits - 32) - 1;
    this.owners = new StringTable(expectedOwners);
    const columns = Math.max(16, expectedOwners);
    this.startHi = new Uint32Array(2 ** hostBits > DENSE_MAX_SPAN ? columns : 0);
    this.ent = new Uint32Array(columns * 2);
    const span = 2 ** hostBits;
    this.paged = span <= DENSE_MAX_SPAN ? new PagedIndex(span) : undefined;
    this.byOffset = this.paged ?? new PairMap(expectedOwners);
    const base = first.toBigInt();
    const ranges = resolved.allocatable.rangesOf(this.family).map(([a, b]) => [a - base, b - base] as const);
    if (span <= DENSE_MAX_SPAN) {
      this.dense = new DenseBitmap(span);
      for (const [a, b] of ranges) this.dense.setFreeRange(Number(a), Number(b));
      this.total = BigInt(this.dense.free);
    } else {
      this.sparse = new SparseSpace(ranges, this.byOffset as PairMap);
      this.total = this.sparse.total;
    }
  }

  private addrAt(hi: number, lo: number): Addr {
    if (this.family === 4) return Addr.unsafeFromWords(4, 0, 0, 0, (this.b3 | lo) >>> 0);
    return Addr.unsafeFromWords(6, this.b0, this.b1, (this.b2 | hi) >>> 0, (this.b3 | lo) >>> 0);
  }

  /** Offset of an address into (offHi, offLo); false when it is outside the subnet. */
  private offHi = 0;
  private offLo = 0;
  private offsetOf(a: Addr): boolean {
    if (!this.subnet.contains(a)) return false;
    this.offHi = (a.w2 & this.hostHiMask) >>> 0;
    this.offLo = (a.w3 & this.hostLoMask) >>> 0;
    return true;
  }

  /**
   * The entry holding offset (hi, lo), or -1. Read the address index through this only: a dense pool's
   * release() leaves the index slot of a freed address stale, so its bitmap decides.
   */
  private holderOf(hi: number, lo: number): number {
    if (this.dense?.isFree(lo)) return -1;
    return this.byOffset.get(hi, lo);
  }

  /** Whether an entry holds a list rather than one run; almost always false, so skip the Map lookup. */
  private isScattered(e: number): boolean {
    return this.scattered.size > 0 && this.scattered.has(e);
  }

  private hiOf(e: number): number {
    return this.sparse ? this.startHi[e]! : 0;
  }

  private ensureColumns(entry: number): void {
    if (entry * 2 < this.ent.length) return;
    if (this.sparse) this.startHi = growU32(this.startHi, entry + 1);
    this.ent = growU32(this.ent, (entry + 1) * 2);
  }

  private record(owner: string, afterFind: boolean, hi: number, lo: number, n: number): number {
    const e = afterFind ? this.owners.insertAfterFind(owner) : this.owners.insert(owner);
    this.ensureColumns(e);
    if (this.sparse) this.startHi[e] = hi;
    this.ent[e * 2] = lo;
    this.ent[e * 2 + 1] = n - 1;
    this.allocatedCount += n;
    return e;
  }

  /** Offsets held by an entry, as [hi, lo] pairs. */
  private offsetsOf(e: number): Array<[number, number]> {
    const s = this.scattered.get(e);
    if (s) return s;
    const out: Array<[number, number]> = [];
    let hi = this.hiOf(e);
    let lo = this.ent[e * 2]!;
    const n = this.ent[e * 2 + 1]! + 1;
    for (let i = 0; i < n; i++) {
      out.push([hi, lo]);
      if (lo === 0xffff_ffff) {
        hi++;
        lo = 0;
      } else lo++;
    }
    return out;
  }

  private addressesOfEntry(e: number): Addr[] {
    return this.offsetsOf(e).map(([hi, lo]) => this.addrAt(hi, lo));
  }

  private exhausted(n = 1, free = 0n): IpamError {
    // A block can fail with addresses still free: say how many rather than "all in use".
    const why =
      free === 0n
        ? `all ${this.total} allocatable addresses of ${this.subnet} are in use`
        : `only ${free} of its ${this.total} allocatable addresses (${this.subnet}) are free, ${n} asked for`;
    return new IpamError('POOL_EXHAUSTED', `pool ${show(this.name)} is exhausted: ${why}`, {
      pool: this.name,
      total: this.total.toString(),
      subnet: this.subnet.toString(),
      ...(free === 0n ? {} : { n, free: free.toString() }),
    });
  }

  private ownerConflict(owner: string, e: number, wanted: string): IpamError {
    const held = this.addressesOfEntry(e).map(String);
    return new IpamError(
      'OWNER_CONFLICT',
      `owner ${show(owner)} already holds ${held.join(', ')} in pool ${show(this.name)}; release it before asking for ${wanted}`,
      { pool: this.name, owner, held },
    );
  }

  // allocate and release are the hot path. TurboFan inlines a function's callees only up to a
  // cumulative bytecode budget (920 bytes in Node 20), and what is not inlined costs a call and, for
  // the returned Addr, an allocation that is not folded. So the dense case is written out here with
  // small helpers, and every rare case (bad owner, an owner seen again, sparse pools, blocks) is a
  // call to a method of its own. Measured on the /16 cycle: see "Performance" in the package README.
  allocate(owner: string): Addr {
    if (typeof owner !== 'string' || owner.length === 0) throw badOwner(owner);
    const table = this.owners;
    // table.find(owner), written out with a copy of sampledHash() (keep the two equal) for keys longer than
    // 8 at hashing level 0: find and its hash do not fit the inlining budget beside the rest (see above).
    // Any other case, and an equal hash of a different key, goes to find(), which also counts the collision.
    let e: number;
    const n = owner.length;
    if (table.level !== 0 || n <= 8) e = table.find(owner);
    else {
      const i = n - 8;
      const a = Math.imul(
        Math.imul(0x811c9dc5 ^ n, 0x01000193) ^ (owner.charCodeAt(i) | (owner.charCodeAt(i + 1) << 16)),
        0x01000193,
      );
      const b = Math.imul(
        0x9e3779b9 ^ (owner.charCodeAt(i + 2) | (owner.charCodeAt(i + 3) << 16)),
        0x5bd1e995,
      );
      const c = Math.imul(a ^ (owner.charCodeAt(i + 4) | (owner.charCodeAt(i + 5) << 16)), 0x01000193);
      const d = Math.imul(b ^ (owner.charCodeAt(i + 6) | (owner.charCodeAt(i + 7) << 16)), 0x5bd1e995);
      let h = c ^ Math.imul(d, 0x85ebca6b);
      h ^= h >>> 16;
      h = Math.imul(h, 0x85ebca6b);
      h ^= h >>> 13;
      h |= 0;
      const { slots, mask } = table;
      for (let s = h & mask; ; s = (s + 1) & mask) {
        const x = slots[s * 2]!;
        if (x === 0) {
          table.lastHash = h;
          table.lastSlot = s;
          e = -1;
          break;
        }
        if (slots[s * 2 + 1] === h) {
          if (table.keys[x - 1] === owner) {
            table.hitSlot = s;
            e = x - 1;
          } else e = table.find(owner);
          break;
        }
      }
    }
    if (e >= 0) return this.allocateAgain(owner, e);
    const dense = this.dense;
    if (dense === undefined) return this.allocateSparse(owner);
    const lo = dense.takeLowest();
    if (lo < 0) throw this.exhausted();
    const ne = table.insertAfterFind(owner);
    this.ensureColumns(ne);
    const ent = this.ent;
    ent[ne * 2] = lo;
    ent[ne * 2 + 1] = 0;
    this.allocatedCount++;
    this.paged!.set(0, lo, ne);
    return this.denseAddrAt(lo);
  }

  /** addrAt() for a dense pool, whose offsets never reach the high word. */
  private denseAddrAt(lo: number): Addr {
    return Addr.unsafeFromWords(this.family, this.b0, this.b1, this.b2, (this.b3 | lo) >>> 0);
  }

  /** allocate() for an owner that already holds addresses. */
  private allocateAgain(owner: string, e: number): Addr {
    if (this.ent[e * 2 + 1] === 0 && !this.isScattered(e)) return this.addrAt(this.hiOf(e), this.ent[e * 2]!);
    throw this.ownerConflict(owner, e, 'one address');
  }

  private allocateSparse(owner: string): Addr {
    const sparse = this.sparse!;
    if (!sparse.takeLowest()) throw this.exhausted();
    const hi = sparse.outHi;
    const lo = sparse.outLo;
    const ne = this.record(owner, true, hi, lo, 1);
    this.byOffset.set(hi, lo, ne);
    return this.addrAt(hi, lo);
  }

  allocateBlock(owner: string, n: number): Addr[] {
    checkOwner(owner);
    if (!Number.isInteger(n) || n < 1 || n > MAX_BLOCK) {
      throw new IpamError(
        'INVALID_ARGUMENT',
        `block size ${show(n)} must be an integer from 1 to ${MAX_BLOCK}`,
        {
          pool: this.name,
          n,
        },
      );
    }
    const e = this.owners.find(owner);
    if (e >= 0) {
      if (this.ent[e * 2 + 1] === n - 1 && !this.isScattered(e)) return this.addressesOfEntry(e);
      throw this.ownerConflict(owner, e, `a block of ${n}`);
    }
    let hi = 0;
    let lo: number;
    if (this.dense) {
      lo = this.dense.lowestRun(n);
      if (lo >= 0) {
        const ne = this.record(owner, false, 0, lo, n);
        const out = new Array<Addr>(n);
        for (let i = 0; i < n; i++) {
          this.dense.take(lo + i);
          this.byOffset.set(0, lo + i, ne);
          out[i] = this.addrAt(0, lo + i);
        }
        return out;
      }
    } else {
      lo = this.sparse!.takeLowestRun(n) ? this.sparse!.outLo : -1;
      hi = this.sparse!.outHi;
    }
    if (lo < 0) {
      const free = this.dense ? BigInt(this.dense.free) : this.sparse!.freeCount();
      if (free < BigInt(n)) throw this.exhausted(n, free);
      throw new IpamError(
        'NO_CONTIGUOUS_BLOCK',
        `pool ${show(this.name)} has ${free} free addresses but no ${n} contiguous ones`,
        { pool: this.name, n, free: free.toString() },
      );
    }
    const ne = this.record(owner, false, hi, lo, n);
    for (const [h, l] of this.offsetsOf(ne)) this.byOffset.set(h, l, ne);
    return this.addressesOfEntry(ne);
  }

  reserve(owner: string, addresses: Addr | string | ReadonlyArray<Addr | string>): Addr[] {
    checkOwner(owner);
    const list = Array.isArray(addresses)
      ? (addresses as ReadonlyArray<Addr | string>)
      : [addresses as Addr | string];
    if (list.length === 0) {
      throw new IpamError('INVALID_ARGUMENT', `reserve for ${show(owner)} needs at least one address`, {
        owner,
      });
    }
    const addrs = list.map((x) => this.parseIn(x)).sort((a, b) => a.compare(b));
    for (let i = 1; i < addrs.length; i++) {
      if (addrs[i]!.equals(addrs[i - 1]!)) {
        throw new IpamError(
          'INVALID_ARGUMENT',
          `address ${addrs[i]} is listed twice in reserve for ${show(owner)}`,
          {
            owner,
            address: addrs[i]!.toString(),
          },
        );
      }
    }
    const e = this.owners.find(owner);
    if (e >= 0) {
      const held = this.addressesOfEntry(e).sort((a, b) => a.compare(b));
      if (held.length === addrs.length && held.every((a, i) => a.equals(addrs[i]!))) return held;
      throw this.ownerConflict(owner, e, addrs.map(String).join(', '));
    }
    const offs: Array<[number, number]> = [];
    for (const a of addrs) {
      this.offsetOf(a);
      const hi = this.offHi;
      const lo = this.offLo;
      const holder = this.holderOf(hi, lo);
      if (holder >= 0) {
        const by = this.owners.keyOf(holder)!;
        throw new IpamError(
          'ADDRESS_IN_USE',
          `address ${a} in pool ${show(this.name)} is held by ${show(by)}`,
          {
            pool: this.name,
            address: a.toString(),
            owner: by,
          },
        );
      }
      const ok = this.dense ? this.dense.isFree(lo) : this.sparse!.isAllocatable(hi, lo);
      if (!ok) throw this.outOfPool(a);
      offs.push([hi, lo]);
    }
    const contiguous = isRun(offs);
    const ne = this.record(owner, true, offs[0]![0], offs[0]![1], offs.length);
    if (!contiguous) this.scattered.set(ne, offs);
    for (const [hi, lo] of offs) {
      if (this.dense) this.dense.take(lo);
      else this.sparse!.countTaken();
      this.byOffset.set(hi, lo, ne);
    }
    return addrs;
  }

  private outOfPool(a: Addr): IpamError {
    return new IpamError(
      'OUT_OF_POOL',
      `address ${a} is not an allocatable address of pool ${show(this.name)} (${this.subnet})`,
      { pool: this.name, address: a.toString() },
    );
  }

  private parseIn(x: Addr | string): Addr {
    const a = typeof x === 'string' ? tryParseAddr(x) : x instanceof Addr ? x : undefined;
    if (a === undefined) {
      throw new IpamError('INVALID_ADDRESS', `invalid IP address ${show(x)} for pool ${show(this.name)}`, {
        pool: this.name,
        value: x,
      });
    }
    if (!this.offsetOf(a)) throw this.outOfPool(a);
    return a;
  }

  release(owner: string): Addr[] {
    if (typeof owner !== 'string' || owner.length === 0) throw badOwner(owner);
    const table = this.owners;
    const e = table.find(owner);
    if (e < 0) return [];
    const dense = this.dense;
    const ent = this.ent;
    if (dense === undefined || ent[e * 2 + 1] !== 0 || this.isScattered(e)) return this.releaseEntry(e);
    // The common case (one pod, one address), written out for the reason given above allocate().
    const lo = ent[e * 2]!;
    // The address index keeps its stale slot: holderOf() asks the bitmap first, and the next allocation
    // of lo overwrites the slot. That saves a write to a random page of the index.
    dense.release(lo);
    this.allocatedCount--;
    table.remove(e);
    return [this.denseAddrAt(lo)];
  }

  /** release() of an entry that holds several addresses, or of any entry of a sparse pool. */
  private releaseEntry(e: number): Addr[] {
    const offs = this.offsetsOf(e);
    for (const [hi, lo] of offs) {
      this.byOffset.delete(hi, lo);
      if (this.dense) this.dense.release(lo);
      else this.sparse!.release(hi, lo);
    }
    this.allocatedCount -= offs.length;
    this.scattered.delete(e);
    this.owners.remove(e);
    return offs.map(([hi, lo]) => this.addrAt(hi, lo));
  }

  ownerOf(address: Addr | string): string | undefined {
    const a = typeof address === 'string' ? tryParseAddr(address) : address;
    if (!(a instanceof Addr)) {
      throw new IpamError('INVALID_ADDRESS', `invalid IP address ${show(address)}`, { value: address });
    }
    if (!this.offsetOf(a)) return undefined;
    const e = this.holderOf(this.offHi, this.offLo);
    return e < 0 ? undefined : this.owners.keyOf(e);
  }

  addressesOf(owner: string): Addr[] {
    const e = this.owners.find(owner);
    return e < 0 ? [] : this.addressesOfEntry(e);
  }

  has(owner: string): boolean {
    return this.owners.find(owner) >= 0;
  }

  stats(): PoolStats {
    return {
      total: this.total,
      allocated: this.allocatedCount,
      free: this.total - BigInt(this.allocatedCount),
      owners: this.owners.size,
    };
  }

  freeRanges(): IPSet {
    const base = this.subnet.first().toBigInt();
    let runs: Array<[bigint, bigint]>;
    if (this.dense) {
      runs = this.dense.freeRuns().map(([a, b]) => [base + BigInt(a), base + BigInt(b)]);
    } else {
      const taken: bigint[] = [];
      for (const e of this.owners.entries()) {
        for (const [hi, lo] of this.offsetsOf(e)) taken.push((BigInt(hi) << 32n) | BigInt(lo));
      }
      runs = this.sparse!.freeRuns(taken).map(([a, b]) => [base + a, base + b]);
    }
    return IPSet.fromRanges(this.family, runs);
  }

  allocatable(): IPSet {
    return this.resolved.allocatable;
  }

  /** Live entries sorted by their first offset. */
  private sortedEntries(): number[] {
    const es = [...this.owners.entries()];
    const { ent } = this;
    return es.sort((a, b) => this.hiOf(a) - this.hiOf(b) || ent[a * 2]! - ent[b * 2]!);
  }

  allocations(): Array<[string, Addr[]]> {
    return this.sortedEntries().map((e) => [this.owners.keyOf(e)!, this.addressesOfEntry(e)]);
  }

  snapshot(): PoolSnapshot {
    const allocations = this.sortedEntries().map((e): readonly [string, string] => {
      const owner = this.owners.keyOf(e)!;
      const s = this.scattered.get(e);
      const list = (offs: ReadonlyArray<readonly [number, number]>) =>
        offs.map(([hi, lo]) => this.addrAt(hi, lo).toString()).join(',');
      if (s) return [owner, list(s)];
      const first = this.addrAt(this.hiOf(e), this.ent[e * 2]!).toString();
      const n = this.ent[e * 2 + 1]! + 1;
      if (n === 1) return [owner, first];
      const offs = this.offsetsOf(e);
      // Restore accepts "a-b" runs up to MAX_BLOCK long (a bound on what a snapshot line may expand to).
      if (n > MAX_BLOCK) return [owner, list(offs)];
      const lastOff = offs[n - 1]!;
      return [owner, `${first}-${this.addrAt(lastOff[0], lastOff[1])}`];
    });
    return { version: 1, pool: this.name, subnet: this.subnet.toString(), allocations };
  }

  memoryBytes(): number {
    const columns = this.startHi.byteLength + this.ent.byteLength;
    return (this.dense?.byteSize() ?? 0) + this.byOffset.byteSize() + this.owners.byteSize() + columns;
  }

  /**
   * Load snapshot allocations into this fresh pool in one pass, collecting every conflict. Callers discard
   * the pool when any conflict is returned, so no half-restored pool ever escapes.
   */
  load(allocations: ReadonlyArray<readonly [string, string]>): SnapshotConflict[] {
    const conflicts: SnapshotConflict[] = [];
    const v4Base = this.family === 4 ? this.b3 : 0;
    const v4Span = this.family === 4 ? this.hostLoMask : 0;
    // [hi, lo] of an address, [-1, -1] when outside the subnet, undefined when it does not parse.
    const parseOne = (text: string): [number, number] | undefined => {
      if (this.family === 4) {
        const v = parseV4Fast(text, 0, text.length);
        if (v < 0) return undefined;
        const off = v - v4Base;
        return off >= 0 && off <= v4Span ? [0, off] : [-1, -1];
      }
      const a = tryParseAddrRange(text, 0, text.length);
      if (a === undefined) return undefined;
      return this.offsetOf(a) ? [this.offHi, this.offLo] : [-1, -1];
    };
    // Owners whose entry was rejected whole: not in this.owners, but a second entry is still a duplicate.
    const rejected = new Set<string>();
    for (let i = 0; i < allocations.length; i++) {
      const item = allocations[i];
      if (
        !Array.isArray(item) ||
        typeof item[0] !== 'string' ||
        item[0] === '' ||
        typeof item[1] !== 'string'
      ) {
        conflicts.push({
          reason: 'invalid-entry',
          message: `allocation #${i} ${show(item)} is not [owner, addresses]`,
        });
        continue;
      }
      const owner: string = item[0];
      const text: string = item[1];
      if (this.owners.find(owner) >= 0 || rejected.has(owner)) {
        conflicts.push({
          reason: 'duplicate-owner',
          owner,
          message: `owner ${show(owner)} appears more than once`,
        });
        continue;
      }
      if (this.dense && this.family === 4) {
        // Fast path for the common entry, one IPv4 address: no intermediate arrays.
        const v = parseV4Fast(text, 0, text.length);
        const off = v - v4Base;
        if (v >= 0 && off >= 0 && off <= v4Span && this.dense.isFree(off)) {
          const ne = this.record(owner, true, 0, off, 1);
          this.dense.take(off);
          this.byOffset.set(0, off, ne);
          continue;
        }
      }
      const offs = this.parseAddresses(text, parseOne);
      if (offs === undefined) {
        conflicts.push({
          reason: 'invalid-entry',
          owner,
          message: `owner ${show(owner)}: ${show(text)} is not an address, run or list`,
        });
        rejected.add(owner);
        continue;
      }
      const good: Array<[number, number]> = [];
      for (const [hi, lo] of offs) {
        const holder = hi < 0 ? -1 : this.holderOf(hi, lo);
        if (holder >= 0) {
          const address = this.addrAt(hi, lo).toString();
          const heldBy = this.owners.keyOf(holder)!;
          conflicts.push({
            reason: 'duplicate-address',
            owner,
            address,
            heldBy,
            message: `address ${address} is claimed by both ${show(heldBy)} and ${show(owner)}`,
          });
        } else if (hi < 0 || !(this.dense ? this.dense.isFree(lo) : this.sparse!.isAllocatable(hi, lo))) {
          const address = hi < 0 ? text : this.addrAt(hi, lo).toString();
          conflicts.push({
            reason: 'out-of-pool',
            owner,
            address,
            message: `owner ${show(owner)}: ${address} is not an allocatable address of pool ${show(this.name)}`,
          });
        } else {
          good.push([hi, lo]);
        }
      }
      if (good.length > 1) {
        good.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
        for (let k = good.length - 1; k > 0; k--) {
          if (good[k]![0] === good[k - 1]![0] && good[k]![1] === good[k - 1]![1]) {
            const address = this.addrAt(good[k]![0], good[k]![1]).toString();
            conflicts.push({
              reason: 'duplicate-address',
              owner,
              address,
              heldBy: owner,
              message: `owner ${show(owner)} lists ${address} twice`,
            });
            good.splice(k, 1);
          }
        }
      }
      if (good.length === 0) {
        rejected.add(owner);
        continue;
      }
      const ne = this.record(owner, true, good[0]![0], good[0]![1], good.length);
      if (!isRun(good)) this.scattered.set(ne, good);
      for (const [hi, lo] of good) {
        if (this.dense) this.dense.take(lo);
        else this.sparse!.countTaken();
        this.byOffset.set(hi, lo, ne);
      }
    }
    return conflicts;
  }

  /** Parse "a", "a-b" or "a,b,c" into offsets ([-1,-1] for an address outside the subnet). */
  private parseAddresses(
    text: string,
    parseOne: (t: string) => [number, number] | undefined,
  ): Array<[number, number]> | undefined {
    if (text.includes(',')) {
      const out: Array<[number, number]> = [];
      for (const part of text.split(',')) {
        const o = parseOne(part);
        if (o === undefined) return undefined;
        out.push(o);
      }
      return out;
    }
    const dash = text.indexOf('-');
    if (dash < 0) {
      const o = parseOne(text);
      return o === undefined ? undefined : [o];
    }
    const a = parseOne(text.slice(0, dash));
    const b = parseOne(text.slice(dash + 1));
    if (a === undefined || b === undefined) return undefined;
    if (a[0] < 0 || b[0] < 0) return [a[0] < 0 ? a : b];
    const from = (BigInt(a[0]) << 32n) | BigInt(a[1]);
    const to = (BigInt(b[0]) << 32n) | BigInt(b[1]);
    if (to < from || to - from >= BigInt(MAX_BLOCK)) return undefined;
    const out: Array<[number, number]> = [];
    for (let v = from; v <= to; v++) out.push([Number(v >> 32n), Number(v & 0xffff_ffffn)]);
    return out;
  }
}

/** Options for createPool. */
export interface CreatePoolOptions {
  /** Expected number of owners, to size the indexes up front. */
  readonly expectedOwners?: number;
}

/**
 * Create an empty pool from a spec. Throws IpamError INVALID_POOL_SPEC (naming the pool, field and value)
 * for a bad subnet, an address/range outside the subnet, or a gateway outside the subnet.
 */
export function createPool(spec: PoolSpec, options?: CreatePoolOptions): Pool {
  return new PoolImpl(resolvePoolSpec(spec), options?.expectedOwners);
}

function checkSnapshotShape(snapshot: unknown): asserts snapshot is PoolSnapshot {
  const s = snapshot as PoolSnapshot | null;
  if (typeof s !== 'object' || s === null || s.version !== 1 || !Array.isArray(s.allocations)) {
    throw new IpamError(
      'INVALID_ARGUMENT',
      'snapshot must be { version: 1, pool, subnet, allocations: [...] }',
      {
        value: typeof s === 'object' && s !== null ? { version: s.version } : s,
      },
    );
  }
}

function conflictError(pool: string, conflicts: readonly SnapshotConflict[]): IpamError {
  const head = conflicts
    .slice(0, 5)
    .map((c) => c.message)
    .join('; ');
  const more = conflicts.length > 5 ? `; and ${conflicts.length - 5} more` : '';
  return new IpamError(
    'SNAPSHOT_CONFLICT',
    `cannot restore pool ${show(pool)}: ${conflicts.length} conflict(s): ${head}${more}`,
    { pool, conflicts },
  );
}

/**
 * Rebuild a pool from its spec and a snapshot. Every conflict (an owner twice, an address claimed twice, an
 * address not allocatable under this spec, a malformed entry) is reported in one IpamError SNAPSHOT_CONFLICT
 * whose `details.conflicts` lists them all; no pool is returned then.
 */
export function restorePool(spec: PoolSpec, snapshot: PoolSnapshot): Pool {
  checkSnapshotShape(snapshot);
  const resolved = resolvePoolSpec(spec);
  const pool = new PoolImpl(resolved, snapshot.allocations.length);
  const conflicts = pool.load(snapshot.allocations);
  if (snapshot.pool !== resolved.name) {
    conflicts.unshift({
      reason: 'pool-name',
      message: `snapshot is of pool ${show(snapshot.pool)}, not ${show(resolved.name)}`,
    });
  }
  if (conflicts.length > 0) throw conflictError(resolved.name, conflicts);
  return pool;
}

/**
 * The pool under a new spec, with every allocation kept. Refused with IpamError ADDRESSES_STILL_IN_USE
 * (listing each address and its owner) when the new spec no longer allows addresses that are in use.
 * The original pool is never changed.
 */
export function updatePool(pool: Pool, newSpec: PoolSpec): Pool {
  const resolved = resolvePoolSpec(newSpec);
  const next = new PoolImpl(resolved, pool.stats().owners);
  const snap = pool.snapshot();
  const conflicts = next.load(snap.allocations);
  if (conflicts.length > 0) {
    const inUse: Array<{ address: string; owner: string }> = [];
    for (const [owner, addrs] of pool.allocations()) {
      for (const a of addrs)
        if (!resolved.allocatable.contains(a)) inUse.push({ address: a.toString(), owner });
    }
    const list = inUse.map((u) => `${u.address} (${u.owner})`);
    throw new IpamError(
      'ADDRESSES_STILL_IN_USE',
      `pool ${show(resolved.name)}: the new spec removes ${inUse.length} address(es) still in use: ${list.slice(0, 20).join(', ')}${list.length > 20 ? ', ...' : ''}`,
      { pool: resolved.name, addresses: inUse },
    );
  }
  return next;
}

/** A pair of pools whose allocatable addresses overlap. */
export interface PoolOverlap {
  readonly a: string;
  readonly b: string;
  readonly overlap: IPSet;
}

/**
 * Every pair of pools whose allocatable addresses (after ips, excludeIPs, reservedIPs and the gateway)
 * overlap; empty when none do. Sweeps sorted ranges, so disjoint pools cost no pairwise work.
 */
export function checkPoolOverlap(specs: readonly PoolSpec[]): PoolOverlap[] {
  const resolved = specs.map(resolvePoolSpec);
  const events: Array<{ from: bigint; to: bigint; pool: number; family: Family }> = [];
  resolved.forEach((r, pool) => {
    for (const family of [4, 6] as const) {
      for (const [from, to] of r.allocatable.rangesOf(family)) events.push({ from, to, pool, family });
    }
  });
  events.sort((x, y) => x.family - y.family || (x.from < y.from ? -1 : x.from > y.from ? 1 : 0));
  const pairs = new Set<string>();
  let active: typeof events = [];
  for (const ev of events) {
    active = active.filter((a) => a.family === ev.family && a.to >= ev.from);
    for (const a of active) {
      if (a.pool !== ev.pool) pairs.add(a.pool < ev.pool ? `${a.pool},${ev.pool}` : `${ev.pool},${a.pool}`);
    }
    active.push(ev);
  }
  return [...pairs]
    .map((k) => k.split(',').map(Number) as [number, number])
    .sort((x, y) => x[0] - y[0] || x[1] - y[1])
    .map(([i, j]) => ({
      a: resolved[i]!.name,
      b: resolved[j]!.name,
      overlap: resolved[i]!.allocatable.intersection(resolved[j]!.allocatable),
    }));
}
