import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { describeKernel } from '../../../testing/netns';
import { generateWireGuardKeyPair, wireGuardPublicKey } from './keygen';
import { wireGuardKeyProblem } from './keys';
import { Secret } from './secret';

describe('generateWireGuardKeyPair', () => {
  it('returns a clamped private key (as a Secret) and its public key, both 32 bytes in base64', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const { privateKey, publicKey } = generateWireGuardKeyPair();
      expect(privateKey).toBeInstanceOf(Secret);
      expect(String(privateKey)).toBe('[redacted]');
      expect(wireGuardKeyProblem(privateKey.reveal())).toBeNull();
      expect(wireGuardKeyProblem(publicKey)).toBeNull();
      const d = Buffer.from(privateKey.reveal(), 'base64');
      expect(d[0]! & 7).toBe(0);
      expect(d[31]! & 0x80).toBe(0);
      expect(d[31]! & 0x40).toBe(0x40);
      expect(wireGuardPublicKey(privateKey)).toBe(publicKey);
      seen.add(publicKey);
    }
    expect(seen.size).toBe(20);
  });

  it('derives the RFC 7748 test vector public key', () => {
    // Alice's key pair from RFC 7748 section 6.1.
    const priv = Buffer.from('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a', 'hex');
    const pub = Buffer.from('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a', 'hex');
    expect(wireGuardPublicKey(priv.toString('base64'))).toBe(pub.toString('base64'));
  });
});

describeKernel('generateWireGuardKeyPair against wg', ['wg'], () => {
  it('`wg pubkey` prints the same public key for the generated private key', () => {
    for (let i = 0; i < 5; i++) {
      const pair = generateWireGuardKeyPair();
      // The private key goes to wg on stdin and is never printed.
      const r = spawnSync('wg', ['pubkey'], { input: `${pair.privateKey.reveal()}\n`, encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(r.stdout.trim()).toBe(pair.publicKey);
    }
  });

  it('a key from `wg genkey` passes validation and gives what `wg pubkey` gives', () => {
    const gen = spawnSync('wg', ['genkey'], { encoding: 'utf8' });
    const priv = new Secret(gen.stdout.trim());
    expect(wireGuardKeyProblem(priv.reveal())).toBeNull();
    const pub = spawnSync('wg', ['pubkey'], { input: `${priv.reveal()}\n`, encoding: 'utf8' }).stdout.trim();
    expect(wireGuardPublicKey(priv)).toBe(pub);
  });
});
