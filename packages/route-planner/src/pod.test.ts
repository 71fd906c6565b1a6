import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addrOf } from './ip';
import { podMAC } from './mac';
import { canonicalPlan, routeKey } from './plan';
import { type PodRouteInput, planPodRoutes } from './pod';
import { thrown } from './test-support';

const eth0 = {
  name: 'eth0',
  addresses: ['172.100.0.210/24'],
  routes: [{ dst: 'default', via: '172.100.0.1' }],
};
const net1 = {
  name: 'net1',
  addresses: ['172.101.0.5/24'],
  routes: [
    { dst: 'default', via: '172.101.0.1', metric: 100 },
    { dst: '10.50.0.0/16', via: '172.101.0.1' },
  ],
};
const base: PodRouteInput = {
  nics: [eth0, net1],
  nodeIPs: ['192.0.2.10'],
  clusterPodCIDRs: ['10.233.64.0/18'],
  serviceCIDRs: ['10.233.0.0/18'],
  hijackCIDRs: ['169.254.25.10/32'],
};
const routes = (
  p: { routes: readonly { table: number; dst: string; dev?: string; via?: string }[] },
  table: number,
) =>
  p.routes
    .filter((r) => r.table === table)
    .map((r) => `${r.dst}${r.via ? ` via ${r.via}` : ''} dev ${r.dev}`);

