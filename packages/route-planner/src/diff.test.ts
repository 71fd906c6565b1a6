import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyDiff, diffPlan, diffSize, isEmptyDiff } from './diff';
import { planNode } from './node-plan';
import { parseIpJson, scopeToPlan } from './parse';
import { canonicalPlan, emptyPlan, type Plan, type Route } from './plan';
import { planPodRoutes } from './pod';
import { renderIpBatch } from './render';
import { arbTopology, ModelKernel } from './test-support';
import { createTopologyState } from './topology';

const octet = fc.integer({ min: 0, max: 255 });
const arbRoute = fc.record({
  family: fc.constant(4 as const),
  table: fc.constantFrom(100, 101, 254),
  dst: fc.oneof(
    fc.constant('default'),
    octet.map((o) => `10.${o}.0.0/16`),
  ),
  via: fc.option(
    octet.map((o) => `192.0.2.${o}`),
    { nil: undefined },
  ),
  dev: fc.constantFrom('eth0', 'net1', 'vx-a'),
  metric: fc.option(fc.constantFrom(0, 100), { nil: undefined }),
});
const arbPlan: fc.Arbitrary<Plan> = fc
  .record({
    routes: fc.array(arbRoute, { maxLength: 12 }),
    rules: fc.array(
      fc.record({
        family: fc.constant(4 as const),
        priority: fc.constantFrom(100, 1000),
        from: octet.map((o) => `10.9.${o}.1/32`),
        table: fc.constantFrom(100, 101),
      }),
      { maxLength: 4 },
    ),
    neighbours: fc.array(
      fc.record({
        dev: fc.constantFrom('vx-a', 'eth0'),
        dst: octet.map((o) => `240.0.0.${o}`),
        lladdr: octet.map((o) => `0e:fe:f0:00:00:${o.toString(16).padStart(2, '0')}`),
        permanent: fc.constant(true),
      }),
      { maxLength: 4 },
    ),
    fdb: fc.array(
      fc.record({
        dev: fc.constant('vx-a'),
        lladdr: fc.constantFrom('00:00:00:00:00:00', '0e:fe:f0:00:00:01'),
        dst: octet.map((o) => `198.18.0.${o}`),
      }),
      {
        maxLength: 4,
      },
    ),
    mtu: fc.constantFrom(1450, 1400),
    vni: fc.constantFrom(1, 2),
  })
  .map(({ routes, rules, neighbours, fdb, mtu, vni }) => {
    // Keep one entry per identity (the generator may draw two with one key).
    const uniq = <T>(xs: T[], k: (x: T) => string) => [...new Map(xs.map((x) => [k(x), x])).values()];
    return canonicalPlan({
      devices: [
        {
          kind: 'vxlan',
          name: 'vx-a',
          vni,
          port: 4789,
          local: '198.18.0.1',
          learning: false,
          mtu,
          mac: '0e:00:00:00:00:01',
        },
      ],
      // JSON round trip drops the undefined fields the generator leaves.
      routes: JSON.parse(
        JSON.stringify(uniq(routes, (r) => `${r.table}|${r.dst}|${r.metric ?? 0}`)),
      ) as Route[],
      rules: uniq(rules, (r) => `${r.priority}|${r.from}`),
      neighbours: uniq(neighbours, (n) => `${n.dev}|${n.dst}`),
      fdb,
    });
  });

describe('diffPlan', () => {
  it('applying diffPlan(a, b) to a yields b', () => {
    fc.assert(
      fc.property(arbPlan, arbPlan, (a, b) => {
        expect(applyDiff(a, diffPlan(a, b))).toEqual(b);
      }),
    );
  });

  it('a plan diffed with itself is empty, and the diff never touches equal entries', () => {
    fc.assert(
      fc.property(arbPlan, arbPlan, (a, b) => {
        expect(isEmptyDiff(diffPlan(a, a))).toBe(true);
        const d = diffPlan(a, b);
        const same = a.routes.filter((r) => b.routes.some((s) => JSON.stringify(s) === JSON.stringify(r)));
        // Unless the VXLAN device is recreated (which drops what is on it), equal entries are left alone.
        if (JSON.stringify(a.devices) !== JSON.stringify(b.devices)) return;
        const touched = [...d.delete.routes, ...d.add.routes, ...d.replace.routes].map((x) =>
          JSON.stringify(x),
        );
        for (const r of same) expect(touched).not.toContain(JSON.stringify(r));
      }),
    );
  });

  it('a changed nexthop is one replace; a recreated VXLAN device re-adds the entries on it', () => {
    const a = canonicalPlan({
      routes: [{ family: 4, table: 150, dst: '10.1.0.0/16', via: '240.0.0.1', dev: 'vx', onlink: true }],
    });
    const b = canonicalPlan({
      routes: [{ family: 4, table: 150, dst: '10.1.0.0/16', via: '240.0.0.2', dev: 'vx', onlink: true }],
    });
    const d = diffPlan(a, b);
    expect(diffSize(d)).toBe(1);
    expect(d.replace.routes).toEqual(b.routes);
    expect(renderIpBatch(d)[0]!.input).toBe(
      'route replace 10.1.0.0/16 via 240.0.0.2 dev vx onlink table 150\n',
    );
  });
});

