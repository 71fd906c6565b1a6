// Short, stable names for kernel objects: ipset names are limited to 31 characters, so owner keys
// (a namespace name alone may be 63) are hashed.

/** 53-bit string hash (cyrb53): fast, well mixed, stable across runs and platforms. */
function hash53(text: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** `<prefix>-<11 base-36 digits>` for an owner key, at most 31 characters for prefixes up to 19. */
export function objectName(prefix: string, key: string): string {
  return `${prefix}-${hash53(key).toString(36).padStart(11, '0')}`;
}
