// Real-kernel tests of applyNodePlan: NodePlans applied to network namespaces with ip/bridge/nft/wg, read
// back, and applied again to show that a second pass runs no mutating command.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateWireGuardKeyPair, writeSecretFile } from '@isthmus/cable';
import { createGlobalnet, planGlobalnetNat } from '@isthmus/globalnet-ipam';
import { emptyPlan, planNodeRoutes, updateTopology } from '@isthmus/route-planner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeKernel, Lab, type RunResult, run } from '../../../../testing/netns';
import { createLogger } from '../log';
import type { NodePlanSpec } from '../resources';
import { applyNodePlan, observeKernel } from './apply';
import type { AgentMemory } from './pass';
import { readCableKey } from './secret';
import { EAST, type LabNode, labNodes, mutating, p2pState, recordingRunner, WEST } from './test-support';

function ping(from: LabNode['pod'], dst: string): Promise<RunResult> {
  return from.run('ping', ['-c', '1', '-W', '2', dst]);
}

async function pingUntilUp(from: LabNode['pod'], dst: string, tries = 10): Promise<RunResult> {
  let r = await ping(from, dst);
  for (let i = 1; i < tries && r.code !== 0; i++) r = await ping(from, dst);
  return r;
}

describeKernel(
  'node agent: applyNodePlan on a real kernel',
  ['root', 'netns', 'veth', 'vxlan', 'nft', 'ping', 'wireguard-go', 'wg'],
  () => {
    const lab = new Lab('agentk');
    const dir = mkdtempSync(join(tmpdir(), 'isthmus-agent-'));
    let east: LabNode;
    let west: LabNode;
    const state = p2pState();
    const specOf = (node: string, st = state): NodePlanSpec => ({
      node,
      routes: planNodeRoutes(st, node).plan,
    });
    const memory = new Map<string, AgentMemory>();
    const wgNames: string[] = [];

    beforeAll(async () => {
      [east, west] = await labNodes(lab, 'k');
    });
    afterAll(async () => {
      try {
        // wireguard-go daemonises inside the namespace: end it by pid with TERM so it removes its socket.
        for (const n of [east, west]) {
          if (n === undefined) continue;
          for (const p of await pidsIn(n.ns.name)) process.kill(p, 'SIGTERM');
        }
        for (const name of wgNames) {
          for (let i = 0; i < 40 && existsSync(`/var/run/wireguard/${name}.sock`); i++)
            await new Promise((r) => setTimeout(r, 50));
        }
        await lab.cleanup();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    async function apply(
      n: LabNode,
      spec: NodePlanSpec,
      extra: Partial<Parameters<typeof applyNodePlan>[0]> = {},
    ) {
      const rec = recordingRunner(n.ns.name);
      const t0 = performance.now();
      const res = await applyNodePlan({ run: rec.run, spec, memory: memory.get(n.fx.node) ?? {}, ...extra });
      const ms = performance.now() - t0;
      memory.set(n.fx.node, res.memory);
      return { res, ms, log: rec.log };
    }

    it('applies a P2P NodePlan; the pods ping each other over vx-bridge; a second apply runs no mutating command', async () => {
      const first = [] as number[];
      for (const n of [east, west]) {
        const { res, ms, log } = await apply(n, specOf(n.fx.node));
        expect(res.ran.length).toBeGreaterThan(0);
        expect(mutating(log).length).toBe(res.ran.length);
        first.push(ms);
      }
      const r = await pingUntilUp(east.pod, WEST.podIP);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect((await pingUntilUp(west.pod, EAST.podIP)).code).toBe(0);
      const route = await east.ns.must('ip', ['route', 'get', WEST.podIP]);
      expect(route).toContain('dev vx-bridge');

      for (const n of [east, west]) {
        const before = (await observeKernel(recordingRunner(n.ns.name).run, specOf(n.fx.node))).plan;
        const { res, ms, log } = await apply(n, specOf(n.fx.node));
        expect(res.pass.commands).toEqual([]);
        expect(res.ran).toEqual([]);
        expect(mutating(log)).toEqual([]);
        expect((await observeKernel(recordingRunner(n.ns.name).run, specOf(n.fx.node))).plan).toEqual(before);
        console.log(
          `[agent kernel] ${n.fx.node}: first apply ${first.shift()!.toFixed(0)} ms, second (no-op) ${ms.toFixed(0)} ms, ${log.length} read commands, 0 mutating`,
        );
      }
    });

    it('a changed plan applies only the delta: a node joins (1 route, 2 FDB, 1 neighbour), then leaves', async () => {
      const joined = updateTopology(state, {
        kind: 'node-join',
        node: {
          name: 'west-2',
          cluster: 'west',
          underlayIP: '198.18.0.3',
          underlayDevice: 'ul0',
          podCIDRs: ['10.20.2.0/24'],
        },
      });
      const delta = joined.deltas.find((d) => d.node === EAST.node)!.diff;
      const { res, log } = await apply(east, specOf(EAST.node, joined.state));
      const lines = res.ran.flatMap((c) =>
        String(c.input ?? '')
          .split('\n')
          .filter(Boolean),
      );
      expect(lines.filter((l) => l.startsWith('route '))).toEqual([
        expect.stringMatching(/^route add 10\.20\.2\.0\/24 via \S+ dev vx-bridge onlink table 150$/),
      ]);
      expect(lines.filter((l) => l.startsWith('fdb ')).length).toBe(2);
      expect(lines.filter((l) => l.startsWith('neigh ')).length).toBe(1);
      expect(lines.length).toBe(4);
      expect(delta.add.routes.length + delta.add.fdb.length + delta.add.neighbours.length).toBe(4);
      expect(mutating(log).every((l) => /-batch -$/.test(l))).toBe(true);
      expect((await ping(east.pod, WEST.podIP)).code).toBe(0);

      const left = await apply(east, specOf(EAST.node));
      const gone = left.res.ran.flatMap((c) =>
        String(c.input ?? '')
          .split('\n')
          .filter(Boolean),
      );
      expect(gone.filter((l) => l.startsWith('route del 10.20.2.0/24'))).toHaveLength(1);
      expect(
        gone.every((l) => / del /.test(` ${l}`) || l.startsWith('fdb del') || l.startsWith('neigh del')),
      ).toBe(true);
      expect(gone.length).toBe(4);
      expect((await apply(east, specOf(EAST.node))).res.ran).toEqual([]);
    });

    it('a plan that drops the VXLAN device deletes it, because the previous plan stays in scope', async () => {
      const n = await lab.netns('drop');
      await lab.veth(n, 'ul0', await lab.netns('dropp'), 'ul0', {
        a: ['198.18.1.1/15'],
        b: ['198.18.1.2/15'],
      });
      const rec = recordingRunner(n.name);
      const spec = specOf(EAST.node);
      const one = await applyNodePlan({ run: rec.run, spec });
      expect(await n.ipJson(['link', 'show', 'vx-bridge'])).toHaveLength(1);
      const two = await applyNodePlan({
        run: rec.run,
        spec: { node: EAST.node, routes: emptyPlan() },
        memory: one.memory,
      });
      const removed = two.ran.map((c) => c.input).join('');
      expect(removed).toContain('link del vx-bridge');
      expect(removed).not.toMatch(/ add /);
      expect((await n.run('ip', ['link', 'show', 'vx-bridge'])).code).not.toBe(0);
      expect(await n.must('ip', ['rule', 'show'])).not.toContain('lookup 150');
      // Without the memory a fresh agent leaves what it cannot know it owns.
      await applyNodePlan({ run: rec.run, spec });
      expect(
        (await applyNodePlan({ run: rec.run, spec: { node: EAST.node, routes: emptyPlan() } })).ran,
      ).toEqual([]);
      expect(await n.ipJson(['link', 'show', 'vx-bridge'])).toHaveLength(1);
    });

    it("loads the NAT plan as isthmus's own nft table, skips it when unchanged, reloads it after drift, deletes it when dropped", async () => {
      const gn = createGlobalnet({ globalCidr: '242.1.0.0/16' });
      gn.allocateEgress({ kind: 'cluster' }, 2);
      const nat = planGlobalnetNat({
        globalCidr: '242.1.0.0/16',
        localCidrs: ['10.20.0.0/16'],
        remoteGlobalCidrs: ['242.0.0.0/16'],
        egress: gn.egress(),
        ingress: [],
        pods: [],
      });
      const spec: NodePlanSpec = { ...specOf(WEST.node), nat };
      // Another program's table must survive everything the agent does.
      await west.ns.must('nft', ['-f', '-'], {
        input: 'table ip other {\n\tchain c {\n\t\ttype filter hook input priority 0;\n\t}\n}\n',
      });
      const a = await apply(west, spec);
      expect(a.res.ran.map((c) => `${c.kind}:${c.cmd} ${c.args.join(' ')}`)).toEqual(['nat:nft -f -']);
      const listed = await west.ns.must('nft', ['list', 'table', 'ip', 'isthmus-globalnet']);
      expect(listed).toContain('242.1.0.1-242.1.0.2');
      const b = await apply(west, spec);
      expect(mutating(b.log)).toEqual([]);
      await west.ns.must('nft', ['add', 'set', 'ip', 'isthmus-globalnet', 'intruder', '{ type ipv4_addr; }']);
      const c = await apply(west, spec);
      expect(c.res.ran.map((x) => x.kind)).toEqual(['nat']);
      expect(c.res.pass.reasons).toContain('nat: table changed since it was loaded');
      expect(await west.ns.must('nft', ['list', 'table', 'ip', 'isthmus-globalnet'])).toBe(listed);
      const d = await apply(west, specOf(WEST.node));
      expect(d.res.ran.map((x) => `${x.cmd} ${x.args.join(' ')}`)).toEqual([
        'nft delete table ip isthmus-globalnet',
      ]);
      expect((await west.ns.run('nft', ['list', 'table', 'ip', 'isthmus-globalnet'])).code).not.toBe(0);
      expect(await west.ns.must('nft', ['list', 'tables'])).toContain('table ip other');
    });

    it('configures a WireGuard cable from the key file (wireguard-go), no-op on the second pass, the key never printed', async () => {
      const name = `wg${Math.random().toString(16).slice(2, 10)}`;
      wgNames.push(name);
      const local = generateWireGuardKeyPair();
      const peer = generateWireGuardKeyPair();
      const keyFile = join(dir, 'east.key');
      writeSecretFile(keyFile, `${local.privateKey.reveal()}\n`);
      const spec: NodePlanSpec = {
        ...specOf(EAST.node),
        cable: {
          driver: 'wireguard',
          interface: name,
          mtu: 1440,
          listenPort: 45100,
          secretFile: keyFile,
          peers: [
            {
              publicKey: peer.publicKey,
              endpoint: '198.18.0.2:4500',
              allowedIPs: ['242.0.0.0/16', '10.99.0.0/16'],
              persistentKeepalive: 10,
            },
          ],
        },
      };
      const lines: string[] = [];
      const logger = createLogger({ level: 'debug', sink: (l) => lines.push(l) });
      const cableKey = await readCableKey(keyFile);
      const create = (iface: string) => ['env', 'LOG_LEVEL=silent', 'wireguard-go', iface];
      const a = await apply(east, spec, { cableKey, createWireGuard: create, logger });
      expect(a.res.ran.map((c) => c.kind)).toEqual(['cable-create', 'cable-config', 'cable-link']);
      const shown = await east.ns.must('wg', ['show', name]);
      expect(shown).toContain(`public key: ${local.publicKey}`);
      expect(shown).toContain('listening port: 45100');
      expect(shown).toContain(`peer: ${peer.publicKey}`);
      const link = (
        await east.ns.ipJson<Array<{ mtu: number; flags: string[] }>>(['link', 'show', name])
      )[0]!;
      expect(link.mtu).toBe(1440);
      expect(link.flags).toContain('UP');
      const b = await apply(east, spec, { cableKey, createWireGuard: create, logger });
      expect(mutating(b.log)).toEqual([]);
      // A peer changed out of band is put back.
      await east.ns.must('wg', ['set', name, 'peer', peer.publicKey, 'remove']);
      const c = await apply(east, spec, { cableKey, createWireGuard: create, logger });
      expect(c.res.ran.map((x) => x.kind)).toEqual(['cable-config']);
      expect(lines.length).toBeGreaterThan(0);
      const everything = lines.join('\n') + JSON.stringify([a, b, c].map((x) => x.res));
      expect(everything).not.toContain(local.privateKey.reveal());
      // A bad key file is an error that names the file, not its content.
      writeFileSync(keyFile, 'not-a-key\n', { mode: 0o600 });
      await expect(readCableKey(keyFile)).rejects.toMatchObject({ code: 'INVALID_SECRET' });
    });
  },
);

async function pidsIn(ns: string): Promise<number[]> {
  const r = await run('ip', ['netns', 'pids', ns]);
  return r.stdout.split(/\s+/).filter(Boolean).map(Number);
}

describe('node agent kernel test helpers', () => {
  it('mutating() tells reads from writes', () => {
    expect(
      mutating([
        'ip -json route show table all',
        'nft -j list tables',
        'ip -batch -',
        'wg setconf wg0 /dev/stdin',
      ]),
    ).toEqual(['ip -batch -', 'wg setconf wg0 /dev/stdin']);
  });
});