describe('render and parse', () => {
  it('parse(render(plan)) round-trips node plans through a model kernel', () => {
    fc.assert(
      fc.property(arbTopology, (t) => {
        const state = createTopologyState(t);
        for (const n of state.nodeNames().slice(0, 3)) {
          const { plan } = planNode(state, n);
          const k = new ModelKernel();
          for (const step of renderIpBatch(plan)) k.run(step);
          expect(parseIpJson(k.json())).toEqual(plan);
        }
      }),
    );
  });

  it('parse(render(plan)) round-trips generated plans', () => {
    fc.assert(
      fc.property(arbPlan, (a) => {
        const k = new ModelKernel();
        for (const step of renderIpBatch(a)) k.run(step);
        expect(parseIpJson(k.json())).toEqual(a);
      }),
    );
  });

  it('parse(render(plan)) round-trips a dual-stack pod plan (host side with its veth)', () => {
    const p = planPodRoutes({
      nics: [
        {
          name: 'eth0',
          addresses: ['192.0.2.10/24', '2001:db8::10/64'],
          routes: [
            { dst: 'default', via: '192.0.2.1' },
            { dst: 'default', via: '2001:db8::1' },
          ],
        },
        {
          name: 'net1',
          addresses: ['198.18.10.5/24', '2001:db8:1::5/64'],
          routes: [
            { dst: 'default', via: '198.18.10.1' },
            { dst: 'default', via: '2001:db8:1::1' },
          ],
        },
      ],
      nodeIPs: ['198.18.0.1', '2001:db8:ff::1'],
      clusterPodCIDRs: ['10.233.64.0/18', 'fd00:10::/64'],
    });
    for (const plan of [p.host, p.pod]) {
      const k = new ModelKernel();
      for (const step of renderIpBatch(plan, { peerNetns: 'pod' })) k.run(step);
      expect(scopeToPlan(parseIpJson(k.json()), plan)).toEqual({ ...plan, mangle: [] });
    }
    expect(renderIpBatch(p.pod).map((s) => s.args.join(' '))).toEqual(['-batch -', '-6 -batch -']);
  });

  it('a new node IP: the link route is added before the routes that replace their gateway with it', () => {
    const pod = (nodeIP: string) =>
      planPodRoutes({
        nics: [{ name: 'eth0', addresses: ['10.6.0.5/24'], routes: [{ dst: 'default', via: '10.6.0.1' }] }],
        nodeIPs: [nodeIP],
        clusterPodCIDRs: ['10.233.64.0/18'],
        mode: 'overlay',
      }).pod;
    const lines = renderIpBatch(diffPlan(pod('192.0.2.10'), pod('192.0.2.11')))[0]!.input.split('\n');
    // The kernel rejects `via 192.0.2.11` ("Nexthop has invalid gateway") until 192.0.2.11/32 is on the link.
    expect(lines.indexOf('route add 192.0.2.11/32 dev eth0 scope link table 254')).toBeLessThan(
      lines.indexOf('route replace 10.233.64.0/18 via 192.0.2.11 dev eth0 table 254'),
    );
  });

  it('deletes an IPv6 route at the default metric by naming metric 1024 (else the kernel takes the first)', () => {
    const r6 = (metric?: number): Route => ({
      family: 6,
      table: 254,
      dst: 'default',
      dev: 'eth0',
      ...(metric !== undefined && { metric }),
    });
    const d = diffPlan(canonicalPlan({ routes: [r6(), r6(100)] }), canonicalPlan({ routes: [r6(100)] }));
    expect(renderIpBatch(d)).toEqual([
      { tool: 'ip', args: ['-6', '-batch', '-'], input: 'route del default metric 1024 table 254\n' },
    ]);
  });

  it('renders an empty plan as no steps', () => {
    expect(renderIpBatch(emptyPlan())).toEqual([]);
  });
});
