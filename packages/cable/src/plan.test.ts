import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GatewayEndpoint } from './endpoint';
import { type CableOptions, planCable } from './plan';
import { meshEndpoint, randomKey, shuffled, thrown } from './test-support';

const KEY = randomKey();
const PRIV = randomKey();
const KEYS = Array.from({ length: 13 }, () => randomKey());
const wg = { driver: 'wireguard', privateKey: PRIV } as const;
const a: GatewayEndpoint = {
  clusterId: 'east',
  privateIp: '198.18.0.1',
  privateSubnet: '198.18.0.0/24',
  publicIp: '192.0.2.1',
  subnets: ['10.10.0.0/16'],
};
const b: GatewayEndpoint = {
  clusterId: 'west',
  privateIp: '198.18.0.2',
  privateSubnet: '198.18.0.0/24',
  publicIp: '192.0.2.2',
  subnets: ['10.20.0.0/16'],
  publicKey: KEY,
};

describe('endpoint choice', () => {
  it('uses private IPs when both gateways are on the same private subnet, and says so', () => {
    const e = planCable(a, b, wg).peers[0]!.endpoint;
    expect(e).toEqual({
      use: 'private',
      address: '198.18.0.2',
      port: 4500,
      natT: false,
      reason: 'private IPs: both gateways are on 198.18.0.0/24',
    });
  });

  it('uses the public IP with NAT-T when the networks differ', () => {
    const far = { ...b, privateIp: '198.19.0.2', privateSubnet: '198.19.0.0/24' };
    const e = planCable(a, far, wg).peers[0]!.endpoint;
    expect(e.use).toBe('public');
    expect(e.address).toBe('192.0.2.2');
    expect(e.natT).toBe(true);
    expect(e.reason).toBe(
      'public IP with NAT traversal: the gateways are on different networks (198.18.0.0/24 and 198.19.0.0/24)',
    );
  });

  it('the caller can say the gateways share a network, or that they do not', () => {
    const far = { ...b, privateIp: '198.19.0.2', privateSubnet: '198.19.0.0/24' };
    expect(planCable(a, far, { ...wg, sameNetwork: true }).peers[0]!.endpoint).toMatchObject({
      use: 'private',
      reason: 'private IPs: the caller says both gateways share a network',
    });
    expect(planCable(a, b, { ...wg, sameNetwork: false }).peers[0]!.endpoint).toMatchObject({
      use: 'public',
      reason: 'public IP with NAT traversal: the caller says the gateways do not share a network',
    });
  });

  it('two gateways behind the same public IP talk over their private IPs', () => {
    const { privateSubnet: _a, ...l2 } = { ...a, publicIp: '192.0.2.9' };
    const { privateSubnet: _b, ...r2 } = { ...b, publicIp: '192.0.2.9' };
    expect(planCable(l2, r2, wg).peers[0]!.endpoint.reason).toBe(
      'private IPs: both gateways are behind the same public IP 192.0.2.9',
    );
  });

  it('without a shared network and without a public IP there is no way to reach the remote: NO_REACHABLE_ENDPOINT', () => {
    const { publicIp: _p, privateSubnet: _s, ...bare } = b;
    const e = thrown(() => planCable(a, bare, wg));
    expect(e.code).toBe('NO_REACHABLE_ENDPOINT');
    expect(e.message).toBe('cluster "west": no shared private subnet is known and it has no publicIp');
  });

  it("IPv6 underlay: endpoints in brackets are the renderer's business, the plan keeps the address", () => {
    const l6 = {
      ...a,
      privateIp: '2001:db8::1',
      privateSubnet: '2001:db8::/64',
      publicIp: undefined,
    } as never;
    const r6 = { ...b, privateIp: '2001:db8::2', privateSubnet: '2001:db8::/64', publicIp: '2001:db8:1::2' };
    const p = planCable(l6, r6, wg);
    expect(p.underlayFamily).toBe(6);
    expect(p.mtu).toBe(1420);
    expect(p.peers[0]!.endpoint.address).toBe('2001:db8::2');
  });
});

