import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { espTunnelMaxInner, fixedOverhead, tcpMss, tunnelMtu } from './mtu';
import { thrown } from './test-support';

/** The ESP tunnel-mode packet size for an inner packet, written out field by field (the oracle). */
function espOuter(inner: number, family: 4 | 6, natT: boolean): number {
  const ip = family === 4 ? 20 : 40;
  const udp = natT ? 8 : 0;
  let pad = 0;
  while ((inner + pad + 2) % 4 !== 0) pad++;
  return (
    ip +
    udp +
    8 /* SPI+seq */ +
    8 /* IV */ +
    inner +
    pad +
    1 /* pad length */ +
    1 /* next header */ +
    16 /* ICV */
  );
}

describe('tunnelMtu', () => {
  it('WireGuard costs 60 bytes over IPv4 and 80 over IPv6', () => {
    expect(tunnelMtu('wireguard', { linkMtu: 1500 })).toBe(1440);
    expect(tunnelMtu('wireguard', { linkMtu: 1500, underlayFamily: 6 })).toBe(1420);
    expect(fixedOverhead('wireguard', 4)).toBe(60);
    expect(fixedOverhead('wireguard', 6)).toBe(80);
  });

  it('VXLAN costs 50 bytes over IPv4 and 70 over IPv6', () => {
    expect(tunnelMtu('vxlan')).toBe(1450);
    expect(tunnelMtu('vxlan', { underlayFamily: 6 })).toBe(1430);
    expect(tunnelMtu('vxlan', { linkMtu: 9000 })).toBe(8950);
  });

  it('ESP tunnel mode with AES-GCM: 1446 / 1438 with NAT-T over IPv4, 1426 / 1418 over IPv6', () => {
    expect(tunnelMtu('libreswan')).toBe(1446);
    expect(tunnelMtu('libreswan', { natT: true })).toBe(1438);
    expect(tunnelMtu('libreswan', { underlayFamily: 6 })).toBe(1426);
    expect(tunnelMtu('libreswan', { underlayFamily: 6, natT: true })).toBe(1418);
    // A link MTU that is not a multiple of 4 loses the alignment slack.
    expect(tunnelMtu('libreswan', { linkMtu: 1499 })).toBe(1442);
  });

  it('the ESP maximum is exactly the largest inner packet whose outer packet fits the link', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1280, max: 9216 }),
        fc.constantFrom(4 as const, 6 as const),
        fc.boolean(),
        (link, family, natT) => {
          const max = espTunnelMaxInner(link, family, natT);
          expect(espOuter(max, family, natT)).toBeLessThanOrEqual(link);
          for (let extra = 1; extra <= 4; extra++)
            expect(espOuter(max + extra, family, natT)).toBeGreaterThan(link);
          expect(tunnelMtu('libreswan', { linkMtu: link, underlayFamily: family, natT })).toBe(max);
        },
      ),
    );
  });

  it('fixed-overhead drivers: the tunnel MTU plus the overhead is the link MTU, for every link MTU', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1280, max: 65535 }),
        fc.constantFrom(4 as const, 6 as const),
        fc.constantFrom('wireguard' as const, 'vxlan' as const),
        (link, family, driver) => {
          expect(
            tunnelMtu(driver, { linkMtu: link, underlayFamily: family }) + fixedOverhead(driver, family),
          ).toBe(link);
        },
      ),
    );
  });

  it('rejects link MTUs out of range and a tunnel with nothing left, with typed errors', () => {
    expect(thrown(() => tunnelMtu('wireguard', { linkMtu: 67 })).code).toBe('INVALID_MTU');
    expect(thrown(() => tunnelMtu('wireguard', { linkMtu: 1279, underlayFamily: 6 })).code).toBe(
      'INVALID_MTU',
    );
    expect(thrown(() => tunnelMtu('wireguard', { linkMtu: 1500.5 })).code).toBe('INVALID_MTU');
    expect(thrown(() => tunnelMtu('vxlan', { linkMtu: 70000 })).message).toContain('70000');
    const small = thrown(() => tunnelMtu('wireguard', { linkMtu: 100 }));
    expect(small.code).toBe('MTU_TOO_SMALL');
    expect(small.details).toMatchObject({ linkMtu: 100, mtu: 40 });
    expect(thrown(() => tunnelMtu('gre' as never)).code).toBe('INVALID_ARGUMENT');
    expect(thrown(() => tunnelMtu('vxlan', { underlayFamily: 5 as never })).code).toBe('INVALID_ARGUMENT');
  });
});

describe('tcpMss', () => {
  it('is MTU - 40 for IPv4 and MTU - 60 for IPv6', () => {
    expect(tcpMss(1440, 4)).toBe(1400);
    expect(tcpMss(1440, 6)).toBe(1380);
    expect(tcpMss(1450, 4)).toBe(1410);
    expect(tcpMss(1438, 4)).toBe(1398);
  });

  it('refuses an MTU below the family minimum', () => {
    expect(thrown(() => tcpMss(1279, 6)).code).toBe('INVALID_MTU');
    expect(thrown(() => tcpMss(67, 4)).code).toBe('INVALID_MTU');
    expect(thrown(() => tcpMss(1400, 7 as never)).code).toBe('INVALID_ARGUMENT');
  });
});
