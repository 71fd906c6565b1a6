import { describe, expect, it } from 'vitest';
import { diffPlan, isEmptyDiff } from './diff';
import { parseIpJson, parseIptablesSave, scopeToPlan } from './parse';
import { canonicalPlan } from './plan';
import { thrown } from './test-support';

// Captured from iproute2 6.1 on Linux 6.x (a namespace with a veth, a VXLAN device and a few entries).
const routes = [
  { dst: '10.2.0.0/24', gateway: '240.0.0.2', dev: 'vx-t', table: '300', flags: ['onlink'] },
  { dst: '10.3.0.0/24', gateway: '198.18.0.9', dev: 'd0', metric: 5, flags: [] },
  { dst: '10.4.0.0/24', dev: 'd0', scope: 'link', prefsrc: '198.18.0.1', flags: [] },
  { dst: '198.18.0.0/24', dev: 'd0', protocol: 'kernel', scope: 'link', prefsrc: '198.18.0.1', flags: [] },
  {
    type: 'local',
    dst: '127.0.0.0/8',
    dev: 'lo',
    table: 'local',
    protocol: 'kernel',
    scope: 'host',
    prefsrc: '127.0.0.1',
    flags: [],
  },
  {
    type: 'broadcast',
    dst: '198.18.0.255',
    dev: 'd0',
    table: 'local',
    protocol: 'kernel',
    scope: 'link',
    prefsrc: '198.18.0.1',
    flags: [],
  },
  {
    dst: 'default',
    gateway: '2001:db8::9',
    dev: 'd0',
    table: '101',
    metric: 1024,
    flags: [],
    pref: 'medium',
  },
  { dst: '2001:db8::/64', dev: 'd0', protocol: 'kernel', metric: 256, flags: [], pref: 'medium' },
  { dst: '2001:db8:5::/64', gateway: '2001:db8::9', dev: 'd0', metric: 1024, flags: [], pref: 'medium' },
  { dst: 'fe80::/64', dev: 'vx-t', protocol: 'kernel', metric: 256, flags: [], pref: 'medium' },
  {
    type: 'multicast',
    dst: 'ff00::/8',
    dev: 'd0',
    table: 'local',
    protocol: 'kernel',
    metric: 256,
    flags: [],
    pref: 'medium',
  },
];
const rules = [
  { priority: 0, src: 'all', table: 'local' },
  { priority: 1000, src: '10.1.0.5', table: '101' },
  { priority: 1000, src: 'all', fwmark: '0x1', fwmask: '0xff', table: '100' },
  { priority: 1001, src: 'all', dst: '10.9.0.0', dstlen: 16, table: '300' },
  { priority: 32766, src: 'all', table: 'main' },
  { priority: 32767, src: 'all', table: 'default' },
];
const rules6 = [
  { priority: 0, src: 'all', table: 'local' },
  { priority: 1000, src: '2001:db8::7', table: '101' },
  { priority: 32766, src: 'all', table: 'main' },
];
const neigh = [
  { dst: '240.0.0.2', dev: 'vx-t', lladdr: '0e:00:00:00:00:02', state: ['PERMANENT'] },
  { dst: '198.18.0.2', dev: 'd0', lladdr: '0e:00:00:00:00:09', state: ['REACHABLE'] },
];
const fdb = [
  { mac: '33:33:00:00:00:01', ifname: 'd0', flags: ['self'], state: 'permanent' },
  { mac: '0e:00:00:00:00:02', ifname: 'vx-t', dst: '198.18.0.2', flags: ['self'], state: 'permanent' },
  { mac: '00:00:00:00:00:00', ifname: 'vx-t', dst: '198.18.0.2', flags: ['self'], state: 'permanent' },
];

