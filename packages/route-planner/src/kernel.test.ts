// Real-kernel tests: plans are applied with ip -batch / bridge -batch / iptables-restore in namespaces this
// file creates, read back with ip -json, parsed, and compared with the plan.
import { afterAll, describe, expect, it } from 'vitest';
import { describeKernel, Lab, type Netns, type RunResult } from '../../../testing/netns';
import { diffPlan, isEmptyDiff } from './diff';
import { planNodeHost } from './node-host';
import { planNodeRoutes } from './node-plan';
import { scopeToPlan } from './parse';
import { emptyPlan, type Plan } from './plan';
import { planPodRoutes } from './pod';
import { renderIpBatch } from './render';
import { applyMangle, applySteps, readKernel } from './test-support';
import { createTopologyState, type Topology } from './topology';
import { updateTopology } from './update';

type ReadOptions = NonNullable<Parameters<typeof readKernel>[1]>;

/** What the kernel holds of the things `scope` names: the read-back every comparison here uses. */
async function readBack(ns: Netns, scope: Plan, opts: ReadOptions = {}): Promise<Plan> {
  return scopeToPlan(await readKernel(ns, opts), scope);
}

/** True when a second agent pass would find nothing to do. */
async function inSync(ns: Netns, desired: Plan, opts: ReadOptions = {}): Promise<boolean> {
  return isEmptyDiff(diffPlan(await readBack(ns, desired, opts), desired));
}

/** Bring a namespace to a desired plan the way an agent would: read, scope, diff, render, apply. */
async function converge(
  ns: Netns,
  desired: Plan,
  opts: ReadOptions & { peerNetns?: string } = {},
): Promise<Plan> {
  const diff = diffPlan(await readBack(ns, desired, opts), desired);
  await applySteps(
    ns,
    renderIpBatch(diff, opts.peerNetns === undefined ? {} : { peerNetns: opts.peerNetns }),
  );
  if (opts.mangle) await applyMangle(ns, { ...desired, mangle: diff.add.mangle });
  return readBack(ns, desired, opts);
}

/** The node's side of one pod: its host plan, whose veth peers live in the pod's namespace. */
function convergeHost(node: Netns, pod: Netns, host: Plan): Promise<Plan> {
  return converge(node, host, { peer: pod, peerNetns: pod.name });
}

/** Put an address on lo (IPv6 without DAD, so it is usable at once). */
async function onLoopback(ns: Netns, cidr: string): Promise<void> {
  await ns.must('ip', ['addr', 'add', cidr, 'dev', 'lo', ...(cidr.includes(':') ? ['nodad'] : [])]);
}

/** ping from a namespace; IPv6 when the destination is. */
function ping(
  ns: Netns,
  dst: string,
  o: { from?: string; count?: number; wait?: number; interval?: number } = {},
): Promise<RunResult> {
  return ns.run('ping', [
    ...(dst.includes(':') ? ['-6'] : []),
    ...['-c', String(o.count ?? 1)],
    ...(o.interval === undefined ? [] : ['-i', String(o.interval)]),
    ...['-W', String(o.wait ?? 2)],
    ...(o.from === undefined ? [] : ['-I', o.from]),
    dst,
  ]);
}

/** Assert a command exited 0, showing its output when it did not. */
function expectSuccess(r: RunResult): void {
  expect(r.code, r.stdout + r.stderr).toBe(0);
}

/** `ip route get` in a namespace: which way the kernel would send dst (from a source, if given). */
function routeGet(ns: Netns, dst: string, from?: string): Promise<string> {
  const family = dst.includes(':') ? ['-6'] : [];
  return ns.must('ip', [...family, 'route', 'get', dst, ...(from === undefined ? [] : ['from', from])]);
}

/** The one node (`<cluster>-1`) of a P2P cluster, meeting the others on its `ul0`, and a pod address it serves. */
interface P2PNode {
  ns: Netns;
  cluster: string;
  podCIDR: string;
  serviceCIDR?: string;
  underlayIP: string;
  nodePodCIDR: string;
  podIP: string;
}

