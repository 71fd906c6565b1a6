// Secrets never reach the output: JSON goes through a redacting replacer, and every text the demo
// prints is checked against the scenario's revealed secrets before it is written.
import { REDACTED, Secret } from '@isthmus/cable';
import type { Scenario } from '../../e2e/scenario';

/** The revealed values of every secret in a scenario: gateway private keys, cable keys and PSKs. */
export function secretsOf(s: Scenario): string[] {
  const out: Secret[] = Object.values(s.keys ?? {}).map((k) => k.privateKey);
  for (const n of s.nodes) {
    const p = n.cable?.plan;
    if (p === undefined) continue;
    if (p.driver === 'wireguard') {
      out.push(p.privateKey);
      for (const peer of p.peers) if (peer.presharedKey !== null) out.push(peer.presharedKey);
    } else if (p.driver === 'libreswan') out.push(p.psk);
  }
  return [...new Set(out.map((x) => x.reveal()))].filter((x) => x !== '');
}

/** JSON.stringify replacer: a Secret becomes `[redacted]` whatever its own toJSON does. */
export function redactingReplacer(_key: string, value: unknown): unknown {
  return Secret.isInstance(value) ? REDACTED : value;
}

/** Throws (without the value) when `text` holds one of `secrets`; the caller then prints nothing. */
export function assertNoSecrets(text: string, secrets: readonly string[]): string {
  const leaked = secrets.findIndex((x) => text.includes(x));
  if (leaked >= 0) throw new Error(`refusing to print: the output would contain secret #${leaked + 1}`);
  return text;
}

/**
 * `text` with every occurrence of one of `secrets` replaced by `[redacted]`: for error messages, which
 * must still be shown (a command line or config quoted by a failing step could carry a key).
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const x of secrets) if (x !== '') out = out.split(x).join(REDACTED);
  return out;
}