describe('parseIpJson', () => {
  it('keeps what was configured and leaves out what the kernel owns', () => {
    const plan = parseIpJson({ routes, rules, rules6, neigh, fdb });
    expect(plan.routes).toEqual([
      { family: 4, table: 254, dst: '10.3.0.0/24', via: '198.18.0.9', dev: 'd0', metric: 5 },
      { family: 4, table: 254, dst: '10.4.0.0/24', dev: 'd0', scope: 'link', src: '198.18.0.1' },
      { family: 4, table: 300, dst: '10.2.0.0/24', via: '240.0.0.2', dev: 'vx-t', onlink: true },
      { family: 6, table: 101, dst: 'default', via: '2001:db8::9', dev: 'd0' },
      { family: 6, table: 254, dst: '2001:db8:5::/64', via: '2001:db8::9', dev: 'd0' },
    ]);
    expect(plan.rules).toEqual([
      { family: 4, priority: 1000, from: '10.1.0.5/32', table: 101 },
      { family: 4, priority: 1000, fwmark: 1, mask: 255, table: 100 },
      { family: 4, priority: 1001, to: '10.9.0.0/16', table: 300 },
      { family: 6, priority: 1000, from: '2001:db8::7/128', table: 101 },
    ]);
    expect(plan.neighbours).toEqual([
      { dev: 'vx-t', dst: '240.0.0.2', lladdr: '0e:00:00:00:00:02', permanent: true },
    ]);
    expect(plan.fdb).toEqual([
      { dev: 'vx-t', lladdr: '00:00:00:00:00:00', dst: '198.18.0.2' },
      { dev: 'vx-t', lladdr: '0e:00:00:00:00:02', dst: '198.18.0.2' },
    ]);
  });

  it('reads VXLAN and veth links, global addresses only', () => {
    const plan = parseIpJson({
      links: [
        { ifindex: 1, ifname: 'lo', flags: ['LOOPBACK', 'UP'], mtu: 65536, address: '00:00:00:00:00:00' },
        {
          ifindex: 4,
          ifname: 'vx-t',
          flags: ['UP'],
          mtu: 1450,
          address: '0e:00:00:00:00:01',
          linkinfo: {
            info_kind: 'vxlan',
            info_data: { id: 54, local: '198.18.0.1', link: 'd0', port: 4876, learning: false },
          },
        },
        {
          ifindex: 5,
          ifname: 'hv',
          flags: ['UP'],
          mtu: 1500,
          address: '02:00:00:00:00:05',
          link_index: 2,
          link_netnsid: 0,
          linkinfo: { info_kind: 'veth' },
        },
      ],
      peerLinks: [{ ifindex: 2, ifname: 'veth0', address: '02:00:00:00:00:02' }],
      addrs: [
        { ifname: 'lo', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host' }] },
        {
          ifname: 'vx-t',
          addr_info: [
            { family: 'inet', local: '240.0.0.1', prefixlen: 32, scope: 'global' },
            { family: 'inet6', local: 'fe80::c00:ff:fe00:1', prefixlen: 64, scope: 'link' },
          ],
        },
      ],
    });
    expect(plan.devices).toEqual([
      {
        kind: 'veth',
        name: 'hv',
        mac: '02:00:00:00:00:05',
        mtu: 1500,
        peer: 'veth0',
        peerMac: '02:00:00:00:00:02',
      },
      { kind: 'link', name: 'lo', mac: '00:00:00:00:00:00', up: true },
      {
        kind: 'vxlan',
        name: 'vx-t',
        vni: 54,
        port: 4876,
        local: '198.18.0.1',
        dev: 'd0',
        learning: false,
        mtu: 1450,
        mac: '0e:00:00:00:00:01',
      },
    ]);
    expect(plan.addresses).toEqual([{ dev: 'vx-t', address: '240.0.0.1/32', family: 4 }]);
  });

  it('names the peers of veths into several namespaces by netnsid (their ifindexes repeat)', () => {
    const hostVeth = (ifname: string, nsid: number) => ({
      ifindex: 10 + nsid,
      ifname,
      flags: ['UP'],
      mtu: 1500,
      address: `02:00:00:00:01:0${nsid}`,
      link_index: 2,
      link_netnsid: nsid,
      linkinfo: { info_kind: 'veth' },
    });
    const podVeth = (nsid: number) => [{ ifindex: 2, ifname: 'veth0', address: `02:00:00:00:02:0${nsid}` }];
    const plan = parseIpJson({
      links: [hostVeth('hva', 0), hostVeth('hvb', 1)],
      peerLinks: { 0: podVeth(0), 1: podVeth(1) },
    });
    expect(
      plan.devices.map((d) => (d.kind === 'veth' ? `${d.name} ${d.peer} ${d.peerMac}` : d.kind)),
    ).toEqual(['hva veth0 02:00:00:00:02:00', 'hvb veth0 02:00:00:00:02:01']);
    // A namespace left out: its veth is only a link (a diff would try to recreate it, so pass them all).
    expect(parseIpJson({ links: [hostVeth('hvb', 1)], peerLinks: { 0: podVeth(0) } }).devices[0]!.kind).toBe(
      'link',
    );
    expect(() => parseIpJson({ links: [], peerLinks: { 0: 'x' } })).toThrow(/peerLinks\[0\]/);
  });

  it('scopeToPlan keeps only the tables, devices and kinds of entries the plan manages', () => {
    const observed = parseIpJson({ routes, rules, neigh, fdb });
    const desired = canonicalPlan({
      routes: [{ family: 4, table: 300, dst: '10.2.0.0/24', via: '240.0.0.2', dev: 'vx-t', onlink: true }],
    });
    const scoped = scopeToPlan(observed, desired);
    expect(scoped.routes).toEqual(desired.routes);
    expect(scoped.neighbours).toEqual([]);
  });

  it('leaves out rules with selectors a plan cannot express (not, iif, suppress_prefixlength)', () => {
    // Captured from `ip -json rule show` (iproute2 6.1) in a namespace with these rules.
    const node = [
      { priority: 0, src: 'all', table: 'local' },
      { priority: 900, not: null, src: '10.0.0.0', srclen: 8, table: '300' },
      { priority: 1000, src: 'all', iif: 'lo', table: '100' },
      { priority: 1000, src: 'all', table: '500' },
      { priority: 32764, src: 'all', table: 'main', suppress_prefixlen: 0 },
      { priority: 32766, src: 'all', table: 'main' },
      { priority: 32767, src: 'all', table: 'default' },
    ];
    expect(parseIpJson({ rules: node }).rules).toEqual([{ family: 4, priority: 1000, table: 500 }]);
  });

  it('leaves out FDB entries with their own port, VNI, via device or nexthop (a plan cannot express them)', () => {
    // Captured from `bridge -json fdb show` (iproute2 6.1) after `bridge fdb append 00:00:00:00:00:00 dev vx-t
    // dst ... port 5000 | vni 77 | via v0`; the kernel prints port/vni only when they differ from the device's.
    const foreign = [
      {
        mac: '00:00:00:00:00:00',
        ifname: 'vx-t',
        dst: '192.0.2.3',
        port: 5000,
        flags: ['self'],
        state: 'permanent',
      },
      {
        mac: '00:00:00:00:00:00',
        ifname: 'vx-t',
        dst: '192.0.2.4',
        vni: 77,
        flags: ['self'],
        state: 'permanent',
      },
      {
        mac: '00:00:00:00:00:00',
        ifname: 'vx-t',
        dst: '192.0.2.5',
        viaIf: 'v0',
        flags: ['self'],
        state: 'permanent',
      },
      {
        mac: '0e:00:00:00:00:07',
        ifname: 'vx-t',
        dst: '192.0.2.7',
        viaIfIndex: 4,
        linkNetNsId: 0,
        flags: ['self'],
        state: 'permanent',
      },
      {
        mac: '0e:00:00:00:00:08',
        ifname: 'vx-t',
        dst: '192.0.2.8',
        src_vni: 9,
        flags: ['self'],
        state: 'permanent',
      },
      {
        mac: '0e:00:00:00:00:09',
        ifname: 'vx-t',
        dst: '192.0.2.9',
        nhid: 3,
        flags: ['self'],
        state: 'permanent',
      },
      {
        mac: '0e:00:00:00:00:0a',
        ifname: 'br-t',
        dst: '192.0.2.10',
        vlan: 5,
        flags: ['self'],
        state: 'permanent',
      },
    ];
    const observed = parseIpJson({ fdb: [...fdb, ...foreign] });
    expect(observed.fdb).toEqual(parseIpJson({ fdb }).fdb);
    // So an agent converging vx-t never deletes them (a `fdb del ... dst` without their port/vni would not match).
    const desired = canonicalPlan({ fdb: parseIpJson({ fdb }).fdb });
    expect(isEmptyDiff(diffPlan(scopeToPlan(observed, desired), desired))).toBe(true);
  });

  it('scopeToPlan keeps only rules that look up a table the plan uses (other software owns the rest)', () => {
    const observed = parseIpJson({ rules });
    const desired = canonicalPlan({
      rules: [{ family: 4, priority: 1000, from: '10.1.0.5/32', table: 101 }],
      routes: [{ family: 4, table: 101, dst: 'default', via: '10.1.0.1', dev: 'net1' }],
    });
    expect(scopeToPlan(observed, desired).rules).toEqual([
      { family: 4, priority: 1000, from: '10.1.0.5/32', table: 101 },
    ]);
  });

  it('parses the mangle rules it renders, in chain order', () => {
    const text =
      '*mangle\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -i veth0 -m conntrack --ctstate NEW -j MARK --set-xmark 0x1/0xffffffff\n-A PREROUTING -i veth0 -j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff\n-A OUTPUT -j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff\nCOMMIT\n';
    expect(parseIptablesSave(text, 4).map((m) => `${m.chain}/${m.order}/${m.action}`)).toEqual([
      'PREROUTING/0/set-mark',
      'PREROUTING/1/save-mark',
      'OUTPUT/0/restore-mark',
    ]);
  });

  it('rejects what is not ip -json output', () => {
    expect(thrown(() => parseIpJson({ routes: 'nope' })).code).toBe('PARSE_ERROR');
    expect(thrown(() => parseIpJson({ routes: [{ dst: '10.0.0.0/8', table: 'custom' }] })).code).toBe(
      'PARSE_ERROR',
    );
  });
});
