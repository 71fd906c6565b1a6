// Two clusters on the same pod and service CIDRs, joined by isthmus plans alone, carrying real traffic
// through network namespaces: WireGuard and VXLAN cables in gateway mode, and P2P between the workers.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeKernel, existingNamespaces, Lab, type Netns } from '../testing/netns';
import {
  type BuiltScenario,
  buildScenario,
  connectivityMatrix,
  failover,
  forwardedPackets,
  generateScenarioKeys,
  type MatrixRow,
  measureMtu,
  readBack,
  teardown,
  uniqueWgNames,
} from './kernel';
import { planScenario, type Scenario, type ScenarioDriver, type ScenarioMode } from './scenario';

const VARIANTS: readonly { driver: ScenarioDriver; mode: ScenarioMode; tag: string }[] = [
  { driver: 'wireguard', mode: 'gateway', tag: 'e2ewg' },
  { driver: 'vxlan', mode: 'gateway', tag: 'e2evx' },
  // P2P carries traffic worker to worker over route-planner's vx-bridge; the driver names no cable there.
  { driver: 'vxlan', mode: 'p2p', tag: 'e2ep2p' },
];

const inPodCidr = (ip: string) => ip.startsWith('10.244.');

function table(rows: readonly MatrixRow[]): string {
  return rows
    .map(
      (r) =>
        `${r.from.padEnd(11)} -> ${`${r.to}:${r.target.kind === 'service' ? 'svc' : 'pod'}`.padEnd(15)} seen ${String(r.tcp.seen).padEnd(11)} tcp ${r.tcp.ms?.toFixed(1) ?? '-'} ms ping ${r.ping === null ? '-' : r.ping.ok ? `${r.ping.rttMs} ms` : 'FAIL'} ${r.pass ? 'pass' : 'FAIL'}`,
    )
    .join('\n');
}

/** ICMP echo requests and replies by interface, counted in the pod's own namespace. */
const COUNTERS = `table inet e2e-nics {
  counter req_in_eth0 {}
  counter req_in_net1 {}
  counter rep_out_eth0 {}
  counter rep_out_net1 {}
  counter req_out_eth0 {}
  counter req_out_net1 {}
  counter rep_in_eth0 {}
  counter rep_in_net1 {}
  chain in { type filter hook input priority 0; policy accept;
    iifname "eth0" icmp type echo-request counter name "req_in_eth0"
    iifname "net1" icmp type echo-request counter name "req_in_net1"
    iifname "eth0" icmp type echo-reply counter name "rep_in_eth0"
    iifname "net1" icmp type echo-reply counter name "rep_in_net1"
  }
  chain out { type filter hook postrouting priority 0; policy accept;
    oifname "eth0" icmp type echo-reply counter name "rep_out_eth0"
    oifname "net1" icmp type echo-reply counter name "rep_out_net1"
    oifname "eth0" icmp type echo-request counter name "req_out_eth0"
    oifname "net1" icmp type echo-request counter name "req_out_net1"
  }
}
`;

async function counters(ns: Netns): Promise<Record<string, number>> {
  const j = JSON.parse(await ns.must('nft', ['-j', 'list', 'counters', 'table', 'inet', 'e2e-nics'])) as {
    nftables: Array<{ counter?: { name: string; packets: number } }>;
  };
  const out: Record<string, number> = {};
  for (const x of j.nftables) if (x.counter) out[x.counter.name] = x.counter.packets;
  return out;
}

async function gatewayForwards(built: BuiltScenario): Promise<number> {
  let n = 0;
  for (const node of built.scenario.nodes.filter((x) => x.role !== 'worker'))
    n += await forwardedPackets(built.ns[node.name]!);
  return n;
}

/** Everything a built scenario leaves on the machine while it runs: its namespaces, processes and wg sockets. */
function traces(built: BuiltScenario) {
  const pids = [
    ...Object.values(built.processes.wireguard),
    ...Object.values(built.processes.responders),
  ].map((p) => p.pid);
  return {
    namespaces: () => existingNamespaces(built.lab.id),
    processes: () =>
      pids.filter((pid) => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      }),
    sockets: () =>
      Object.values(built.scenario.wgNames).filter((n) => existsSync(`/var/run/wireguard/${n}.sock`)),
  };
}

function plan(driver: ScenarioDriver, mode: ScenarioMode): Scenario {
  return planScenario({
    driver,
    mode,
    ...(driver === 'wireguard' && { keys: generateScenarioKeys(), wgNames: uniqueWgNames() }),
  });
}