describe('planPodRoutes (Spiderpool coordinator semantics)', () => {
  it('auto is underlay for eth0 and for NICs added after veth0 exists, else overlay', () => {
    expect(planPodRoutes(base).modes).toEqual({ eth0: 'underlay', net1: 'underlay' });
    const overlay = planPodRoutes({ ...base, nics: [{ ...eth0, name: 'eth9' }, net1] });
    expect(overlay.modes).toEqual({ eth9: 'overlay', net1: 'overlay' });
  });

  it('eth0 is table 100, net1 101, net2 102', () => {
    const p = planPodRoutes({ ...base, nics: [eth0, net1, { name: 'net2', addresses: ['172.102.0.7/24'] }] });
    expect(p.tables).toEqual({ eth0: 100, net1: 101, net2: 102 });
  });

  it('underlay first NIC: veth0 to the node, node IP scope link and cluster CIDRs via the node in main', () => {
    const p = planPodRoutes({ ...base, nics: [eth0] });
    expect(routes(p.pod, 254)).toEqual([
      '10.233.0.0/18 via 192.0.2.10 dev veth0',
      '10.233.64.0/18 via 192.0.2.10 dev veth0',
      '169.254.25.10/32 via 192.0.2.10 dev veth0',
      '192.0.2.10/32 dev veth0',
      'default via 172.100.0.1 dev eth0',
    ]);
    expect(p.pod.routes.find((r) => r.dst === '192.0.2.10/32')).toMatchObject({ scope: 'link' });
    // Host side: the rule at 1000 to table 500, the pod IP on the host veth, static neighbours both ways.
    const hv = p.host.devices[0]!;
    expect(hv).toMatchObject({ kind: 'veth', peer: 'veth0' });
    expect(p.host.rules).toEqual([{ family: 4, priority: 1000, table: 500 }]);
    expect(p.host.routes).toEqual([
      { family: 4, table: 500, dst: '172.100.0.210/32', dev: hv.name, scope: 'link' },
    ]);
    expect(p.host.neighbours).toEqual([
      { dev: hv.name, dst: '172.100.0.210', lladdr: (hv as { peerMac: string }).peerMac, permanent: true },
    ]);
    expect(p.pod.neighbours).toEqual([
      { dev: 'veth0', dst: '192.0.2.10', lladdr: (hv as { mac: string }).mac, permanent: true },
    ]);
  });

  it('underlay reply path: mark new connections from veth0 0x1, save/restore connmark, fwmark rule to table 100', () => {
    const p = planPodRoutes({ ...base, nics: [eth0] });
    expect(p.pod.mangle.map((m) => `${m.chain} ${m.order} ${m.action}`)).toEqual([
      'OUTPUT 0 restore-mark',
      'PREROUTING 0 set-mark',
      'PREROUTING 1 save-mark',
    ]);
    expect(p.pod.mangle[1]).toMatchObject({ iif: 'veth0', ctstate: 'NEW', mark: 1 });
    // Saved on the new connection's packet only: later packets carry mark 0 and would clear the connmark.
    expect(p.pod.mangle[2]).toMatchObject({ iif: 'veth0', ctstate: 'NEW', action: 'save-mark' });
    expect(p.pod.rules).toContainEqual({ family: 4, priority: 1000, fwmark: 1, table: 100 });
    expect(routes(p.pod, 100)).toEqual(['default via 192.0.2.10 dev veth0']);
  });

  it('tunePodRoutes: net1 gets a source rule, its default moves to 101, its other routes are copied', () => {
    const p = planPodRoutes(base);
    expect(p.pod.rules).toContainEqual({ family: 4, priority: 1000, from: '172.101.0.5/32', table: 101 });
    expect(routes(p.pod, 254)).not.toContain('default via 172.101.0.1 dev net1');
    expect(routes(p.pod, 254)).toContain('10.50.0.0/16 via 172.101.0.1 dev net1');
    expect(routes(p.pod, 101)).toEqual(
      expect.arrayContaining([
        'default via 172.101.0.1 dev net1',
        '10.50.0.0/16 via 172.101.0.1 dev net1',
        '10.233.0.0/18 via 192.0.2.10 dev veth0',
      ]),
    );
    const untuned = planPodRoutes({ ...base, tunePodRoutes: false });
    expect(untuned.pod.rules.some((r) => r.from !== undefined)).toBe(false);
    expect(routes(untuned.pod, 254)).toContain('default via 172.101.0.1 dev net1');
  });

  it('overlay: cluster routes via the node on eth0, and eth0 gets from <ip> lookup 100 with its default copied', () => {
    const p = planPodRoutes({ ...base, mode: 'overlay' });
    expect(routes(p.pod, 254)).toContain('10.233.64.0/18 via 192.0.2.10 dev eth0');
    expect(routes(p.pod, 254)).toContain('192.0.2.10/32 dev eth0');
    expect(p.pod.rules).toContainEqual({ family: 4, priority: 1000, from: '172.100.0.210/32', table: 100 });
    expect(routes(p.pod, 100)).toEqual(['default via 172.100.0.1 dev eth0']);
    expect(p.host).toEqual(canonicalPlan({}));
  });

  it("keeps the default NIC's default in main when both NICs have a default at the same metric", () => {
    const same = { ...base, nics: [eth0, { ...net1, routes: [{ dst: 'default', via: '172.101.0.1' }] }] };
    const p = planPodRoutes(same);
    expect(routes(p.pod, 254)).toContain('default via 172.100.0.1 dev eth0');
    expect(routes(p.pod, 101)).toContain('default via 172.101.0.1 dev net1');
    const swapped = planPodRoutes({ ...same, podDefaultRouteNIC: 'net1' });
    expect(routes(swapped.pod, 254)).toContain('default via 172.101.0.1 dev net1');
    expect(routes(swapped.pod, 101)).toContain('default via 172.100.0.1 dev eth0');
    // Untuned, the kernel keeps the default added first (the second add is EEXIST): eth0's.
    const untuned = planPodRoutes({ ...same, tunePodRoutes: false });
    expect(routes(untuned.pod, 254)).toContain('default via 172.100.0.1 dev eth0');
  });

  it('podDefaultRouteNIC naming the new NIC swaps roles; naming no NIC is UNKNOWN_NIC', () => {
    const p = planPodRoutes({ ...base, podDefaultRouteNIC: 'net1' });
    expect(routes(p.pod, 254)).toContain('default via 172.101.0.1 dev net1');
    expect(routes(p.pod, 254)).not.toContain('default via 172.100.0.1 dev eth0');
    expect(routes(p.pod, 101)).toContain('default via 172.100.0.1 dev eth0');
    expect(p.pod.rules).toContainEqual({ family: 4, priority: 1000, from: '172.100.0.210/32', table: 101 });
    const e = thrown(() => planPodRoutes({ ...base, podDefaultRouteNIC: 'net7' }));
    expect(e.code).toBe('UNKNOWN_NIC');
    expect(e.message).toContain('net7');
  });

  it('podMACPrefix: 0a:1b and 172.100.0.210 give 0a:1b:ac:64:00:d2 (last 4 bytes for IPv6)', () => {
    expect(podMAC('0a:1b', addrOf('172.100.0.210', 'x'))).toBe('0a:1b:ac:64:00:d2');
    expect(podMAC('0a:1b', addrOf('2001:db8::ac64:d2', 'x'))).toBe('0a:1b:ac:64:00:d2');
    const p = planPodRoutes({ ...base, nics: [eth0], podMACPrefix: '0a:1b' });
    expect(p.pod.devices).toContainEqual({ kind: 'link', name: 'eth0', mac: '0a:1b:ac:64:00:d2', up: true });
    expect(thrown(() => planPodRoutes({ ...base, podMACPrefix: '0b:1b' })).code).toBe('INVALID_MAC');
  });

  it('IPv6 and dual stack plan the same way with IPv6 addresses and family-6 rules', () => {
    const p = planPodRoutes({
      nics: [
        { name: 'eth0', addresses: ['fd00::10/64'], routes: [{ dst: 'default', via: 'fd00::1' }] },
        {
          name: 'net1',
          addresses: ['172.101.0.5/24', 'fd01::5/64'],
          routes: [{ dst: 'default', via: 'fd01::1' }],
        },
      ],
      nodeIPs: ['192.0.2.10', 'fd00:ff::10'],
      clusterPodCIDRs: ['fd00:10::/64'],
    });
    expect(p.pod.rules).toContainEqual({ family: 6, priority: 1000, from: 'fd01::5/128', table: 101 });
    expect(p.pod.rules).toContainEqual({ family: 6, priority: 1000, fwmark: 1, table: 100 });
    expect(p.host.rules).toContainEqual({ family: 6, priority: 1000, table: 500 });
    expect(routes(p.pod, 101)).toContain('fd00:10::/64 via fd00:ff::10 dev veth0');
    expect(p.pod.mangle.filter((m) => m.family === 6)).toHaveLength(3);
  });

  it('tunePodRoutes skips all of fe80::/10 (link-local), not only fe80::/16', () => {
    const p = planPodRoutes({
      nics: [eth0, { name: 'net1', addresses: ['fe90::5/64', 'fd01::5/64'], routes: [{ dst: 'febf::/64' }] }],
      nodeIPs: ['192.0.2.10'],
    });
    expect(p.pod.rules.map((r) => r.from)).not.toContain('fe90::5/128');
    expect(p.pod.routes.filter((r) => r.table === 101 && /^fe[89ab]/.test(r.dst))).toEqual([]);
  });

  it('sysctls write the dots of interface names (VLANs like net1.100) as slashes, and give the /proc/sys path', () => {
    const vlan = { ...net1, name: 'net1.100' };
    const { sysctls } = planPodRoutes({ ...base, nics: [eth0, vlan], podRPFilter: 2 });
    expect(sysctls).toEqual([
      { name: 'net.ipv4.conf.all.rp_filter', path: '/proc/sys/net/ipv4/conf/all/rp_filter', value: '2' },
      { name: 'net.ipv4.conf.eth0.rp_filter', path: '/proc/sys/net/ipv4/conf/eth0/rp_filter', value: '2' },
      {
        name: 'net.ipv4.conf.net1/100.rp_filter',
        path: '/proc/sys/net/ipv4/conf/net1.100/rp_filter',
        value: '2',
      },
      { name: 'net.ipv4.conf.veth0.rp_filter', path: '/proc/sys/net/ipv4/conf/veth0/rp_filter', value: '2' },
    ]);
  });

  it('never plans two routes with one table and destination, and is deterministic', () => {
    fc.assert(
      fc.property(
        fc.record({
          mode: fc.constantFrom('auto' as const, 'underlay' as const, 'overlay' as const),
          tune: fc.boolean(),
          swap: fc.boolean(),
          current: fc.constantFrom('eth0', 'net1', 'net2'),
        }),
        ({ mode, tune, swap, current }) => {
          const input: PodRouteInput = {
            ...base,
            nics: [
              eth0,
              net1,
              {
                name: 'net2',
                addresses: ['172.102.0.7/24'],
                routes: [{ dst: 'default', via: '172.102.0.1', metric: 200 }],
              },
            ],
            mode,
            tunePodRoutes: tune,
            currentNIC: current,
            ...(swap && { podDefaultRouteNIC: current }),
          };
          const p = planPodRoutes(input);
          const keys = p.pod.routes.map(routeKey);
          expect(new Set(keys).size).toBe(keys.length);
          expect(planPodRoutes(input)).toEqual(p);
          expect(canonicalPlan(p.pod)).toEqual(p.pod);
        },
      ),
    );
  });

  it('rejects bad input with typed errors', () => {
    expect(thrown(() => planPodRoutes({ ...base, nics: [] })).code).toBe('INVALID_ARGUMENT');
    expect(thrown(() => planPodRoutes({ ...base, currentNIC: 'net5' })).code).toBe('UNKNOWN_NIC');
    expect(thrown(() => planPodRoutes({ ...base, nics: [eth0, eth0] })).code).toBe('DUPLICATE_NAME');
    expect(thrown(() => planPodRoutes({ ...base, nodeIPs: ['192.0.2.300'] })).code).toBe('INVALID_ADDRESS');
    expect(thrown(() => planPodRoutes({ ...base, hostRuleTable: 254 })).code).toBe('INVALID_ARGUMENT');
    expect(thrown(() => planPodRoutes({ ...base, clusterPodCIDRs: ['10.233.64.1/18'] })).code).toBe(
      'INVALID_PREFIX',
    );
    // Values that would otherwise render lines ip rejects or misreads, or crash.
    const bad = (extra: Record<string, unknown>) =>
      thrown(() => planPodRoutes({ ...base, ...extra } as PodRouteInput));
    const eth0With = (r: Record<string, unknown>) => ({ nics: [{ ...eth0, ...r }] });
    for (const rulePriority of [-5, 1.5, '1000', 40000])
      expect(bad({ rulePriority }).code).toBe('INVALID_ARGUMENT');
    expect(bad({ podRPFilter: 7 }).code).toBe('INVALID_ARGUMENT');
    expect(bad({ tunePodRoutes: 'no' }).code).toBe('INVALID_ARGUMENT');
    for (const hostVethName of ['bad name', 'abcdefghijklmnop', ''])
      expect(bad({ hostVethName }).code).toBe('INVALID_ARGUMENT');
    expect(bad(eth0With({ mtu: 0 })).code).toBe('INVALID_ARGUMENT');
    expect(bad(eth0With({ routes: [{ dst: 'default', via: '172.100.0.1', metric: -1 }] })).code).toBe(
      'INVALID_ARGUMENT',
    );
    expect(bad(eth0With({ routes: [{ dst: 'default', family: 5 }] })).code).toBe('INVALID_ARGUMENT');
    expect(bad(eth0With({ routes: 'default' })).code).toBe('INVALID_ARGUMENT');
    expect(bad(eth0With({ addresses: '172.100.0.210/24' })).code).toBe('INVALID_ARGUMENT');
    expect(bad({ nodeIPs: '192.0.2.10' }).code).toBe('INVALID_ARGUMENT');
    expect(bad({ policyRoutes: [{ dst: '10.0.0.0/8', via: 'fd00::1' }] }).code).toBe('INVALID_ARGUMENT');
  });
});
