import type { Addr } from '@isthmus/ipam';
import { RoutePlannerError, show } from './errors';

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** A MAC address in lower-case colon form, or INVALID_MAC. */
export function macOf(text: unknown, field: string): string {
  const m = typeof text === 'string' ? text.toLowerCase() : '';
  if (!MAC_RE.test(m)) {
    throw new RoutePlannerError(
      'INVALID_MAC',
      `${field}: ${show(text)} is not a MAC address like 0e:00:00:00:00:01`,
      {
        field,
        value: text,
      },
    );
  }
  return m;
}

/**
 * A two-byte MAC prefix ("0a:1b") that is unicast and locally administered, as Spiderpool's
 * podMACPrefix requires; anything else would collide with real NICs or be multicast.
 */
export function macPrefixOf(text: unknown, field: string): [number, number] {
  const m = typeof text === 'string' ? /^([0-9a-fA-F]{2}):([0-9a-fA-F]{2})$/.exec(text) : null;
  const b0 = m ? Number.parseInt(m[1]!, 16) : -1;
  if (!m || (b0 & 1) !== 0 || (b0 & 2) === 0) {
    throw new RoutePlannerError(
      'INVALID_MAC',
      `${field}: ${show(text)} must be two bytes "xx:yy" whose first byte is unicast and locally administered (e.g. 0a:1b)`,
      { field, value: text },
    );
  }
  return [b0, Number.parseInt(m[2]!, 16)];
}

function fmt(bytes: readonly number[]): string {
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** Prefix bytes plus the address's IPv4 bytes (the last 4 bytes for IPv6): Spiderpool's podMACPrefix rule. */
export function macFromAddr(prefix: readonly [number, number], addr: Addr): string {
  const b = addr.toBytes();
  return fmt([prefix[0], prefix[1], ...b.slice(b.length - 4)]);
}

/** The MAC of a pod NIC from Spiderpool's podMACPrefix and the pod's address: 0a:1b + 172.100.0.210 -> 0a:1b:ac:64:00:d2. */
export function podMAC(podMACPrefix: string, address: Addr): string {
  return macFromAddr(macPrefixOf(podMACPrefix, 'podMACPrefix'), address);
}

/** FNV-1a 32-bit: a stable, dependency-free hash for deterministic names and MACs. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** A locally administered unicast MAC (02:...) derived from a key, for devices the plan creates. */
export function macFromKey(key: string): string {
  const h1 = fnv1a(key);
  const h2 = fnv1a(`${key}\u0000`);
  return fmt([0x02, (h1 >>> 24) & 0xff, (h1 >>> 16) & 0xff, (h1 >>> 8) & 0xff, h1 & 0xff, h2 & 0xff]);
}
