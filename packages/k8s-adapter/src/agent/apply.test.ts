// applyNodePlan and the kernel reads against a scripted runner (the real kernel is in apply.kernel.test.ts).
import { generateWireGuardKeyPair } from '@isthmus/cable';
import { emptyPlan, planNodeRoutes } from '@isthmus/route-planner';
import { describe, expect, it } from 'vitest';
import type { NodePlanSpec } from '../resources';
import { applyNodePlan, memoryOf } from './apply';
import { AgentError } from './errors';
import { parseDumps, readDumps } from './observe';
import type { CommandResult, CommandRunner } from './runner';
import { p2pState } from './test-support';

const LINKS = [
  { ifindex: 1, ifname: 'lo', flags: ['LOOPBACK', 'UP'], mtu: 65536, address: '00:00:00:00:00:00' },
  { ifindex: 2, ifname: 'wg0', flags: ['POINTOPOINT'], mtu: 1420, linkinfo: { info_kind: 'tun' } },
];

/** A kernel that never changes: every read answers the same, every write succeeds (or as `fail` says). */
function scripted(
  opts: {
    nft?: boolean;
    fail?: (cmd: string, args: readonly string[]) => CommandResult | undefined;
    wgDump?: string;
  } = {},
) {
  const calls: string[] = [];
  const run: CommandRunner = async (cmd, args) => {
    const line = `${cmd} ${args.join(' ')}`;
    calls.push(line);
    const failed = opts.fail?.(cmd, args);
    if (failed) return failed;
    const ok = (stdout: string): CommandResult => ({ code: 0, stdout, stderr: '' });
    if (line === 'ip -json -details link show') return ok(JSON.stringify(LINKS));
    if (line === 'ip -json rule show' || line === 'ip -6 -json rule show')
      return ok(
        JSON.stringify([
          { priority: 0, src: 'all', table: 'local' },
          { priority: 32766, src: 'all', table: 'main' },
        ]),
      );
    if (cmd === 'ip' && args[0] === '-json') return ok('[]');
    if (cmd === 'ip' && args[1] === '-json') return ok('[]');
    if (cmd === 'bridge' && args[0] === '-json') return ok('[]');
    if (line === 'nft -j list tables') {
      return opts.nft === false
        ? { code: 127, stdout: '', stderr: 'nft: not found' }
        : ok('{"nftables":[{"metainfo":{}}]}');
    }
    if (cmd === 'wg' && args[0] === 'show') return ok(opts.wgDump ?? '(none)\t(none)\t0\toff\n');
    return ok('');
  };
  return { run, calls };
}

const spec: NodePlanSpec = { node: 'east-1', routes: planNodeRoutes(p2pState(), 'east-1').plan };

describe('readDumps / parseDumps', () => {
  it('runs only the read commands, in- or outside a NAT plan; wg only for an existing device', async () => {
    const k = scripted();
    const d = await readDumps(k.run, { mangle: false, nat: false, wireguard: 'wg0' });
    expect(k.calls.sort()).toEqual(
      [
        'bridge -json fdb show',
        'ip -6 -json route show table all',
        'ip -6 -json rule show',
        'ip -json -details link show',
        'ip -json addr show',
        'ip -json neigh show',
        'ip -json route show table all',
        'ip -json rule show',
        'nft -j list tables',
        'wg show wg0 dump',
      ].sort(),
    );
    const o = parseDumps(d);
    expect(o.links.get('wg0')).toEqual({ name: 'wg0', mtu: 1420, up: false });
    expect(o.wireguard).toEqual({ publicKey: null, listenPort: 0, peers: [] });
    expect(o.plan.devices.map((x) => x.name)).toEqual(['lo', 'wg0']);
    expect({ ...o.plan, devices: [] }).toEqual(emptyPlan());
    const absent = scripted();
    expect((await readDumps(absent.run, { mangle: true, nat: false, wireguard: 'wg9' })).wg).toBeNull();
    expect(absent.calls).toContain('iptables-save -t mangle');
  });

  it('a missing nft is fine without a NAT plan and COMMAND_FAILED with one', async () => {
    expect(
      (await readDumps(scripted({ nft: false }).run, { mangle: false, nat: false })).nftTables,
    ).toBeNull();
    await expect(readDumps(scripted({ nft: false }).run, { mangle: false, nat: true })).rejects.toMatchObject(
      { code: 'COMMAND_FAILED' },
    );
  });

  it('output that is not JSON is PARSE_ERROR', () => {
    const base = {
      routes: '[]',
      routes6: '[]',
      rules: '[]',
      rules6: '[]',
      neigh: '[]',
      fdb: '[]',
      links: '[]',
      addrs: '[]',
      nftTables: null,
      nftTable: {},
      wg: null,
    };
    expect(() => parseDumps({ ...base, routes: 'not json' })).toThrow(AgentError);
    expect(() => parseDumps({ ...base, routes: '{"dst": 1}' })).toThrow(/expected a JSON array/);
  });
});

describe('applyNodePlan against a scripted kernel', () => {
  it('a kernel that does not take the changes is NOT_CONVERGED, and the error carries the memory to keep in scope', async () => {
    const err = await applyNodePlan({ run: scripted().run, spec }).catch((e) => e);
    expect(err.code).toBe('NOT_CONVERGED');
    expect(err.message).toContain('routes differ');
    expect(memoryOf(err)?.scopes).toEqual([spec.routes]);
  });

  it('a failed command is COMMAND_FAILED with its stderr, the key redacted, and stops the pass', async () => {
    const key = generateWireGuardKeyPair();
    const k = scripted({
      fail: (cmd, args) =>
        cmd === 'sh' && args.includes('wg0')
          ? {
              code: 1,
              stdout: '',
              stderr: `Line unrecognized: \`PrivateKey=${key.privateKey.reveal()}'\nConfiguration parsing error\n`,
            }
          : undefined,
    });
    const cable = { driver: 'wireguard' as const, interface: 'wg0', mtu: 1440, secretFile: '/k', peers: [] };
    const err = await applyNodePlan({
      run: k.run,
      spec: { ...spec, cable },
      cableKey: { privateKey: key.privateKey, publicKey: key.publicKey },
    }).catch((e) => e);
    expect(err.code).toBe('COMMAND_FAILED');
    expect(err.message).toContain('Line unrecognized: `PrivateKey=[redacted]');
    expect(err.message).not.toContain(key.privateKey.reveal());
    expect(JSON.stringify(err.details)).not.toContain(key.privateKey.reveal());
    // Nothing after the failed command ran.
    expect(k.calls.some((c) => c.startsWith('ip link set dev wg0'))).toBe(false);
    expect(k.calls.some((c) => c.endsWith('-batch -'))).toBe(false);
  });

  it('a kernel that already matches runs no mutating command and needs no verification read', async () => {
    const k = scripted();
    const r = await applyNodePlan({ run: k.run, spec: { node: 'east-1', routes: emptyPlan() } });
    expect(r.ran).toEqual([]);
    expect(k.calls.every((c) => /^(ip|bridge|nft) (-6 )?-j(son)? /.test(c))).toBe(true);
    expect(k.calls).toHaveLength(9);
  });
});
