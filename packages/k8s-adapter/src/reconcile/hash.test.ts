import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, specHash } from './hash';

describe('specHash', () => {
  it('ignores key order and undefined members, and differs when a value differs', () => {
    expect(canonicalJson({ b: 1, a: [1, { d: 2, c: undefined }] })).toBe('{"a":[1,{"d":2}],"b":1}');
    expect(specHash({ a: 1, b: 2 })).toBe(specHash({ b: 2, a: 1 }));
    expect(specHash({ a: 1 })).not.toBe(specHash({ a: 2 }));
    expect(specHash({})).toMatch(/^[0-9a-f]{16}$/);
  });

  it('equal JSON values hash equal; different canonical texts (almost surely) hash differently', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        expect(specHash(a)).toBe(specHash(JSON.parse(JSON.stringify(a))));
        if (canonicalJson(a) !== canonicalJson(b)) expect(specHash(a)).not.toBe(specHash(b));
      }),
    );
  });

  it('matches FNV-1a 64 test vectors', () => {
    // canonicalJson('a') is '"a"'; the vectors below are of the raw strings, checked through a string input.
    const fnv = (s: string) => {
      let h = 0xcbf29ce484222325n;
      for (const ch of s) h = ((h ^ BigInt(ch.charCodeAt(0))) * 0x100000001b3n) & 0xffffffffffffffffn;
      return h.toString(16).padStart(16, '0');
    };
    for (const v of ['', 'a', { x: [1, 2, 'é'] }, 'foobar']) expect(specHash(v)).toBe(fnv(canonicalJson(v)));
  });
});
