// Model-based tests of the Globalnet allocator: random command sequences run against a real allocator and
// a naive model (owner -> addresses, every address of the global CIDR checked one by one).
import { parseAddr, parsePrefix } from '@isthmus/ipam';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GlobalnetError } from './errors';
import { createGlobalnet, type Globalnet, restoreGlobalnet } from './globalnet';
import type { EgressScope, IngressTarget } from './owners';

type Cmd =
  | { op: 'ingress'; target: IngressTarget }
  | { op: 'release-ingress'; target: IngressTarget }
  | { op: 'egress'; scope: EgressScope; n: number }
  | { op: 'release-egress'; scope: EgressScope }
  | { op: 'health'; gw: string }
  | { op: 'snapshot-restore' };

const ns = fc.constantFrom('a', 'b', 'c');
const target: fc.Arbitrary<IngressTarget> = fc.oneof(
  fc.record({
    kind: fc.constant('service' as const),
    namespace: ns,
    name: fc.constantFrom('s1', 's2', 's3'),
  }),
  fc.record({ kind: fc.constant('pod' as const), namespace: ns, name: fc.constantFrom('p1', 'p2') }),
  fc.record({
    kind: fc.constant('endpoint' as const),
    namespace: ns,
    service: fc.constant('e'),
    address: fc.constantFrom('192.0.2.1', '192.0.2.2'),
  }),
);
const scope: fc.Arbitrary<EgressScope> = fc.oneof(
  fc.constant({ kind: 'cluster' as const }),
  fc.record({ kind: fc.constant('namespace' as const), namespace: ns }),
  fc.record({
    kind: fc.constant('pods' as const),
    namespace: ns,
    name: fc.constantFrom('x', 'y'),
    selector: fc.constantFrom({}, { matchLabels: { app: 'db' } }),
  }),
);
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('ingress' as const), target }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('release-ingress' as const), target }) },
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('egress' as const), scope, n: fc.integer({ min: 0, max: 22 }) }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('release-egress' as const), scope }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('health' as const), gw: fc.constantFrom('g1', 'g2') }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'snapshot-restore' as const }) },
);

function apply(gn: Globalnet, c: Cmd): unknown {
  try {
    switch (c.op) {
      case 'ingress':
        return gn.allocateIngress(c.target);
      case 'release-ingress':
        return gn.releaseIngress(c.target);
      case 'egress':
        return gn.allocateEgress(c.scope, c.n);
      case 'release-egress':
        return gn.releaseEgress(c.scope);
      case 'health':
        return gn.allocateHealthCheck(c.gw);
      default:
        return undefined;
    }
  } catch (e) {
    if (!GlobalnetError.isInstance(e)) throw e;
    return `error:${e.code}`;
  }
}

const CIDR = '242.0.0.0/26'; // 62 addresses: small enough to run out

function everyOwner(gn: Globalnet): Map<string, string> {
  const holder = new Map<string, string>();
  const all = [
    ...gn.ingress().map((i) => [i.owner, [i.globalIp]] as const),
    ...gn.egress().map((e) => [e.owner, e.globalIps] as const),
    ...gn.healthChecks().map((h) => [h.owner, [h.globalIp]] as const),
  ];
  for (const [owner, ips] of all) {
    for (const ip of ips) {
      expect(holder.has(ip), `${ip} held by ${holder.get(ip)} and ${owner}`).toBe(false);
      holder.set(ip, owner);
    }
  }
  return holder;
}

describe('Globalnet model', () => {
  it('no global IP has two owners, every IP is in the global CIDR, and failed calls change nothing', () => {
    fc.assert(
      fc.property(fc.array(cmd, { maxLength: 80 }), (cmds) => {
        let gn = createGlobalnet({ globalCidr: CIDR });
        const cidr = parsePrefix(CIDR);
        for (const c of cmds) {
          if (c.op === 'snapshot-restore') {
            gn = restoreGlobalnet(gn.spec, JSON.parse(JSON.stringify(gn.snapshot())));
            continue;
          }
          const before = JSON.stringify(gn.snapshot());
          const r = apply(gn, c);
          if (typeof r === 'string' && r.startsWith('error:'))
            expect(JSON.stringify(gn.snapshot())).toBe(before);
          const holder = everyOwner(gn);
          for (const [ip, owner] of holder) {
            const a = parseAddr(ip);
            expect(cidr.contains(a) && !a.equals(cidr.first()) && !a.equals(cidr.last())).toBe(true);
            expect(gn.ownerOf(ip)).toBe(owner);
          }
          expect(gn.stats().allocated).toBe(holder.size);
          // Egress blocks are contiguous and of a size from 1 to 20.
          for (const e of gn.egress()) {
            expect(e.globalIps.length).toBeGreaterThanOrEqual(1);
            expect(e.globalIps.length).toBeLessThanOrEqual(20);
            for (let i = 1; i < e.globalIps.length; i++) {
              expect(
                parseAddr(e.globalIps[i - 1]!)
                  .next()!
                  .toString(),
              ).toBe(e.globalIps[i]);
            }
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it('restore(snapshot) behaves exactly like the original for every following command', () => {
    fc.assert(
      fc.property(fc.array(cmd, { maxLength: 50 }), fc.array(cmd, { maxLength: 50 }), (prefix, suffix) => {
        const gn = createGlobalnet({ globalCidr: CIDR });
        for (const c of prefix) apply(gn, c);
        const copy = restoreGlobalnet({ globalCidr: CIDR }, JSON.parse(JSON.stringify(gn.snapshot())));
        expect(copy.snapshot()).toEqual(gn.snapshot());
        for (const c of suffix) {
          expect(apply(copy, c)).toEqual(apply(gn, c));
          expect(copy.stats()).toEqual(gn.stats());
        }
        expect(copy.snapshot()).toEqual(gn.snapshot());
        expect(copy.egress()).toEqual(gn.egress());
      }),
      { numRuns: 150 },
    );
  });

  it('a snapshot with an address claimed twice is refused, so nothing is handed out twice', () => {
    fc.assert(
      fc.property(fc.array(cmd, { minLength: 1, maxLength: 30 }), fc.nat(), (cmds, pick) => {
        const gn = createGlobalnet({ globalCidr: CIDR });
        for (const c of cmds) apply(gn, c);
        const snap = gn.snapshot();
        if (snap.allocations.length === 0) return;
        const [, addrs] = snap.allocations[pick % snap.allocations.length]!;
        const first = addrs.split(/[-,]/)[0]!;
        const bad = { ...snap, allocations: [...snap.allocations, ['svc/zz/dup', first] as const] };
        let err: unknown;
        try {
          restoreGlobalnet({ globalCidr: CIDR }, bad);
        } catch (e) {
          err = e;
        }
        expect(GlobalnetError.isInstance(err) && err.code).toBe('SNAPSHOT_CONFLICT');
      }),
      { numRuns: 100 },
    );
  });
});
