import { describe, expect, it } from 'vitest';
import { AgentError } from './errors';
import { nftFamily, tableFingerprint, tablesNamed } from './nft';

const tables = {
  nftables: [
    { metainfo: { version: '1.0.6', json_schema_version: 1 } },
    { table: { family: 'ip', name: 'isthmus-globalnet', handle: 7 } },
    { table: { family: 'inet', name: 'isthmus-globalnet', handle: 8 } },
    { table: { family: 'ip6', name: 'isthmus-globalnet', handle: 9 } },
    { table: { family: 'ip', name: 'kube-proxy', handle: 3 } },
  ],
};

describe('nft listings', () => {
  it("tablesNamed finds isthmus's tables in the ip and ip6 families only", () => {
    expect(tablesNamed(tables)).toEqual(['ip', 'ip6']);
    expect(tablesNamed({ nftables: [] })).toEqual([]);
  });

  it('tableFingerprint ignores handles and metainfo, and sees any other change', () => {
    const a = {
      nftables: [
        { metainfo: { version: '1' } },
        { table: { family: 'ip', name: 't', handle: 1 } },
        { set: { name: 's', handle: 4, elem: ['10.0.0.1'] } },
      ],
    };
    const b = {
      nftables: [
        { metainfo: { version: '2' } },
        { table: { family: 'ip', name: 't', handle: 9 } },
        { set: { name: 's', handle: 11, elem: ['10.0.0.1'] } },
      ],
    };
    const c = {
      nftables: [
        { table: { family: 'ip', name: 't', handle: 9 } },
        { set: { name: 's', handle: 11, elem: ['10.0.0.2'] } },
      ],
    };
    expect(tableFingerprint(a)).toBe(tableFingerprint(b));
    expect(tableFingerprint(a)).not.toBe(tableFingerprint(c));
  });

  it('rejects output that is not nft JSON with PARSE_ERROR', () => {
    for (const bad of [null, [], { tables: [] }, 'x']) {
      let err: unknown;
      try {
        tablesNamed(bad);
      } catch (e) {
        err = e;
      }
      expect(AgentError.isInstance(err) && err.code).toBe('PARSE_ERROR');
    }
  });

  it('nftFamily maps address families', () => {
    expect([nftFamily(4), nftFamily(6)]).toEqual(['ip', 'ip6']);
  });
});