/**
 * Plan every node of a P2P topology of one-node clusters, converge its namespace to its plan, and give it
 * its pod address on lo. Returns, by node, the plan, its conflicts and what the kernel read back.
 */
async function convergeP2P(nodes: readonly P2PNode[], options?: Topology['options']) {
  const state = createTopologyState({
    clusters: nodes.map((n) => ({
      name: n.cluster,
      mode: 'p2p' as const,
      podCIDRs: [n.podCIDR],
      ...(n.serviceCIDR !== undefined && { serviceCIDRs: [n.serviceCIDR] }),
    })),
    nodes: nodes.map((n) => ({
      name: `${n.cluster}-1`,
      cluster: n.cluster,
      underlayIP: n.underlayIP,
      underlayDevice: 'ul0',
      podCIDRs: [n.nodePodCIDR],
    })),
    ...(options !== undefined && { options }),
  });
  const out = [];
  for (const n of nodes) {
    const { plan, conflicts } = planNodeRoutes(state, `${n.cluster}-1`);
    const got = await converge(n.ns, plan);
    await onLoopback(n.ns, `${n.podIP}/${n.podIP.includes(':') ? 128 : 32}`);
    out.push({ plan, conflicts, got });
  }
  return out;
}

async function sysctl(ns: Netns, pairs: Record<string, string>) {
  for (const [k, v] of Object.entries(pairs)) await ns.must('sysctl', ['-q', '-w', `${k}=${v}`]);
}

/**
 * Packets counted so far by `-A POSTROUTING -o <dev> ...` mangle rules, by device. POSTROUTING, not OUTPUT:
 * OUTPUT's `-o` is the device chosen before the connmark reroute.
 */
async function outputCounts(ns: Netns): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const line of (await ns.must('iptables-save', ['-c', '-t', 'mangle'])).split('\n')) {
    const m = /^\[(\d+):\d+\] -A POSTROUTING -o (\S+) /.exec(line);
    if (m) out[m[2]!] = (out[m[2]!] ?? 0) + Number(m[1]);
  }
  return out;
}