describe('bad input: typed errors that name the value', () => {
  const cases: [string, () => unknown, string, string][] = [
    ['port 0', () => planCable({ ...a, port: 0 }, b, wg), 'INVALID_PORT', 'local.port 0 is not a port'],
    ['port 65536', () => planCable(a, { ...b, port: 65536 }, wg), 'INVALID_PORT', 'remote.port 65536'],
    ['listen port', () => planCable(a, b, { ...wg, listenPort: -1 }), 'INVALID_PORT', 'listenPort -1'],
    [
      '16-byte interface name',
      () => planCable(a, b, { ...wg, interfaceName: 'abcdefghijklmnop' }),
      'INVALID_INTERFACE_NAME',
      'interfaceName "abcdefghijklmnop" is 16 bytes long, the limit is 15',
    ],
    [
      'shell characters in a name',
      () => planCable(a, b, { driver: 'vxlan', interfaceName: 'vx;reboot' }),
      'INVALID_INTERFACE_NAME',
      '"vx;reboot" may contain only',
    ],
    [
      'space in a name',
      () => planCable(a, b, { ...wg, interfaceName: 'wg 0' }),
      'INVALID_INTERFACE_NAME',
      '"wg 0"',
    ],
    [
      'empty name',
      () => planCable(a, b, { ...wg, interfaceName: '' }),
      'INVALID_INTERFACE_NAME',
      'must not be empty',
    ],
    ['cluster id', () => planCable({ ...a, clusterId: 'East!' }, b, wg), 'INVALID_CLUSTER_ID', '"East!"'],
    [
      'bad address',
      () => planCable({ ...a, privateIp: '198.18.0' }, b, wg),
      'INVALID_ADDRESS',
      'local.privateIp',
    ],
    [
      'bad subnet',
      () => planCable(a, { ...b, subnets: ['10.20.0.1/16'] }, wg),
      'INVALID_PREFIX',
      'remote.subnets[0]',
    ],
    ['bad public key', () => planCable(a, { ...b, publicKey: 'abc=' }, wg), 'INVALID_KEY', '"abc="'],
    [
      'missing public key',
      () => planCable(a, { ...b, publicKey: undefined } as never, wg),
      'INVALID_KEY',
      'missing',
    ],
    [
      'missing private key',
      () => planCable(a, b, { driver: 'wireguard' } as never),
      'MISSING_SECRET',
      'privateKey',
    ],
    ['unknown driver', () => planCable(a, b, { driver: 'gre' } as never), 'INVALID_ARGUMENT', '"gre"'],
    ['vni 0', () => planCable(a, b, { driver: 'vxlan', vni: 0 }), 'INVALID_ARGUMENT', 'vni 0'],
    ['keepalive', () => planCable(a, b, { ...wg, persistentKeepalive: 1.5 }), 'INVALID_ARGUMENT', '1.5'],
    [
      'remote subnet overlapping the local one',
      () => planCable(a, { ...b, subnets: ['10.10.128.0/17'] }, wg),
      'SUBNET_OVERLAP',
      'subnet 10.10.0.0/16 of cluster "east" overlaps 10.10.128.0/17 of cluster "west"',
    ],
    [
      'underlay families differ',
      () =>
        planCable(
          a,
          { ...b, privateIp: '2001:db8::2', privateSubnet: '2001:db8::/64', publicIp: '2001:db8::9' },
          wg,
        ),
      'FAMILY_MISMATCH',
      'remote.privateIp 2001:db8::2 is IPv6',
    ],
    [
      'IPv6 subnet on an IPv4 VXLAN',
      () => planCable(a, { ...b, subnets: ['10.20.0.0/16', 'fd00:20::/64'] }, { driver: 'vxlan' }),
      'FAMILY_MISMATCH',
      'subnet fd00:20::/64 of cluster "west" is IPv6 but this VXLAN cable is IPv4',
    ],
    [
      'IPv6 remote subnet with no IPv6 local subnet for IPsec',
      () =>
        planCable(
          a,
          { ...b, subnets: ['10.20.0.0/16', 'fd00:20::/64'] },
          { driver: 'libreswan', psk: 'x'.repeat(20) },
        ),
      'FAMILY_MISMATCH',
      'subnet fd00:20::/64 of cluster "west" is IPv6 and cluster "east" has no IPv6 subnet',
    ],
    [
      'peer is the local cluster',
      () => planCable(a, { ...b, clusterId: 'east' }, wg),
      'DUPLICATE_PEER',
      '"east" is the local cluster',
    ],
    [
      'sourceIp outside',
      () => planCable(a, b, { ...wg, sourceIp: '10.20.0.1' }),
      'INVALID_ARGUMENT',
      'sourceIp 10.20.0.1',
    ],
    ['tiny link', () => planCable(a, b, { ...wg, linkMtu: 60 }), 'INVALID_MTU', 'linkMtu 60'],
  ];
  it.each(cases)('%s', (_name, fn, code, text) => {
    const e = thrown(fn);
    expect(e.code).toBe(code);
    expect(e.message).toContain(text);
  });

  it('AllowedIPs that overlap between two peers: ALLOWED_IPS_OVERLAP naming both clusters', () => {
    const c = {
      ...b,
      clusterId: 'north',
      privateIp: '198.18.0.3',
      subnets: ['10.20.4.0/24'],
      publicKey: randomKey(),
    };
    const e = thrown(() => planCable(a, [b, c], wg));
    expect(e.code).toBe('ALLOWED_IPS_OVERLAP');
    expect(e.message).toBe(
      'AllowedIPs overlap between peers: 10.20.0.0/16 of cluster "west" and 10.20.4.0/24 of cluster "north"',
    );
  });

  it('two peers with the same WireGuard public key: DUPLICATE_PEER (wg would merge them into one peer)', () => {
    const c = { ...b, clusterId: 'north', privateIp: '198.18.0.3', subnets: ['10.30.0.0/16'] };
    const e = thrown(() => planCable(a, [b, c], wg));
    expect(e.code).toBe('DUPLICATE_PEER');
    expect(e.message).toBe(
      `clusters "north" and "west" have the same publicKey ${JSON.stringify(b.publicKey)}`,
    );
  });

  it('the same remote cluster twice: DUPLICATE_PEER', () => {
    const e = thrown(() => planCable(a, [b, { ...b, privateIp: '198.18.0.7' }], wg));
    expect(e.code).toBe('DUPLICATE_PEER');
    expect(e.message).toBe('remote[1].clusterId "west" appears twice');
  });
});