describeKernel(
  'two overlapping clusters joined end to end',
  ['root', 'netns', 'veth', 'vxlan', 'nft', 'wireguard-go', 'wg', 'ping'],
  () => {
    for (const v of VARIANTS) {
      describe(`${v.driver}, ${v.mode} mode`, () => {
        const lab = new Lab(v.tag);
        const scenario = plan(v.driver, v.mode);
        let built: BuiltScenario;
        let rows: MatrixRow[] = [];
        let forwarded = 0;
        beforeAll(async () => {
          built = await buildScenario(lab, scenario);
          const before = await gatewayForwards(built);
          rows = await connectivityMatrix(built);
          forwarded = (await gatewayForwards(built)) - before;
          console.log(`connectivity matrix (${v.driver}, ${v.mode}):\n${table(rows)}`);
        }, 180_000);
        afterAll(async () => {
          await lab.cleanup(); // a no-op after the teardown test; cleans up if a test failed first
          if (built !== undefined) await teardown(built);
        });

        it("a west pod reaches east's service through its global IP (TCP) and an east pod's (ping), seen as west's egress global IP", () => {
          const west = scenario.clusters[0];
          const svc = rows.find((r) => r.from === 'west-app' && r.target.kind === 'service')!;
          expect(svc.to).toBe(scenario.clusters[1].service.globalIp);
          expect(svc.tcp.ok, svc.tcp.error).toBe(true);
          expect(west.egressIps).toContain(svc.tcp.seen);
          const pod = rows.find((r) => r.from === 'west-app' && r.target.kind === 'pod')!;
          expect(pod.ping?.ok).toBe(true);
          expect(west.egressIps).toContain(pod.tcp.seen);
        });

        it('every pod reaches every remote global IP, and the receiver never sees an overlapping pod IP', () => {
          expect(rows).toHaveLength(scenario.expectations.length);
          expect(rows.filter((r) => !r.pass)).toEqual([]);
          for (const r of rows) {
            expect(inPodCidr(r.tcp.seen!), `${r.from} -> ${r.to} seen as ${r.tcp.seen}`).toBe(false);
            expect(r.expectedSources).toContain(r.tcp.seen);
          }
        });

        it('every node and pod reads back exactly its plans (ip -json, parseIpJson, scopeToPlan)', async () => {
          for (const n of scenario.nodes) {
            expect(await readBack(built, n.name, n.routes), n.name).toEqual(n.routes);
            // Main also holds the cable's own routes (the cable plan's, not the CNI's).
            const cable = n.cable?.plan;
            const cableDev = cable === undefined || cable.driver === 'libreswan' ? null : cable.interfaceName;
            const main = await readBack(built, n.name, n.kubernetes);
            expect({ ...main, routes: main.routes.filter((r) => r.dev !== cableDev) }, n.name).toEqual(
              n.kubernetes,
            );
          }
          for (const p of scenario.pods)
            expect(await readBack(built, p.name, p.plan.pod), p.name).toEqual(p.plan.pod);
        });

        if (v.mode === 'p2p') {
          it('the path is direct: no gateway forwarded a packet, the workers carried it over vx-bridge', async () => {
            expect(forwarded).toBe(0);
            const tx = (
              await built.ns['west-worker']!.ipJson<Array<{ stats64: { tx: { packets: number } } }>>([
                '-s',
                'link',
                'show',
                'vx-bridge',
              ])
            )[0]!.stats64.tx.packets;
            expect(tx).toBeGreaterThan(0);
          });
        } else {
          it('the traffic crossed the gateways (the counter the P2P test reads can move)', () => {
            expect(forwarded).toBeGreaterThan(0);
          });
        }

        it('the two-NIC pod: cluster CIDRs via eth0, the underlay via net1, replies leave the way requests came', async () => {
          const t = scenario.twoNic;
          const pod = built.ns[t.pod]!;
          const nodeIp = scenario.nodes.find((n) => n.name === t.node)!.underlayIp;
          const dev = async (dst: string, from?: string) =>
            / dev (\S+)/.exec(
              await pod.must('ip', ['route', 'get', dst, ...(from ? ['from', from] : [])]),
            )![1];
          expect(await dev(scenario.clusters[1].service.globalIp)).toBe('eth0');
          expect(await dev(scenario.clusters[0].service.clusterIp)).toBe('eth0');
          expect(await dev(t.underlayPeer)).toBe('net1');
          // Main sends the node's IP through eth0: only net1's source rule keeps net1's replies on net1.
          expect(await dev(nodeIp)).toBe('eth0');
          expect(await dev(nodeIp, t.net1Ip)).toBe('net1');
          await pod.must('nft', ['-f', '-'], { input: COUNTERS });

          expect((await pod.run('ping', ['-c', '1', '-W', '2', t.underlayPeer])).code).toBe(0);
          let c = await counters(pod);
          expect([c.req_out_net1, c.req_out_eth0, c.rep_in_net1, c.rep_in_eth0]).toEqual([1, 0, 1, 0]);

          const node = built.ns[t.node]!;
          expect(
            (await node.run('ping', ['-c', '2', '-i', '0.2', '-W', '2', '-I', nodeIp, t.net1Ip])).code,
          ).toBe(0);
          c = await counters(pod);
          expect([c.req_in_net1, c.rep_out_net1, c.rep_out_eth0]).toEqual([2, 2, 0]);

          const remote = rows.find((r) => r.target.name === t.pod && r.ping !== null)!;
          const from = built.ns[remote.from]!;
          expect((await from.run('ping', ['-c', '2', '-i', '0.2', '-W', '2', remote.to])).code).toBe(0);
          c = await counters(pod);
          expect([c.req_in_eth0, c.rep_out_eth0, c.rep_out_net1]).toEqual([2, 2, 2]);

          // The pod's own requests to a remote cluster's global IP leave through eth0 and their
          // replies come in on eth0; net1 sees none of it.
          const out = rows.find((r) => r.from === t.pod && r.ping?.ok === true);
          expect(out, `the matrix has a ping from ${t.pod} to a remote pod`).toBeDefined();
          const before = c;
          expect((await pod.run('ping', ['-c', '3', '-i', '0.2', '-W', '2', out!.to])).code).toBe(0);
          c = await counters(pod);
          const delta = (k: string) => c[k]! - before[k]!;
          expect(
            ['req_out_eth0', 'rep_in_eth0', 'req_out_net1', 'rep_in_net1'].map(delta),
            'requests out and replies in on eth0, nothing on net1',
          ).toEqual([3, 3, 0, 0]);
        });

        it('MTU: the largest DF ping the plans promise crosses end to end; one byte more fails with an error', async () => {
          const m = await measureMtu(built);
          expect(m.planned).toBe(scenario.mtu.largestDfPing);
          expect(m.largest.ok, m.largest.output).toBe(true);
          expect(m.largest.output).toContain(`${m.planned - 20} bytes from ${scenario.mtu.to}`);
          expect(m.overByOne.ok).toBe(false);
          expect(m.overByOne.output).toMatch(/Frag needed and DF set|message too long/);
          expect(m.overByOne.reportedMtu).toBe(m.planned);
          console.log(
            `MTU (${v.driver}, ${v.mode}): ${m.planned} passes, ${m.planned + 1} refused (${m.limitedBy})`,
          );
        });

        if (v.mode === 'gateway') {
          it("failover: east's active gateway is cut, the standby takes over by lease and plans, traffic resumes", async () => {
            const f = await failover(built, 'east');
            console.log(
              `failover (${v.driver}): ${f.from} -> ${f.to} by ${f.action}; elected ${f.electedMs} ms, applied ${f.appliedMs} ms, first reply ${f.firstReplyMs} ms after the cut`,
            );
            expect(f.from).toBe('east-gw');
            expect(f.to).toBe('east-gw2');
            expect(f.action).toBe('takeover');
            // Nobody takes a live lease: the takeover waits for its expiry.
            expect(f.electedMs).toBeGreaterThan(scenario.leaseDurationSeconds * 1000 * 0.5);
            expect(f.firstReplyMs).toBeGreaterThanOrEqual(f.electedMs);
            expect(f.change.remotes.map((r) => r.failover.moved.map((m) => m.toNode))).toEqual([
              ['east-gw2'],
            ]);
            const after = await connectivityMatrix(built);
            console.log(`after failover:\n${table(after)}`);
            expect(after.filter((r) => !r.pass)).toEqual([]);
          }, 90_000);
        }

        it('teardown leaves no namespace, process or WireGuard socket behind', async () => {
          const left = traces(built);
          expect(left.namespaces().length).toBeGreaterThan(0);
          await teardown(built);
          expect(left.namespaces()).toEqual([]);
          expect(left.processes()).toEqual([]);
          expect(left.sockets()).toEqual([]);
        });
      });
    }

    describe('a second run right after the first', () => {
      const lab = new Lab('e2eagain');
      afterAll(() => lab.cleanup());
      it('builds the WireGuard scenario again in fresh namespaces, passes the matrix and leaves nothing', async () => {
        const built = await buildScenario(lab, plan('wireguard', 'gateway'));
        const left = traces(built);
        const rows = await connectivityMatrix(built);
        expect(rows.filter((r) => !r.pass)).toEqual([]);
        await teardown(built);
        expect([left.namespaces(), left.processes(), left.sockets()]).toEqual([[], [], []]);
      }, 180_000);
    });
  },
);