describeKernel('route-planner on a real kernel', ['netns', 'veth', 'vxlan', 'iptables', 'ping'], () => {
  const lab = new Lab('rplan');
  afterAll(() => lab.cleanup());

  describe('a two-NIC pod as a CNI leaves it', () => {
    it('applies the host and pod plans, reads back exactly the plan, and carries traffic over veth0', async () => {
      const node = await lab.netns('node');
      const pod = await lab.netns('pod');
      // eth0 (underlay) and net1 as veths to the node, with the routes a CNI would have put in main.
      await lab.veth(pod, 'eth0', node, 'pe0', { a: ['192.0.2.10/24'], b: ['192.0.2.1/24'] });
      await lab.veth(pod, 'net1', node, 'pn1', { a: ['198.18.10.5/24'], b: ['198.18.10.1/24'] });
      await pod.ipBatch(
        'route add default via 192.0.2.1 dev eth0\nroute add default via 198.18.10.1 dev net1 metric 100\nroute add 198.19.0.0/16 via 198.18.10.1 dev net1\n',
      );
      await onLoopback(node, '198.18.0.1/32');
      const plan = planPodRoutes({
        nics: [
          { name: 'eth0', addresses: ['192.0.2.10/24'], routes: [{ dst: 'default', via: '192.0.2.1' }] },
          {
            name: 'net1',
            addresses: ['198.18.10.5/24'],
            routes: [
              { dst: 'default', via: '198.18.10.1', metric: 100 },
              { dst: '198.19.0.0/16', via: '198.18.10.1' },
            ],
          },
        ],
        nodeIPs: ['198.18.0.1'],
        clusterPodCIDRs: ['10.233.64.0/18'],
        serviceCIDRs: ['10.233.0.0/18'],
        podMACPrefix: '0a:1b',
        podKey: 'container-1',
      });
      expect(plan.modes).toEqual({ eth0: 'underlay', net1: 'underlay' });
      expect(await convergeHost(node, pod, plan.host)).toEqual(plan.host);
      expect(await converge(pod, plan.pod, { mangle: true })).toEqual(plan.pod);
      for (const s of plan.sysctls) await sysctl(pod, { [s.name]: s.value });
      // Idempotent: a second pass finds nothing to do.
      expect(await inSync(pod, plan.pod, { mangle: true })).toBe(true);
      // net1's default left main for table 101; the node is reached over veth0 both ways.
      const main = await pod.ipJson<Array<{ dst: string; dev: string }>>(['route', 'show', 'default']);
      expect(main.map((r) => r.dev)).toEqual(['eth0']);
      expectSuccess(await ping(pod, '198.18.0.1'));
      expectSuccess(await ping(node, '192.0.2.10', { from: '198.18.0.1' }));
      expect(await routeGet(pod, '10.233.0.10', '198.18.10.5')).toContain('dev veth0');
    });
  });

  describe('a pod whose node IP changes', () => {
    it('converges in one pass: the new node IP link route goes in before the routes via it', async () => {
      const pod = await lab.netns('pod2');
      const node = await lab.netns('node2');
      await lab.veth(pod, 'eth0', node, 'pe0', { a: ['192.0.2.20/24'], b: ['192.0.2.1/24'] });
      const plan = (nodeIP: string) =>
        planPodRoutes({
          nics: [
            { name: 'eth0', addresses: ['192.0.2.20/24'], routes: [{ dst: 'default', via: '192.0.2.1' }] },
          ],
          nodeIPs: [nodeIP],
          clusterPodCIDRs: ['10.233.64.0/18'],
          mode: 'overlay',
        }).pod;
      await pod.ipBatch('route add default via 192.0.2.1 dev eth0\n');
      expect(await converge(pod, plan('198.18.0.1'))).toEqual(plan('198.18.0.1'));
      expect(await converge(pod, plan('198.18.0.2'))).toEqual(plan('198.18.0.2'));
    });
  });

  describe('interface names with dots', () => {
    it("net1.100's rp_filter is set through sysctl's slash form and lands in /proc/sys/.../net1.100/", async () => {
      const pod = await lab.netns('dotpod');
      const node = await lab.netns('dotnode');
      // No 8021q module here: a veth named like a VLAN device stands in for one.
      await lab.veth(pod, 'eth0', node, 'pe0', { a: ['192.0.2.60/24'], b: ['192.0.2.1/24'] });
      await lab.veth(pod, 'net1.100', node, 'pn1', { a: ['198.18.60.5/24'], b: ['198.18.60.1/24'] });
      await pod.ipBatch('route add default via 192.0.2.1 dev eth0\n');
      const plan = planPodRoutes({
        nics: [
          { name: 'eth0', addresses: ['192.0.2.60/24'], routes: [{ dst: 'default', via: '192.0.2.1' }] },
          { name: 'net1.100', addresses: ['198.18.60.5/24'], routes: [] },
        ],
        nodeIPs: ['198.18.0.1'],
        clusterPodCIDRs: ['10.233.64.0/18'],
        mode: 'overlay',
        podRPFilter: 2,
      });
      expect(await converge(pod, plan.pod)).toEqual(plan.pod);
      const file = '/proc/sys/net/ipv4/conf/net1.100/rp_filter';
      await pod.must('sh', ['-c', `echo 0 > ${file}`]);
      for (const s of plan.sysctls) {
        await sysctl(pod, { [s.name]: s.value });
        expect((await pod.must('cat', [s.path])).trim(), s.path).toBe(s.value);
      }
      expect(plan.sysctls.map((s) => s.name)).toContain('net.ipv4.conf.net1/100.rp_filter');
      expect((await pod.must('cat', [file])).trim()).toBe('2');
    });
  });

  describe('the underlay reply path', () => {
    it('answers a connection that arrived over veth0 over veth0, though main says eth0; without the mangle rules it would not', async () => {
      const node = await lab.netns('rpnode');
      const pod = await lab.netns('rppod');
      const client = await lab.netns('rpcl');
      const underlay = await lab.netns('rpul');
      // The client is outside the cluster CIDRs: only the connmark can send the pod's answer back to the node.
      await lab.veth(client, 'eth0', node, 'cl0', { a: ['198.18.50.5/24'], b: ['198.18.50.1/24'] });
      await lab.veth(pod, 'eth0', underlay, 'eth0', { a: ['192.0.2.40/24'], b: ['192.0.2.1/24'] });
      await client.must('ip', ['route', 'add', 'default', 'via', '198.18.50.1']);
      await pod.must('ip', ['route', 'add', 'default', 'via', '192.0.2.1', 'dev', 'eth0']);
      await onLoopback(node, '198.18.0.1/32');
      await sysctl(node, { 'net.ipv4.ip_forward': '1' });
      const plan = planPodRoutes({
        nics: [
          { name: 'eth0', addresses: ['192.0.2.40/24'], routes: [{ dst: 'default', via: '192.0.2.1' }] },
        ],
        nodeIPs: ['198.18.0.1'],
        clusterPodCIDRs: ['10.233.64.0/18'],
        podKey: 'reply-path',
      });
      expect(await convergeHost(node, pod, plan.host)).toEqual(plan.host);
      // Everything but the mangle rules first.
      expect(await converge(pod, plan.pod)).toEqual({ ...plan.pod, mangle: [] });
      for (const s of plan.sysctls) await sysctl(pod, { [s.name]: s.value });
      // Count the pod's echo replies by the device they leave through.
      for (const dev of ['eth0', 'veth0'])
        await pod.must(
          'iptables',
          `-t mangle -A POSTROUTING -o ${dev} -p icmp --icmp-type echo-reply`.split(' '),
        );
      // One ping's three echoes are one conntrack entry: the second and third test that the connmark lasts.
      const echo = () => ping(client, '192.0.2.40', { count: 3, interval: 0.2, wait: 1 });

      const lost = await echo();
      expect(lost.code, 'without the mangle rules the reply must not reach the client').not.toBe(0);
      const without = await outputCounts(pod);
      expect(without.eth0, 'the requests arrived and were answered through eth0').toBe(3);
      expect(without.veth0).toBe(0);

      await applyMangle(pod, plan.pod);
      expect(await readBack(pod, plan.pod, { mangle: true })).toEqual(plan.pod);
      expectSuccess(await echo());
      const withRules = await outputCounts(pod);
      expect(withRules.veth0).toBe(3);
      expect(withRules.eth0).toBe(without.eth0);
      // The pod's own connections still leave by main's default.
      expect(await routeGet(pod, '198.18.50.5')).toContain('dev eth0');
    });
  });

  describe('IPv6', () => {
    it('a dual-stack two-NIC pod: applies both families, reads back exactly the plan, and pings over veth0', async () => {
      const node = await lab.netns('dsnode');
      const pod = await lab.netns('dspod');
      await lab.veth(pod, 'eth0', node, 'pe0', {
        a: ['192.0.2.50/24', '2001:db8:1::50/64'],
        b: ['192.0.2.1/24', '2001:db8:1::1/64'],
      });
      await lab.veth(pod, 'net1', node, 'pn1', {
        a: ['198.18.20.5/24', '2001:db8:2::5/64'],
        b: ['198.18.20.1/24', '2001:db8:2::1/64'],
      });
      // `ip route add default via <v6>` takes its family from the gateway.
      await pod.ipBatch(
        [
          'route add default via 192.0.2.1 dev eth0',
          'route add default via 198.18.20.1 dev net1 metric 100',
          'route add default via 2001:db8:1::1 dev eth0',
          'route add default via 2001:db8:2::1 dev net1 metric 100',
          '',
        ].join('\n'),
      );
      await onLoopback(node, '198.18.0.1/32');
      await onLoopback(node, '2001:db8:ff::1/128');
      const plan = planPodRoutes({
        nics: [
          {
            name: 'eth0',
            addresses: ['192.0.2.50/24', '2001:db8:1::50/64'],
            routes: [
              { dst: 'default', via: '192.0.2.1' },
              { dst: 'default', via: '2001:db8:1::1' },
            ],
          },
          {
            name: 'net1',
            addresses: ['198.18.20.5/24', '2001:db8:2::5/64'],
            routes: [
              { dst: 'default', via: '198.18.20.1', metric: 100 },
              { dst: 'default', via: '2001:db8:2::1', metric: 100 },
            ],
          },
        ],
        nodeIPs: ['198.18.0.1', '2001:db8:ff::1'],
        clusterPodCIDRs: ['10.233.64.0/18', '2001:db8:a::/64'],
        serviceCIDRs: ['10.233.0.0/18', '2001:db8:b::/108'],
        podKey: 'dual-stack',
      });
      // The comparison below is only worth something if the plan holds IPv6 entries of every kind.
      const v6 = <T extends { family: number }>(xs: readonly T[]) => xs.filter((x) => x.family === 6);
      expect(v6(plan.pod.rules)).toEqual([
        { family: 6, priority: 1000, from: '2001:db8:2::5/128', table: 101 },
        { family: 6, priority: 1000, fwmark: 1, table: 100 },
      ]);
      expect(v6(plan.pod.mangle)).toHaveLength(3);
      expect(v6(plan.pod.routes).map((r) => `${r.table} ${r.dst}`)).toContain('100 default');
      expect(v6(plan.host.rules)).toEqual([{ family: 6, priority: 1000, table: 500 }]);
      expect(v6(plan.host.routes).map((r) => r.dst)).toEqual(['2001:db8:1::50/128', '2001:db8:2::5/128']);
      expect(plan.pod.neighbours.map((n) => n.dst)).toContain('2001:db8:ff::1');

      expect(await convergeHost(node, pod, plan.host)).toEqual(plan.host);
      expect(await converge(pod, plan.pod, { mangle: true })).toEqual(plan.pod);
      expect(await inSync(pod, plan.pod, { mangle: true })).toBe(true);
      // net1's IPv6 default left main for table 101; its source rule sends its traffic there.
      const main6 = await pod.ipJson<Array<{ dev: string }>>(['-6', 'route', 'show', 'default']);
      expect(main6.map((r) => r.dev)).toEqual(['eth0']);
      expect(await routeGet(pod, '2001:db8:99::1', '2001:db8:2::5')).toContain('dev net1');
      expect(await routeGet(pod, '2001:db8:b::10', '2001:db8:2::5')).toContain('dev veth0');
      expectSuccess(await ping(pod, '2001:db8:ff::1', { from: '2001:db8:1::50' }));
      expectSuccess(await ping(node, '2001:db8:2::5', { from: '2001:db8:ff::1' }));
    });

    it('P2P over an IPv6 underlay with IPv6 VTEPs: both nodes read back their plans and ping6 across the VXLAN', async () => {
      const a = await lab.netns('p6a');
      const b = await lab.netns('p6b');
      await lab.veth(a, 'ul0', b, 'ul0', { a: ['2001:db8::1/64'], b: ['2001:db8::2/64'] });
      const nodes = await convergeP2P(
        [
          {
            ns: a,
            cluster: 'east',
            podCIDR: '2001:db8:10::/56',
            underlayIP: '2001:db8::1',
            nodePodCIDR: '2001:db8:10:1::/64',
            podIP: '2001:db8:10:1::1',
          },
          {
            ns: b,
            cluster: 'west',
            podCIDR: '2001:db8:20::/56',
            underlayIP: '2001:db8::2',
            nodePodCIDR: '2001:db8:20:1::/64',
            podIP: '2001:db8:20:1::1',
          },
        ],
        { vtepCIDR: '2001:db8:240::/112' },
      );
      for (const { plan, conflicts, got } of nodes) {
        expect(conflicts).toEqual([]);
        expect(plan.routes.every((r) => r.family === 6) && plan.rules.every((r) => r.family === 6)).toBe(
          true,
        );
        expect(got).toEqual(plan);
      }
      expectSuccess(await ping(a, '2001:db8:20:1::1', { from: '2001:db8:10:1::1', count: 2 }));
      expect(await routeGet(a, '2001:db8:20:1::1', '2001:db8:10:1::1')).toContain('dev vx-bridge');
    });
  });

  describe('host plans shared by the pods of a node', () => {
    it("the union of two pods' host plans carries both; a removed pod leaves the other pod and the shared rule alone", async () => {
      const node = await lab.netns('shnode');
      const podA = await lab.netns('shpoda');
      const podB = await lab.netns('shpodb');
      // The pods' eth0s share one underlay link; only their veths lead to the node.
      await lab.veth(podA, 'eth0', podB, 'eth0', { a: ['192.0.2.61/24'], b: ['192.0.2.62/24'] });
      await onLoopback(node, '198.18.0.1/32');
      const planFor = (ip: string, key: string) =>
        planPodRoutes({
          nics: [{ name: 'eth0', addresses: [`${ip}/24`] }],
          nodeIPs: ['198.18.0.1'],
          podKey: key,
        });
      const a = planFor('192.0.2.61', 'shared-a');
      const b = planFor('192.0.2.62', 'shared-b');
      // Pod A first, then pod B joins: the node converges to the union each time.
      const peers = [podA, podB];
      expect(await converge(node, planNodeHost([a.host]), { peers, peerNetns: podA.name })).toEqual(a.host);
      const both = planNodeHost([a.host, b.host]);
      expect(await converge(node, both, { peers, peerNetns: podB.name })).toEqual(both);
      for (const [pod, plan] of [
        [podA, a],
        [podB, b],
      ] as const) {
        expect(await converge(pod, plan.pod, { mangle: true })).toEqual(plan.pod);
      }
      const fromNode = (ip: string) => ping(node, ip, { from: '198.18.0.1', wait: 1 });
      for (const ip of ['192.0.2.61', '192.0.2.62']) expect((await fromNode(ip)).code, ip).toBe(0);
      const kernel = await readKernel(node, { peers });
      expect(scopeToPlan(kernel, both)).toEqual(both);
      // Pod A's host plan alone as the desired state would delete pod B's route.
      expect(diffPlan(scopeToPlan(kernel, a.host), a.host).delete.routes).toEqual(b.host.routes);

      // Pod B goes: its namespace (here: its veth) disappears, and the kernel drops the route and neighbour on it.
      await node.must('ip', ['link', 'del', b.host.devices[0]!.name]);
      const rest = planNodeHost([a.host]);
      expect(await inSync(node, rest, { peers })).toBe(true);
      expect(await readBack(node, both, { peers })).toEqual(rest);
      expect((await fromNode('192.0.2.61')).code).toBe(0);
      expect((await fromNode('192.0.2.62')).code).not.toBe(0);

      // The last pod goes: the empty union scopes nothing, so scope by the union applied before.
      await node.must('ip', ['link', 'del', a.host.devices[0]!.name]);
      const last = diffPlan(await readBack(node, rest, { peers }), emptyPlan());
      expect(last.delete).toEqual({ ...emptyPlan(), rules: a.host.rules });
      await applySteps(node, renderIpBatch(last));
      expect(await readBack(node, rest, { peers })).toEqual(emptyPlan());
    });
  });

  describe('node plans', () => {
    it('P2P: two node namespaces apply their plans, read them back, and ping across the VXLAN', async () => {
      const a = await lab.netns('p2pa');
      const b = await lab.netns('p2pb');
      await lab.veth(a, 'ul0', b, 'ul0', { a: ['198.18.0.1/24'], b: ['198.18.0.2/24'] });
      const nodes = await convergeP2P([
        {
          ns: a,
          cluster: 'east',
          podCIDR: '10.10.0.0/16',
          serviceCIDR: '10.96.0.0/16',
          underlayIP: '198.18.0.1',
          nodePodCIDR: '10.10.1.0/24',
          podIP: '10.10.1.1',
        },
        {
          ns: b,
          cluster: 'west',
          podCIDR: '10.20.0.0/16',
          serviceCIDR: '10.97.0.0/16',
          underlayIP: '198.18.0.2',
          nodePodCIDR: '10.20.1.0/24',
          podIP: '10.20.1.1',
        },
      ]);
      for (const { plan, conflicts, got } of nodes) {
        expect(conflicts).toEqual([]);
        expect(got).toEqual(plan);
      }
      expectSuccess(await ping(a, '10.20.1.1', { from: '10.10.1.1', count: 2 }));
      expect(await routeGet(a, '10.20.1.1', '10.10.1.1')).toContain('dev vx-bridge');
    });

    it('gateway mode: a node reaches a remote cluster through its gateway and the cable', async () => {
      const gw = await lab.netns('gw');
      const nd = await lab.netns('gwnode');
      const remote = await lab.netns('remote');
      await lab.veth(gw, 'ul0', nd, 'ul0', { a: ['198.18.1.1/24'], b: ['198.18.1.2/24'] });
      await lab.veth(gw, 'cable0', remote, 'cable0', { a: ['192.0.2.1/30'], b: ['192.0.2.2/30'] });
      const topology: Topology = {
        clusters: [
          { name: 'home', mode: 'gateway', podCIDRs: ['10.40.0.0/16'], serviceCIDRs: ['10.41.0.0/16'] },
          { name: 'away', mode: 'gateway', podCIDRs: ['10.30.0.0/16'], serviceCIDRs: ['10.31.0.0/16'] },
        ],
        nodes: [
          {
            name: 'home-gw',
            cluster: 'home',
            underlayIP: '198.18.1.1',
            podCIDRs: ['10.40.1.0/24'],
            gateway: true,
            cableDevice: 'cable0',
          },
          { name: 'home-n1', cluster: 'home', underlayIP: '198.18.1.2', podCIDRs: ['10.40.2.0/24'] },
          {
            name: 'away-gw',
            cluster: 'away',
            underlayIP: '198.18.2.1',
            podCIDRs: ['10.30.1.0/24'],
            gateway: true,
          },
        ],
      };
      const state = createTopologyState(topology);
      const gwPlan = planNodeRoutes(state, 'home-gw').plan;
      const ndPlan = planNodeRoutes(state, 'home-n1').plan;
      expect(gwPlan.routes.map((r) => `${r.dst} ${r.dev}`)).toEqual([
        '10.30.0.0/16 cable0',
        '10.31.0.0/16 cable0',
      ]);
      expect(await converge(gw, gwPlan)).toEqual(gwPlan);
      expect(await converge(nd, ndPlan)).toEqual(ndPlan);
      // What the CNI and the cable would provide: forwarding, the return route to the node, the remote side.
      await sysctl(gw, {
        'net.ipv4.ip_forward': '1',
        'net.ipv4.conf.all.rp_filter': '0',
        'net.ipv4.conf.default.rp_filter': '0',
      });
      await sysctl(nd, { 'net.ipv4.conf.all.rp_filter': '0', 'net.ipv4.conf.default.rp_filter': '0' });
      await gw.must('ip', ['route', 'add', '10.40.2.0/24', 'via', '198.18.1.2']);
      await onLoopback(nd, '10.40.2.1/32');
      await onLoopback(remote, '10.30.0.1/32');
      await remote.must('ip', ['route', 'add', '10.40.0.0/16', 'via', '192.0.2.1']);
      expectSuccess(await ping(nd, '10.30.0.1', { from: '10.40.2.1', count: 2 }));
    });

    it('gateway mode over an L2 cable (VXLAN, learning off): a link route ARPs in vain, cable next hops carry the traffic', async () => {
      const gw = await lab.netns('l2gw');
      const nd = await lab.netns('l2node');
      const remote = await lab.netns('l2rgw');
      await lab.veth(gw, 'ul0', nd, 'ul0', { a: ['198.18.3.1/24'], b: ['198.18.3.2/24'] });
      await lab.veth(gw, 'ul1', remote, 'ul1', { a: ['192.0.2.5/30'], b: ['192.0.2.6/30'] });
      // What @isthmus/cable's VXLAN plan sets up on both gateways: no learning, VTEPs, flood to the peer.
      for (const [ns, local, vtep, peer] of [
        [gw, '192.0.2.5', '241.0.0.1/8', '192.0.2.6'],
        [remote, '192.0.2.6', '241.0.0.2/8', '192.0.2.5'],
      ] as const) {
        await ns.ipBatch(
          `link add vxc type vxlan id 1000 local ${local} dstport 4500 nolearning\nlink set vxc mtu 1450 up\naddr add ${vtep} dev vxc\n`,
        );
        await ns.must('bridge', ['fdb', 'append', '00:00:00:00:00:00', 'dev', 'vxc', 'dst', peer]);
      }
      const topology: Topology = {
        clusters: [
          { name: 'home', mode: 'gateway', podCIDRs: ['10.40.0.0/16'] },
          { name: 'away', mode: 'gateway', podCIDRs: ['10.30.0.0/16'] },
        ],
        nodes: [
          {
            name: 'home-gw',
            cluster: 'home',
            underlayIP: '198.18.3.1',
            podCIDRs: ['10.40.1.0/24'],
            gateway: true,
            cableDevice: 'vxc',
          },
          { name: 'home-n1', cluster: 'home', underlayIP: '198.18.3.2', podCIDRs: ['10.40.2.0/24'] },
        ],
      };
      const state = createTopologyState(topology);
      expect(await converge(gw, planNodeRoutes(state, 'home-gw').plan)).toEqual(
        planNodeRoutes(state, 'home-gw').plan,
      );
      const ndPlan = planNodeRoutes(state, 'home-n1').plan;
      expect(await converge(nd, ndPlan)).toEqual(ndPlan);
      await sysctl(gw, {
        'net.ipv4.ip_forward': '1',
        'net.ipv4.conf.all.rp_filter': '0',
        'net.ipv4.conf.default.rp_filter': '0',
      });
      await sysctl(nd, { 'net.ipv4.conf.all.rp_filter': '0', 'net.ipv4.conf.default.rp_filter': '0' });
      // The remote gateway answers ARP only for its own VTEP, as a gateway whose pods sit behind it does.
      await sysctl(remote, { 'net.ipv4.conf.all.arp_ignore': '1', 'net.ipv4.conf.all.rp_filter': '0' });
      await gw.must('ip', ['route', 'add', '10.40.2.0/24', 'via', '198.18.3.2']);
      await onLoopback(nd, '10.40.2.1/32');
      await onLoopback(remote, '10.30.0.1/32');
      await remote.must('ip', ['route', 'add', '10.40.0.0/16', 'via', '241.0.0.1', 'dev', 'vxc']);
      expect(await routeGet(gw, '10.30.0.1')).not.toContain('via');
      expect((await ping(nd, '10.30.0.1', { from: '10.40.2.1', wait: 1 })).code).not.toBe(0);

      const { state: next, deltas } = updateTopology(state, {
        kind: 'cable-next-hops',
        node: 'home-gw',
        cableNextHops: { away: '241.0.0.2' },
      });
      expect(deltas.map((d) => d.node)).toEqual(['home-gw']);
      await applySteps(gw, renderIpBatch(deltas[0]!.diff));
      const gwPlan = planNodeRoutes(next, 'home-gw').plan;
      expect(await readBack(gw, gwPlan)).toEqual(gwPlan);
      expect(gwPlan.routes).toEqual([
        { family: 4, table: 150, dst: '10.30.0.0/16', via: '241.0.0.2', dev: 'vxc', onlink: true },
      ]);
      expectSuccess(await ping(nd, '10.30.0.1', { from: '10.40.2.1', count: 2 }));
    });
  });
});
