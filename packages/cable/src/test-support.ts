// Helpers shared by the tests of this package (not part of the public API, not bundled).
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fc from 'fast-check';
import { expect } from 'vitest';
import type { Netns, Started } from '../../../testing/netns';
import type { GatewayEndpoint } from './endpoint';
import { CableError } from './errors';

/** Run fn, assert it threw a CableError (by marker and by class), and return it. */
export function thrown(fn: () => unknown): CableError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected a CableError to be thrown').toBeDefined();
  expect(CableError.isInstance(caught), `not a CableError: ${String(caught)}`).toBe(true);
  expect(caught).toBeInstanceOf(CableError);
  return caught as CableError;
}

/** A random 32-byte key in base64 (any 32 bytes are a valid public key). */
export function randomKey(): string {
  return randomBytes(32).toString('base64');
}

/** Any 32 bytes, base64: every valid WireGuard key. */
export const keyArb = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((b) => Buffer.from(b).toString('base64'));

/**
 * Gateway i of a mesh: cluster `c<i>`, underlay 198.18.x.y/15 (all on one network unless
 * `networks` > 1), pod CIDR 10.<i>.0.0/16 style from 10.0.0.0/8 and service CIDR from 100.64.0.0/10.
 */
export function meshEndpoint(
  i: number,
  opts: { publicKey?: string; networks?: number } = {},
): GatewayEndpoint {
  const net = (opts.networks ?? 1) > 1 ? i % opts.networks! : 0;
  const host = i + 1;
  return {
    clusterId: `c${i}`,
    node: `gw-${i}`,
    privateIp: `198.${18 + (net > 0 ? 1 : 0)}.${(net * 16 + (host >> 8)) & 255}.${host & 255}`,
    privateSubnet: `198.${18 + (net > 0 ? 1 : 0)}.${net * 16}.0/20`,
    publicIp: `192.0.2.${(i % 250) + 1}`,
    subnets: [`10.${i >> 8}.${i & 255}.0/24`, `100.${64 + (i >> 8)}.${i & 255}.0/24`],
    ...(opts.publicKey === undefined ? {} : { publicKey: opts.publicKey }),
  };
}

/** Fisher-Yates with fast-check's random source, for order-independence properties. */
export function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** A WireGuard interface name unique on the machine (the control socket is /var/run/wireguard/<name>.sock). */
export function uniqueWgName(): string {
  return `wg${randomBytes(4).toString('hex')}`;
}

/** Starts wireguard-go in the foreground inside `ns` (the lab tracks the pid) and waits for its socket. */
export async function startWireGuardGo(ns: Netns, name: string): Promise<Started> {
  const proc = await ns.start('wireguard-go', ['-f', name]);
  const sock = `/var/run/wireguard/${name}.sock`;
  for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
  if (!existsSync(sock)) throw new Error(`wireguard-go did not create ${sock}: ${proc.output()}`);
  return proc;
}

/** Retries a ping until one reply arrives (the first packets may wait for a handshake or ARP). */
export async function pingUntilUp(ns: Netns, dst: string, tries = 20): Promise<void> {
  let last = '';
  for (let i = 0; i < tries; i++) {
    const r = await ns.run('ping', ['-c', '1', '-W', '1', dst]);
    if (r.code === 0) return;
    last = r.stdout + r.stderr;
  }
  throw new Error(`no ping reply from ${dst}: ${last}`);
}
