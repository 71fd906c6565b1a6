import type { Family } from '@isthmus/ipam';
import { CableError, show } from './errors';

/** The three cable drivers. */
export type Driver = 'wireguard' | 'vxlan' | 'libreswan';

export interface TunnelMtuOptions {
  /** MTU of the underlay link the tunnel packets leave by (default 1500). */
  readonly linkMtu?: number;
  /** Address family of the outer (underlay) header (default 4). */
  readonly underlayFamily?: Family;
  /** IPsec only: ESP in UDP (RFC 3948 NAT traversal) adds an 8-byte UDP header (default false). */
  readonly natT?: boolean;
}

/** Outer IP header: 20 bytes for IPv4 without options, 40 for the IPv6 fixed header. */
export const IP_HEADER = { 4: 20, 6: 40 } as const;
export const UDP_HEADER = 8;
/** WireGuard data message: type 1 + reserved 3 + receiver index 4 + counter 8 = 16. */
export const WIREGUARD_HEADER = 16;
/** Poly1305 authentication tag at the end of every WireGuard data message. */
export const WIREGUARD_TAG = 16;
/** VXLAN header (flags 1 + reserved 3 + VNI 3 + reserved 1). */
export const VXLAN_HEADER = 8;
/** The inner Ethernet header VXLAN carries (no 802.1Q tag). */
export const INNER_ETHERNET = 14;
/** ESP header: SPI 4 + sequence number 4. */
export const ESP_HEADER = 8;
/** AES-GCM explicit IV carried in every ESP packet (RFC 4106). */
export const ESP_GCM_IV = 8;
/** ESP trailer fields after the padding: pad length 1 + next header 1. */
export const ESP_TRAILER = 2;
/** AES-GCM integrity check value (16-byte tag, the aes_gcm16 / aes_gcm256 default). */
export const ESP_GCM_ICV = 16;
/** ESP pads payload + trailer to a multiple of 4 (AES-GCM's block size is 1, RFC 4303 asks for 4). */
export const ESP_ALIGN = 4;

/** Smallest MTU a link may have (RFC 791 for IPv4, RFC 8200 for IPv6). */
export const MIN_MTU = { 4: 68, 6: 1280 } as const;

/**
 * Bytes a driver adds in front of (and behind) each inner packet, for the fixed-size drivers.
 * - WireGuard: outer IP + UDP 8 + data header 16 + Poly1305 tag 16 = 60 (IPv4) / 80 (IPv6).
 *   WireGuard also pads the plaintext to a multiple of 16, but never beyond the interface MTU, so a
 *   packet of exactly the MTU is not padded further and the 60/80 holds at the maximum.
 * - VXLAN: outer IP + UDP 8 + VXLAN 8 + inner Ethernet 14 = 50 (IPv4) / 70 (IPv6).
 */
export function fixedOverhead(driver: 'wireguard' | 'vxlan', underlayFamily: Family): number {
  const ip = IP_HEADER[underlayFamily];
  return driver === 'wireguard'
    ? ip + UDP_HEADER + WIREGUARD_HEADER + WIREGUARD_TAG
    : ip + UDP_HEADER + VXLAN_HEADER + INNER_ETHERNET;
}

/**
 * Largest inner packet ESP in tunnel mode with AES-GCM carries through a link of `linkMtu`.
 *
 *   outer = IP (20|40) [+ UDP 8 with NAT-T] + ESP 8 + IV 8 + inner + pad + 2 + ICV 16
 *   inner + pad + 2 must be a multiple of 4, with pad the least that makes it so.
 *   Let room = linkMtu - IP - [8] - 8 - 8 - 16 (what is left for inner + pad + 2).
 *   The largest inner is then floor(room / 4) * 4 - 2 (pad = 0 exactly at that size).
 *
 *   IPv4, 1500, no NAT-T: room = 1500 - 20 - 32 = 1448 -> inner 1446 (overhead 54)
 *   IPv4, 1500, NAT-T:    room = 1500 - 20 - 8 - 32 = 1440 -> inner 1438 (overhead 62)
 *   IPv6, 1500, no NAT-T: room = 1500 - 40 - 32 = 1428 -> inner 1426 (overhead 74)
 *   IPv6, 1500, NAT-T:    room = 1500 - 40 - 8 - 32 = 1420 -> inner 1418 (overhead 82)
 *   IPv4, 1499, no NAT-T: room = 1447 -> 1444 - 2 = 1442: alignment costs up to 3 more bytes.
 */
export function espTunnelMaxInner(linkMtu: number, underlayFamily: Family, natT: boolean): number {
  const room =
    linkMtu - IP_HEADER[underlayFamily] - (natT ? UDP_HEADER : 0) - ESP_HEADER - ESP_GCM_IV - ESP_GCM_ICV;
  return Math.floor(room / ESP_ALIGN) * ESP_ALIGN - ESP_TRAILER;
}

/**
 * The largest inner packet (the tunnel's MTU) a driver carries over a link of `linkMtu` without
 * fragmenting the outer packet. Throws INVALID_MTU for a link MTU out of range and MTU_TOO_SMALL when
 * nothing useful (at least 68 bytes) is left.
 */
export function tunnelMtu(driver: Driver, options: TunnelMtuOptions = {}): number {
  const family = options.underlayFamily ?? 4;
  if (family !== 4 && family !== 6) {
    throw new CableError('INVALID_ARGUMENT', `underlayFamily ${show(family)} must be 4 or 6`, {
      field: 'underlayFamily',
      value: family,
    });
  }
  const linkMtu = options.linkMtu ?? 1500;
  if (
    typeof linkMtu !== 'number' ||
    !Number.isInteger(linkMtu) ||
    linkMtu < MIN_MTU[family] ||
    linkMtu > 65535
  ) {
    throw new CableError(
      'INVALID_MTU',
      `linkMtu ${show(linkMtu)} must be an integer from ${MIN_MTU[family]} to 65535 for an IPv${family} underlay`,
      { field: 'linkMtu', value: linkMtu },
    );
  }
  let mtu: number;
  if (driver === 'wireguard' || driver === 'vxlan') mtu = linkMtu - fixedOverhead(driver, family);
  else if (driver === 'libreswan') mtu = espTunnelMaxInner(linkMtu, family, options.natT === true);
  else {
    throw new CableError('INVALID_ARGUMENT', `driver ${show(driver)} must be wireguard, vxlan or libreswan`, {
      field: 'driver',
      value: driver,
    });
  }
  if (mtu < MIN_MTU[4]) {
    throw new CableError(
      'MTU_TOO_SMALL',
      `a ${driver} tunnel over a link MTU of ${linkMtu} leaves ${mtu} bytes, less than the IPv4 minimum of 68`,
      { driver, linkMtu, mtu },
    );
  }
  return mtu;
}

/** TCP MSS for an MTU: MTU - 40 (IPv4 20 + TCP 20) or MTU - 60 (IPv6 40 + TCP 20). */
export function tcpMss(mtu: number, family: Family): number {
  if (family !== 4 && family !== 6) {
    throw new CableError('INVALID_ARGUMENT', `family ${show(family)} must be 4 or 6`, {
      field: 'family',
      value: family,
    });
  }
  if (typeof mtu !== 'number' || !Number.isInteger(mtu) || mtu < MIN_MTU[family] || mtu > 65535) {
    throw new CableError(
      'INVALID_MTU',
      `mtu ${show(mtu)} must be an integer from ${MIN_MTU[family]} to 65535 for IPv${family}`,
      {
        field: 'mtu',
        value: mtu,
      },
    );
  }
  return mtu - (family === 4 ? 40 : 60);
}
