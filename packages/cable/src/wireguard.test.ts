import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GatewayEndpoint } from './endpoint';
import { planCable } from './plan';
import { Secret } from './secret';
import { keyArb, meshEndpoint } from './test-support';
import {
  parseWireGuardConf,
  renderWgQuickConf,
  renderWireGuardIpBatch,
  renderWireGuardSetconf,
} from './wireguard';

const PRIV = 'YOsCNwwBOmcFjmDS4b9RiTn0SXKL3QwW5cESNyuPt1w=';
const PUB_B = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';
const PUB_C = 'TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=';
const PSK = 'FpCyhws9cxwWoV4xELtfJvjJN+zQVRPISllRWgeopVE=';
const a: GatewayEndpoint = {
  clusterId: 'east',
  privateIp: '198.18.0.1',
  privateSubnet: '198.18.0.0/24',
  subnets: ['10.10.0.0/16'],
};
const b: GatewayEndpoint = {
  clusterId: 'west',
  privateIp: '198.18.0.2',
  privateSubnet: '198.18.0.0/24',
  subnets: ['10.120.0.0/16', '10.20.0.0/16'],
  publicKey: PUB_B,
};
const c: GatewayEndpoint = {
  clusterId: 'north',
  privateIp: '198.19.0.3',
  publicIp: '192.0.2.3',
  port: 51820,
  subnets: ['10.30.0.0/16'],
  publicKey: PUB_C,
};

