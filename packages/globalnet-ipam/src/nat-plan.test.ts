import { matchesSelector } from '@isthmus/ipam';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createGlobalnet } from './globalnet';
import { diffNat } from './nat-diff';
import { type GlobalnetNatInput, type PodInfo, planGlobalnetNat } from './nat-plan';
import { renderIptables } from './render-iptables';
import { renderNft } from './render-nft';
import { frozen, thrown } from './test-support';

function cluster() {
  const gn = createGlobalnet({ globalCidr: '242.0.0.0/16' });
  gn.allocateEgress({ kind: 'cluster' }); // 242.0.0.1-242.0.0.8
  gn.allocateEgress({ kind: 'namespace', namespace: 'shop' }, 2); // .9-.10
  gn.allocateEgress({
    kind: 'pods',
    namespace: 'shop',
    name: 'db',
    selector: { matchLabels: { app: 'db' } },
  }); // .11
  gn.allocateIngress({ kind: 'service', namespace: 'shop', name: 'web' }); // .12
  gn.allocateIngress({ kind: 'pod', namespace: 'shop', name: 'cache-0' }); // .13
  gn.allocateIngress({ kind: 'endpoint', namespace: 'ext', service: 'legacy', address: '10.0.9.9' }); // .14
  gn.allocateHealthCheck('gw-1'); // .15
  return gn;
}

const pods: PodInfo[] = [
  { namespace: 'shop', name: 'db-0', labels: { app: 'db' }, ips: ['10.0.1.5', 'fd00::5'] },
  { namespace: 'shop', name: 'web-1', labels: { app: 'web' }, ips: ['10.0.1.6'] },
  { namespace: 'shop', name: 'cache-0', labels: { app: 'cache' }, ips: ['10.0.1.7'] },
  { namespace: 'other', name: 'x', ips: ['10.0.2.8'] },
  { namespace: 'shop', name: 'pending', ips: [] },
];

function input(): GlobalnetNatInput {
  const gn = cluster();
  return {
    globalCidr: gn.globalCidr,
    localCidrs: ['100.0.0.0/16', '10.0.0.0/16'],
    remoteGlobalCidrs: ['242.1.0.0/16'],
    egress: gn.egress(),
    ingress: gn.ingress().map((i) => (i.target.kind === 'service' ? { ...i, ip: '100.0.0.10' } : i)),
    healthChecks: gn.healthChecks().map((h) => ({ ...h, cniIp: '10.0.0.1' })),
    pods,
  };
}

