// Real-kernel tests: plans are applied with ip -batch / bridge -batch / iptables-restore in namespaces this
// file creates, read back with ip -json, parsed, and compared with the plan.
import { afterAll, describe, expect, it } from 'vitest';
import { describeKernel, Lab, type Netns } from '../../../testing/netns';
import { diffPlan, isEmptyDiff } from './diff';
import { planNodeRoutes } from './node-plan';
import { scopeToPlan } from './parse';
import type { Plan } from './plan';
import { planPodRoutes } from './pod';
import { renderIpBatch } from './render';
import { applyMangle, applySteps, readKernel } from './test-support';
import { createTopologyState, type Topology } from './topology';

/** Bring a namespace to a desired plan the way an agent would: read, scope, diff, render, apply. */
async function converge(
  ns: Netns,
  desired: Plan,
  opts: { peer?: Netns; peerNetns?: string; mangle?: boolean } = {},
) {
  const before = scopeToPlan(await readKernel(ns, opts), desired);
  const diff = diffPlan(before, desired);
  await applySteps(
    ns,
    renderIpBatch(diff, opts.peerNetns === undefined ? {} : { peerNetns: opts.peerNetns }),
  );
  if (opts.mangle) await applyMangle(ns, { ...desired, mangle: diff.add.mangle });
  return scopeToPlan(await readKernel(ns, opts), desired);
}

async function sysctl(ns: Netns, pairs: Record<string, string>) {
  for (const [k, v] of Object.entries(pairs)) await ns.must('sysctl', ['-q', '-w', `${k}=${v}`]);
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
      await node.must('ip', ['addr', 'add', '198.18.0.1/32', 'dev', 'lo']);
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
      const host = await converge(node, plan.host, { peer: pod, peerNetns: pod.name });
      expect(host).toEqual(plan.host);
      const got = await converge(pod, plan.pod, { mangle: true });
      expect(got).toEqual(plan.pod);
      for (const s of plan.sysctls) await sysctl(pod, { [s.name]: s.value });
      // Idempotent: a second pass finds nothing to do.
      expect(
        isEmptyDiff(diffPlan(scopeToPlan(await readKernel(pod, { mangle: true }), plan.pod), plan.pod)),
      ).toBe(true);
      // net1's default left main for table 101; the node is reached over veth0 both ways.
      const main = await pod.ipJson<Array<{ dst: string; dev: string }>>(['route', 'show', 'default']);
      expect(main.map((r) => r.dev)).toEqual(['eth0']);
      const ping = await pod.run('ping', ['-c', '1', '-W', '2', '198.18.0.1']);
      expect(ping.code, ping.stdout + ping.stderr).toBe(0);
      const back = await node.run('ping', ['-c', '1', '-W', '2', '-I', '198.18.0.1', '192.0.2.10']);
      expect(back.code, back.stdout + back.stderr).toBe(0);
      const via = await pod.must('ip', ['route', 'get', '10.233.0.10', 'from', '198.18.10.5']);
      expect(via).toContain('dev veth0');
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

  describe('node plans', () => {
    it('P2P: two node namespaces apply their plans, read them back, and ping across the VXLAN', async () => {
      const a = await lab.netns('p2pa');
      const b = await lab.netns('p2pb');
      await lab.veth(a, 'ul0', b, 'ul0', { a: ['198.18.0.1/24'], b: ['198.18.0.2/24'] });
      const topology: Topology = {
        clusters: [
          { name: 'east', mode: 'p2p', podCIDRs: ['10.10.0.0/16'], serviceCIDRs: ['10.96.0.0/16'] },
          { name: 'west', mode: 'p2p', podCIDRs: ['10.20.0.0/16'], serviceCIDRs: ['10.97.0.0/16'] },
        ],
        nodes: [
          {
            name: 'east-1',
            cluster: 'east',
            underlayIP: '198.18.0.1',
            underlayDevice: 'ul0',
            podCIDRs: ['10.10.1.0/24'],
          },
          {
            name: 'west-1',
            cluster: 'west',
            underlayIP: '198.18.0.2',
            underlayDevice: 'ul0',
            podCIDRs: ['10.20.1.0/24'],
          },
        ],
      };
      const state = createTopologyState(topology);
      for (const [ns, name, podIP] of [
        [a, 'east-1', '10.10.1.1'],
        [b, 'west-1', '10.20.1.1'],
      ] as const) {
        const { plan, conflicts } = planNodeRoutes(state, name);
        expect(conflicts).toEqual([]);
        expect(await converge(ns, plan)).toEqual(plan);
        await ns.must('ip', ['addr', 'add', `${podIP}/32`, 'dev', 'lo']);
      }
      const ping = await a.run('ping', ['-c', '2', '-W', '2', '-I', '10.10.1.1', '10.20.1.1']);
      expect(ping.code, ping.stdout + ping.stderr).toBe(0);
      const route = await a.must('ip', ['route', 'get', '10.20.1.1', 'from', '10.10.1.1']);
      expect(route).toContain('dev vx-bridge');
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
      await nd.must('ip', ['addr', 'add', '10.40.2.1/32', 'dev', 'lo']);
      await remote.must('ip', ['addr', 'add', '10.30.0.1/32', 'dev', 'lo']);
      await remote.must('ip', ['route', 'add', '10.40.0.0/16', 'via', '192.0.2.1']);
      const ping = await nd.run('ping', ['-c', '2', '-W', '2', '-I', '10.40.2.1', '10.30.0.1']);
      expect(ping.code, ping.stdout + ping.stderr).toBe(0);
    });
  });
});