describe('WireGuard renderers', () => {
  const plan = planCable(a, [b, c], {
    driver: 'wireguard',
    privateKey: new Secret(PRIV),
    presharedKeys: { north: PSK },
    sourceIp: '10.10.0.1',
  });

  it('wg setconf: interface, then peers by cluster id, AllowedIPs in address order', () => {
    expect(renderWireGuardSetconf(plan)).toBe(`[Interface]
PrivateKey = ${PRIV}
ListenPort = 4500

[Peer]
PublicKey = ${PUB_C}
PresharedKey = ${PSK}
AllowedIPs = 10.30.0.0/16
Endpoint = 192.0.2.3:51820
PersistentKeepalive = 10

[Peer]
PublicKey = ${PUB_B}
AllowedIPs = 10.20.0.0/16, 10.120.0.0/16
Endpoint = 198.18.0.2:4500
PersistentKeepalive = 10
`);
  });

  it('wg-quick: adds MTU; with a route source, Table = off and one PostUp route per remote subnet', () => {
    expect(renderWgQuickConf(plan)).toBe(`[Interface]
PrivateKey = ${PRIV}
ListenPort = 4500
MTU = 1440
Table = off
PostUp = ip route replace 10.20.0.0/16 dev %i src 10.10.0.1
PostUp = ip route replace 10.30.0.0/16 dev %i src 10.10.0.1
PostUp = ip route replace 10.120.0.0/16 dev %i src 10.10.0.1

[Peer]
PublicKey = ${PUB_C}
PresharedKey = ${PSK}
AllowedIPs = 10.30.0.0/16
Endpoint = 192.0.2.3:51820
PersistentKeepalive = 10

[Peer]
PublicKey = ${PUB_B}
AllowedIPs = 10.20.0.0/16, 10.120.0.0/16
Endpoint = 198.18.0.2:4500
PersistentKeepalive = 10
`);
    const plain = planCable(a, b, { driver: 'wireguard', privateKey: PRIV, persistentKeepalive: 0 });
    const text = renderWgQuickConf(plain);
    expect(text).not.toContain('Table');
    expect(text).not.toContain('PersistentKeepalive');
  });

  it('ip -batch: MTU, up, a route per remote subnet; no secrets', () => {
    const text = renderWireGuardIpBatch(plan);
    expect(text).toBe(`link set dev submariner mtu 1440 up
route replace 10.20.0.0/16 dev submariner src 10.10.0.1
route replace 10.30.0.0/16 dev submariner src 10.10.0.1
route replace 10.120.0.0/16 dev submariner src 10.10.0.1
`);
  });

  it('dual stack: the route source applies only to routes of its own family (ip rejects an IPv4 src on an IPv6 route)', () => {
    const a2 = { ...a, subnets: ['10.10.0.0/16', 'fd00:10::/64'] };
    const b2 = { ...b, subnets: ['10.20.0.0/16', 'fd00:20::/64'] };
    const p = planCable(a2, b2, { driver: 'wireguard', privateKey: PRIV, sourceIp: '10.10.0.1' });
    expect(p.routes.map((r) => [r.dst, r.src])).toEqual([
      ['10.20.0.0/16', '10.10.0.1'],
      ['fd00:20::/64', null],
    ]);
    expect(renderWireGuardIpBatch(p)).toBe(`link set dev submariner mtu 1440 up
route replace 10.20.0.0/16 dev submariner src 10.10.0.1
route replace fd00:20::/64 dev submariner
`);
    expect(renderWgQuickConf(p)).toContain('PostUp = ip route replace fd00:20::/64 dev %i\n');
  });

  it('IPv6 endpoints are written in brackets', () => {
    const l6: GatewayEndpoint = { clusterId: 'east', privateIp: '2001:db8::1', subnets: ['fd00:10::/64'] };
    const r6: GatewayEndpoint = {
      clusterId: 'west',
      privateIp: '2001:db8::2',
      subnets: ['fd00:20::/64'],
      publicKey: PUB_B,
    };
    const p = planCable(l6, r6, { driver: 'wireguard', privateKey: PRIV, sameNetwork: true });
    expect(renderWireGuardSetconf(p)).toContain('Endpoint = [2001:db8::2]:4500');
    expect(p.mtu).toBe(1420);
    expect(p.mssClamp.map((r) => r.mss)).toEqual([1360, 1360]);
  });

  it('rendered text parses back into the planned peer set, for any mesh', () => {
    fc.assert(
      fc.property(fc.array(keyArb, { minLength: 1, maxLength: 15 }), fc.boolean(), (keys, withPsk) => {
        const uniq = [...new Set(keys)];
        const remotes = uniq.map((k, i) => meshEndpoint(i + 1, { publicKey: k, networks: 2 }));
        const p = planCable(meshEndpoint(0), remotes, {
          driver: 'wireguard',
          privateKey: PRIV,
          ...(withPsk ? { presharedKeys: { c1: PSK } } : {}),
        });
        for (const text of [renderWireGuardSetconf(p), renderWgQuickConf(p)]) {
          const back = parseWireGuardConf(text);
          expect(back.hasPrivateKey).toBe(true);
          expect(back.listenPort).toBe(4500);
          const expected = p.peers
            .map((peer) => ({
              publicKey: peer.publicKey,
              allowedIps: peer.allowedIps,
              endpoint: `${peer.endpoint.address}:${peer.endpoint.port}`,
              persistentKeepalive: 10,
              hasPresharedKey: withPsk && peer.clusterId === 'c1',
            }))
            .sort((x, y) => (x.publicKey < y.publicKey ? -1 : 1));
          expect(back.peers).toEqual(expected);
        }
        expect(renderWireGuardSetconf(p)).toBe(
          renderWireGuardSetconf(
            planCable(meshEndpoint(0), [...remotes].reverse(), {
              driver: 'wireguard',
              privateKey: PRIV,
              ...(withPsk ? { presharedKeys: { c1: PSK } } : {}),
            }),
          ),
        );
      }),
      { numRuns: 60 },
    );
  });

  it('a pre-shared key for a cluster that is not a peer is refused', () => {
    expect(() =>
      planCable(a, b, { driver: 'wireguard', privateKey: PRIV, presharedKeys: { south: PSK } }),
    ).toThrow(/presharedKeys has a key for "south", which is not a peer/);
  });
});