describe('planGlobalnetNat', () => {
  it('marks, translates by the most specific scope, and DNATs ingress and health checks', () => {
    const plan = planGlobalnetNat(frozen(input()));
    expect(plan.localCidrs).toEqual(['10.0.0.0/16', '100.0.0.0/16']);
    expect(plan.ingress).toEqual([
      { globalIp: '242.0.0.12', to: '100.0.0.10', owner: 'svc/shop/web', kind: 'service' },
      { globalIp: '242.0.0.13', to: '10.0.1.7', owner: 'pod/shop/cache-0', kind: 'pod' },
      { globalIp: '242.0.0.14', to: '10.0.9.9', owner: 'ep/ext/legacy/10.0.9.9', kind: 'endpoint' },
    ]);
    expect(plan.healthChecks).toEqual([{ globalIp: '242.0.0.15', to: '10.0.0.1', owner: 'hc/gw-1' }]);
    expect(plan.egress.pods.map((s) => [s.owner, s.to, s.elements])).toEqual([
      ['egress/pods/shop/db', '242.0.0.11', ['10.0.1.5']],
    ]);
    expect(plan.egress.headlessPods).toEqual([
      { source: '10.0.1.7', to: '242.0.0.13', owner: 'pod/shop/cache-0' },
    ]);
    expect(plan.egress.headlessEndpoints).toEqual([
      { source: '10.0.9.9', to: '242.0.0.14', owner: 'ep/ext/legacy/10.0.9.9' },
    ]);
    expect(plan.egress.namespaces.map((s) => [s.owner, s.to, s.elements])).toEqual([
      ['egress/ns/shop', '242.0.0.9-242.0.0.10', ['10.0.1.6']],
    ]);
    expect(plan.egress.cluster).toEqual([
      { source: '10.0.0.0/16', to: '242.0.0.1-242.0.0.8', owner: 'egress/cluster' },
      { source: '100.0.0.0/16', to: '242.0.0.1-242.0.0.8', owner: 'egress/cluster' },
    ]);
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
  });

  it('renders the Submariner chain layout with the rules the issue gives', () => {
    const r = renderIptables(planGlobalnetNat(input()));
    expect(r.tool).toBe('iptables-restore');
    const lines = r.restore.split('\n');
    expect(lines).toContain(
      '-A SM-GN-EGRESS-CLUSTER -p all -s 10.0.0.0/16 -m mark --mark 0xC0000/0xC0000 -j SNAT --to-source 242.0.0.1-242.0.0.8',
    );
    expect(lines).toContain(
      '-A SM-GN-EGRESS-CLUSTER -p all -s 100.0.0.0/16 -m mark --mark 0xC0000/0xC0000 -j SNAT --to-source 242.0.0.1-242.0.0.8',
    );
    expect(lines.filter((l) => l.startsWith('-A SUBMARINER-GN-EGRESS '))).toEqual([
      '-A SUBMARINER-GN-EGRESS -j SUBMARINER-GN-MARK',
      '-A SUBMARINER-GN-EGRESS -j SM-GN-EGRESS-PODS',
      '-A SUBMARINER-GN-EGRESS -j SM-GN-EGRESS-HDLS-PODS',
      '-A SUBMARINER-GN-EGRESS -j SM-GN-EGRESS-HDLS-EPS',
      '-A SUBMARINER-GN-EGRESS -j SM-GN-EGRESS-NS',
      '-A SUBMARINER-GN-EGRESS -j SM-GN-EGRESS-CLUSTER',
    ]);
    expect(lines).toContain('-A SUBMARINER-POSTROUTING -j SUBMARINER-GN-EGRESS');
    expect(lines).toContain('-A SUBMARINER-GN-MARK -d 242.1.0.0/16 -j MARK --set-xmark 0xC0000/0xC0000');
    expect(lines).toContain(
      '-A SUBMARINER-GN-INGRESS -d 242.0.0.15 -p icmp -j DNAT --to-destination 10.0.0.1',
    );
    expect(lines).toContain('-A SUBMARINER-GN-INGRESS -d 242.0.0.12 -j DNAT --to-destination 100.0.0.10');
    expect(lines).toContain(
      '-A SM-GN-EGRESS-HDLS-PODS -p all -s 10.0.1.7 -m mark --mark 0xC0000/0xC0000 -j SNAT --to-source 242.0.0.13',
    );
    const ns = lines.find((l) => l.startsWith('-A SM-GN-EGRESS-NS'))!;
    const set = /--match-set (\S+) src/.exec(ns)![1]!;
    expect(set.length).toBeLessThanOrEqual(31);
    expect(r.ipsetRestore).toContain(
      `create ${set} hash:ip family inet maxelem 65536 -exist\nflush ${set}\nadd ${set} 10.0.1.6\n`,
    );
    expect(r.hooks).toEqual([
      ['-I', 'PREROUTING', '-j', 'SUBMARINER-GN-INGRESS'],
      ['-I', 'POSTROUTING', '-j', 'SUBMARINER-POSTROUTING'],
    ]);
  });

  it('renders nft with its own table, sets, maps and chains at the NAT hooks', () => {
    const text = renderNft(planGlobalnetNat(input()));
    expect(
      text.startsWith(
        'table ip isthmus-globalnet\ndelete table ip isthmus-globalnet\ntable ip isthmus-globalnet {\n',
      ),
    ).toBe(true);
    expect(text).toContain('type nat hook prerouting priority dstnat - 1; policy accept;');
    expect(text).toContain('type nat hook postrouting priority srcnat - 1; policy accept;');
    expect(text).toContain('ip daddr 242.0.0.15 ip protocol icmp dnat to 10.0.0.1');
    expect(text).toContain('242.0.0.12 : 100.0.0.10');
    expect(text).toContain('ip saddr 10.0.0.0/16 snat to 242.0.0.1-242.0.0.8');
    expect(text).toContain('ip daddr @remote-globals meta mark set meta mark | 0x000c0000');
    expect(renderNft(planGlobalnetNat(input()), { table: 'other' })).toContain('table ip other {');
    thrown(() => renderNft(planGlobalnetNat(input()), { table: 'bad name' }), 'INVALID_ARGUMENT');
  });

  it('plans IPv6 from an IPv6 global CIDR and ignores IPv4 pod IPs', () => {
    const gn = createGlobalnet({ globalCidr: 'fd00:242::/64' });
    gn.allocateEgress({ kind: 'namespace', namespace: 'shop' }, 2);
    gn.allocateHealthCheck('gw');
    const plan = planGlobalnetNat({
      globalCidr: gn.globalCidr,
      localCidrs: ['fd00::/64'],
      remoteGlobalCidrs: ['fd00:243::/64'],
      egress: gn.egress(),
      ingress: [],
      healthChecks: gn.healthChecks().map((h) => ({ ...h, cniIp: 'fd00::1' })),
      pods,
    });
    expect(plan.family).toBe(6);
    expect(plan.egress.namespaces[0]!.elements).toEqual(['fd00::5']);
    expect(plan.egress.namespaces[0]!.to).toBe('fd00:242::1-fd00:242::2');
    const text = renderNft(plan);
    expect(text).toContain('table ip6 isthmus-globalnet {');
    expect(text).toContain('ip6 daddr fd00:242::3 meta l4proto ipv6-icmp dnat to fd00::1');
    expect(renderIptables(plan).tool).toBe('ip6tables-restore');
    expect(renderIptables(plan).ipsetRestore).toContain('family inet6');
  });

  it('rejects bad input with typed errors naming the value', () => {
    const base = input();
    thrown(() => planGlobalnetNat({ ...base, localCidrs: ['fd00::/64'] }), 'FAMILY_MISMATCH');
    thrown(() => planGlobalnetNat({ ...base, remoteGlobalCidrs: ['242.0.0.0/8'] }), 'INVALID_NAT_INPUT');
    const svcNoIp = base.ingress.map(({ ip: _, ...i }) => i);
    thrown(
      () => planGlobalnetNat({ ...base, ingress: svcNoIp.filter((i) => i.target.kind === 'service') }),
      'INVALID_NAT_INPUT',
    );
    thrown(
      () =>
        planGlobalnetNat({ ...base, pods: [...pods, { namespace: 'z', name: 'dup', ips: ['10.0.1.5'] }] }),
      'INVALID_NAT_INPUT',
    );
    thrown(
      () => planGlobalnetNat({ ...base, pods: [{ namespace: 'z', name: 'p', ips: ['10.0.1.500'] }] }),
      'INVALID_ADDRESS',
    );
    const badSel = base.egress.map((e) =>
      e.scope.kind === 'pods'
        ? { ...e, scope: { ...e.scope, selector: { matchLabels: { 'bad key!': 'x' } } } }
        : e,
    );
    thrown(() => planGlobalnetNat({ ...base, egress: badSel }), 'INVALID_SELECTOR');
    const outside = base.egress.map((e) =>
      e.scope.kind === 'cluster' ? { ...e, globalIps: ['242.9.0.1'] } : e,
    );
    thrown(() => planGlobalnetNat({ ...base, egress: outside }), 'INVALID_NAT_INPUT');
    const twice = [
      ...base.ingress,
      { ...base.ingress[0]!, target: { kind: 'service' as const, namespace: 'q', name: 'q' } },
    ];
    thrown(() => planGlobalnetNat({ ...base, ingress: twice }), 'INVALID_NAT_INPUT');
  });

  it('rejects an owner listed twice or not matching its target, instead of planning both or the last', () => {
    const base = input();
    const cluster = base.egress.find((e) => e.scope.kind === 'cluster')!;
    const podScope = base.egress.find((e) => e.scope.kind === 'pods')!;
    for (const extra of [
      { ...cluster, globalIps: ['242.0.0.200'] },
      { ...podScope, globalIps: ['242.0.0.200'] },
    ]) {
      const e = thrown(
        () => planGlobalnetNat({ ...base, egress: [...base.egress, extra] }),
        'INVALID_NAT_INPUT',
      );
      expect(e.message).toContain(extra.owner);
    }
    const svc = base.ingress.find((i) => i.target.kind === 'service')!;
    thrown(
      () => planGlobalnetNat({ ...base, ingress: [...base.ingress, { ...svc, globalIp: '242.0.0.200' }] }),
      'INVALID_NAT_INPUT',
    );
    thrown(
      () => planGlobalnetNat({ ...base, ingress: [{ ...svc, owner: 'svc/other/name' }] }),
      'INVALID_NAT_INPUT',
    );
    const hc = base.healthChecks![0]!;
    thrown(
      () => planGlobalnetNat({ ...base, healthChecks: [hc, { ...hc, globalIp: '242.0.0.200' }] }),
      'INVALID_NAT_INPUT',
    );
    thrown(
      () => planGlobalnetNat({ ...base, healthChecks: [{ ...hc, owner: 'hc/other' }] }),
      'INVALID_NAT_INPUT',
    );
  });

  it('rejects a remote global CIDR that overlaps a local CIDR (local traffic would be translated)', () => {
    const base = input();
    const e = thrown(
      () => planGlobalnetNat({ ...base, remoteGlobalCidrs: ['10.0.0.0/8'] }),
      'INVALID_NAT_INPUT',
    );
    expect(e.message).toContain('10.0.0.0/8');
    thrown(() => planGlobalnetNat({ ...base, localCidrs: ['242.0.0.0/8'] }), 'INVALID_NAT_INPUT');
  });
});