const drivers = (): CableOptions[] => [
  { driver: 'wireguard', privateKey: PRIV },
  { driver: 'vxlan' },
  { driver: 'libreswan', psk: 'correct-horse-battery-staple' },
];

describe('plans are deterministic plain data', () => {
  it('the same inputs in any order give the same plan; JSON round-trips; inputs are not changed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer(),
        fc.constantFrom(0, 1, 2),
        (n, networks, seed, d) => {
          const eps = Array.from({ length: n + 1 }, (_, i) =>
            meshEndpoint(i, { publicKey: KEYS[i]!, networks }),
          );
          const remotes = eps.slice(1);
          const before = JSON.stringify(remotes);
          const opts = drivers()[d]!;
          const p1 = planCable(eps[0]!, remotes, opts);
          const p2 = planCable(eps[0]!, shuffled(remotes, seed), opts);
          expect(JSON.stringify(p2)).toBe(JSON.stringify(p1));
          expect(JSON.stringify(remotes)).toBe(before);
          expect(JSON.parse(JSON.stringify(p1))).toEqual(JSON.parse(JSON.stringify(p2)));
          const ids = p1.peers.map((p) => p.clusterId);
          expect(ids).toEqual([...ids].sort());
          expect(p1.peers).toHaveLength(n);
          for (const p of p1.peers) {
            const remote = remotes.find((r) => r.clusterId === p.clusterId)!;
            const sameNet = networks === 1 || Number(p.clusterId.slice(1)) % networks === 0;
            expect(p.endpoint.use).toBe(sameNet ? 'private' : 'public');
            expect(p.endpoint.address).toBe(sameNet ? remote.privateIp : remote.publicIp);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