describe('NAT plan properties', () => {
  const labels = fc.dictionary(fc.constantFrom('app', 'tier'), fc.constantFrom('db', 'web'), { maxKeys: 2 });
  const world = fc.record({
    pods: fc.array(fc.record({ ns: fc.constantFrom('a', 'b', 'c'), labels }), { maxLength: 40 }),
    nsScopes: fc.subarray(['a', 'b', 'c']),
    podScopes: fc.array(
      fc.record({
        ns: fc.constantFrom('a', 'b'),
        name: fc.constantFrom('x', 'y'),
        app: fc.constantFrom('db', 'web'),
      }),
      { maxLength: 3 },
    ),
    cluster: fc.boolean(),
    headless: fc.array(fc.nat(), { maxLength: 4 }),
  });

  type World = typeof world extends fc.Arbitrary<infer T> ? T : never;
  function build(w: World) {
    const gn = createGlobalnet({ globalCidr: '242.0.0.0/20' });
    if (w.cluster) gn.allocateEgress({ kind: 'cluster' });
    for (const n of w.nsScopes) gn.allocateEgress({ kind: 'namespace', namespace: n }, 2);
    for (const p of w.podScopes)
      gn.allocateEgress({
        kind: 'pods',
        namespace: p.ns,
        name: p.name,
        selector: { matchLabels: { app: p.app } },
      });
    const podList: PodInfo[] = w.pods.map((p, i) => ({
      namespace: p.ns,
      name: `p${i}`,
      labels: p.labels,
      ips: [`10.0.${i >> 8}.${i & 255}`],
    }));
    for (const h of w.headless)
      if (podList.length > 0)
        gn.allocateIngress({
          kind: 'pod',
          namespace: podList[h % podList.length]!.namespace,
          name: podList[h % podList.length]!.name,
        });
    return { gn, podList };
  }

  it('every pod is translated by exactly one scope, the most specific one that selects it', () => {
    fc.assert(
      fc.property(world, (w) => {
        const { gn, podList } = build(w);
        const plan = planGlobalnetNat({
          globalCidr: gn.globalCidr,
          localCidrs: ['10.0.0.0/16'],
          remoteGlobalCidrs: ['242.1.0.0/16'],
          egress: gn.egress(),
          ingress: gn.ingress(),
          pods: podList,
        });
        const where = new Map<string, string[]>();
        const put = (ip: string, owner: string) => where.set(ip, [...(where.get(ip) ?? []), owner]);
        for (const s of [...plan.egress.pods, ...plan.egress.namespaces])
          for (const e of s.elements) put(e, s.owner);
        for (const h of plan.egress.headlessPods) put(h.source, h.owner);
        const scopes = gn.egress();
        for (const pod of podList) {
          const ip = pod.ips[0]!;
          const bySel = scopes
            .filter(
              (s) =>
                s.scope.kind === 'pods' &&
                s.scope.namespace === pod.namespace &&
                matchesSelector(s.scope.selector, pod.labels),
            )
            .map((s) => s.owner)
            .sort()[0];
          const headless = gn
            .ingress()
            .find(
              (i) =>
                i.target.kind === 'pod' && i.target.namespace === pod.namespace && i.target.name === pod.name,
            );
          const byNs = scopes.find(
            (s) => s.scope.kind === 'namespace' && s.scope.namespace === pod.namespace,
          )?.owner;
          const want = bySel ?? headless?.owner ?? byNs;
          expect(where.get(ip)).toEqual(want === undefined ? undefined : [want]);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('the rule count grows with scopes, not pods', () => {
    const rules = (n: number) => {
      const gn = createGlobalnet({ globalCidr: '242.0.0.0/16' });
      gn.allocateEgress({ kind: 'cluster' });
      for (let i = 0; i < 10; i++) gn.allocateEgress({ kind: 'namespace', namespace: `ns${i}` });
      const podList = Array.from({ length: n }, (_, i) => ({
        namespace: `ns${i % 10}`,
        name: `p${i}`,
        ips: [`10.0.${i >> 8}.${i & 255}`],
      }));
      const plan = planGlobalnetNat({
        globalCidr: gn.globalCidr,
        localCidrs: ['10.0.0.0/16'],
        remoteGlobalCidrs: ['242.1.0.0/16'],
        egress: gn.egress(),
        ingress: [],
        pods: podList,
      });
      const text = renderNft(plan);
      const ipt = renderIptables(plan).restore;
      return [
        text.split('\n').filter((l) => /snat|dnat|mark set|return/.test(l)).length,
        ipt.split('\n').filter((l) => l.startsWith('-A')).length,
      ];
    };
    expect(rules(10)).toEqual(rules(5000));
  });

  it('plans are deterministic whatever the input order, and diffNat(a, a) is empty', () => {
    fc.assert(
      fc.property(world, fc.nat(), (w, seed) => {
        const { gn, podList } = build(w);
        const inp = {
          globalCidr: gn.globalCidr,
          localCidrs: ['10.0.0.0/16'],
          remoteGlobalCidrs: ['242.2.0.0/16', '242.1.0.0/16'],
          egress: gn.egress(),
          ingress: gn.ingress(),
          pods: podList,
        };
        const shuffled = [...podList].sort(
          (x, y) => ((x.name.length * 31 + seed) % 7) - ((y.name.length * 17 + seed) % 5),
        );
        const a = planGlobalnetNat(inp);
        const b = planGlobalnetNat({
          ...inp,
          pods: shuffled,
          egress: [...inp.egress].reverse(),
          ingress: [...inp.ingress].reverse(),
        });
        expect(b).toEqual(a);
        expect(diffNat(a, b)).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });
});

describe('diffNat', () => {
  it('shows pod churn as set element changes and scope changes as replacements', () => {
    const base = input();
    const a = planGlobalnetNat(base);
    const b = planGlobalnetNat({
      ...base,
      pods: [
        ...pods.filter((p) => p.name !== 'web-1'),
        { namespace: 'shop', name: 'web-2', ips: ['10.0.1.20'] },
      ],
      remoteGlobalCidrs: ['242.1.0.0/16', '242.2.0.0/16'],
    });
    const nsSet = a.egress.namespaces[0]!.set;
    expect(diffNat(a, b)).toEqual([
      { op: 'add', section: 'remoteGlobalCidrs', key: '242.2.0.0/16', value: '242.2.0.0/16' },
      { op: 'remove-elements', section: 'namespaceSets', key: nsSet, elements: ['10.0.1.6'] },
      { op: 'add-elements', section: 'namespaceSets', key: nsSet, elements: ['10.0.1.20'] },
    ]);
    const c = planGlobalnetNat({
      ...base,
      ingress: base.ingress.map((i) => (i.target.kind === 'service' ? { ...i, ip: '100.0.0.11' } : i)),
    });
    expect(diffNat(a, c)).toEqual([
      {
        op: 'replace',
        section: 'ingress',
        key: '242.0.0.12',
        from: { globalIp: '242.0.0.12', to: '100.0.0.10', owner: 'svc/shop/web', kind: 'service' },
        to: { globalIp: '242.0.0.12', to: '100.0.0.11', owner: 'svc/shop/web', kind: 'service' },
      },
    ]);
    const d = diffNat(a, planGlobalnetNat({ ...base, egress: [] }));
    expect(d.filter((x) => x.op === 'remove').map((x) => x.section)).toEqual([
      'podSets',
      'namespaceSets',
      'cluster',
      'cluster',
    ]);
    thrown(() => diffNat(a, {} as never), 'INVALID_ARGUMENT');
  });
});
