// The whole adapter on one cluster, `east`, against a real kube-apiserver + etcd: the controller (as the
// example's isthmus-controller ServiceAccount) computes east's gateway NodePlan from the Node and the
// ClusterSetMembers in the API server; the node agent (as isthmus-agent) reads it, applies it in a
// network namespace and reports it; west's gateway, in the namespace next door, applies the plan its own
// reconcile core gives. A ping crosses the VXLAN cable between the clusters' global CIDRs. Then west's
// gateway moves to another underlay address: the controller writes a new generation, the agent applies
// it, and the ping crosses again.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeKube, type Kube } from '../../../../testing/kube';
import { describeKernel, Lab, type Netns } from '../../../../testing/netns';
import { type Controller, startController } from '../controller';
import { createLogger } from '../log';
import type { NodePlan, NodePlanSpec } from '../resources';
import { installCrds, installExampleRbac, until } from '../test-support/kube-setup';
import { type Agent, NODEPLANS_PATH, startAgent } from './agent';
import { applyNodePlan } from './apply';
import type { AgentMemory } from './pass';
import { GATEWAYS, gatewayMemberSpec, gatewayNodePlans, recordingRunner } from './test-support';

const CRD = '/apis/isthmus.io/v1alpha1';
const [EAST, WEST] = GATEWAYS;
// An address of each cluster's global CIDR on its gateway (on loopback): what the other side routes to.
const DUMMY = { east: '242.0.0.200', west: '242.1.0.200' } as const;
const WEST_MOVED = '198.18.0.3';

describeKernel('controller + node agent + kernel', ['root', 'netns', 'veth', 'vxlan', 'nft', 'ping'], () => {
  describeKube('the controller plans east’s gateway, the agent applies it, traffic crosses', (getKube) => {
    const lab = new Lab('ctlagent');
    const ns = {} as Record<'east' | 'west', Netns>;
    const log: string[] = [];
    const logger = createLogger({ level: 'debug', sink: (l) => log.push(l) });
    let kube: Kube;
    let controller: Controller | undefined;
    let agent: Agent | undefined;
    let westMemory: AgentMemory = {};
    const eastPlan = async () => (await kube.request<NodePlan>('GET', `${NODEPLANS_PATH}/${EAST.node}`)).body;
    const applied = (p: NodePlan) =>
      p.status?.appliedGeneration !== undefined && p.status.appliedGeneration === p.metadata?.generation;
    const applyWest = async (spec: NodePlanSpec) => {
      const res = await applyNodePlan({ run: recordingRunner(ns.west.name).run, spec, memory: westMemory });
      westMemory = res.memory;
      return res;
    };
    const ping = async (from: 'east' | 'west', to: 'east' | 'west') =>
      ns[from].run('ping', ['-c', '2', '-i', '0.2', '-W', '2', '-I', DUMMY[from], DUMMY[to]]);
    const tunnelRx = async (c: 'east' | 'west') =>
      (
        await ns[c].ipJson<Array<{ stats64: { rx: { packets: number } } }>>([
          '-s',
          'link',
          'show',
          'vxlan-tunnel',
        ])
      )[0]!.stats64.rx.packets;

    beforeAll(async () => {
      kube = getKube();
      await installCrds(kube);
      await installExampleRbac(kube);

      ns.east = await lab.netns('east');
      ns.west = await lab.netns('west');
      await lab.veth(ns.east, 'ul0', ns.west, 'ul0', {
        a: [`${EAST.underlayIP}/15`],
        b: [`${WEST.underlayIP}/15`, `${WEST_MOVED}/15`],
      });
      for (const c of ['east', 'west'] as const)
        await ns[c].ipBatch(`link set lo up\naddr add ${DUMMY[c]}/32 dev lo\n`);

      // The cluster set as east's API server holds it (created in this order: east first).
      for (const [i, g] of GATEWAYS.entries()) {
        const r = await kube.request('POST', `${CRD}/clustersetmembers`, {
          apiVersion: 'isthmus.io/v1alpha1',
          kind: 'ClusterSetMember',
          metadata: { name: g.cluster },
          spec: gatewayMemberSpec(g, i),
        });
        expect(r.status, JSON.stringify(r.body)).toBe(201);
      }
      const n = await kube.request('POST', '/api/v1/nodes', {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: EAST.node, labels: { 'isthmus.io/gateway': 'true' } },
        spec: { podCIDR: EAST.nodePodCIDR, podCIDRs: [EAST.nodePodCIDR] },
      });
      expect(n.status, JSON.stringify(n.body)).toBe(201);
      const s = await kube.request('PATCH', `/api/v1/nodes/${EAST.node}/status`, {
        status: { addresses: [{ type: 'InternalIP', address: EAST.underlayIP }] },
      });
      expect(s.status, JSON.stringify(s.body)).toBe(200);

      controller = await startController({
        kubeConfig: await kube.serviceAccountKubeConfig('isthmus-system', 'isthmus-controller'),
        config: { clusterID: EAST.cluster },
        identity: 'ctl-east',
        nodePlanDebounceMs: 50,
        logger: logger.child({ component: 'controller' }),
      });
      agent = await startAgent({
        kubeConfig: await kube.serviceAccountKubeConfig('isthmus-system', 'isthmus-agent'),
        nodeName: EAST.node,
        netns: ns.east.name,
        resyncMs: 0,
        retryMs: 200,
        logger: logger.child({ component: 'agent' }),
      });
    }, 120_000);

    afterAll(async () => {
      await agent?.stop();
      await controller?.stop();
      await lab.cleanup();
    });

    it('the controller writes east-gw’s plan (the one the core computes), the agent applies and reports it; a ping crosses', async () => {
      const t0 = Date.now();
      const plan = await until(
        'east-gw applied',
        async () => {
          const p = await eastPlan();
          return p?.metadata?.generation !== undefined && applied(p) ? p : false;
        },
        60_000,
      ).catch((e: unknown) => {
        throw new Error(`${String(e)}\n${log.slice(-30).join('\n')}`);
      });
      console.log(`[controller->agent] NodePlan written and applied ${Date.now() - t0} ms after start`);
      expect(plan.spec).toEqual(gatewayNodePlans().east);
      expect(plan.spec.cable).toEqual({ driver: 'vxlan', interface: 'vxlan-tunnel', mtu: 1450 });
      expect(plan.status?.error ?? null).toBeNull();
      // West's side, applied directly from its own core's plan.
      const west = await applyWest(gatewayNodePlans().west);
      expect(west.ran.length).toBeGreaterThan(0);

      const fdb = await ns.east.must('bridge', ['fdb', 'show', 'dev', 'vxlan-tunnel']);
      expect(fdb).toContain(`00:00:00:00:00:00 dst ${WEST.underlayIP}`);
      const rx = await tunnelRx('west');
      const r = await ping('east', 'west');
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const back = await ping('west', 'east');
      expect(back.code, back.stdout + back.stderr).toBe(0);
      expect((await tunnelRx('west')) - rx).toBeGreaterThanOrEqual(2);
      // The controller wrote nothing more: an unchanged topology gives no new generation.
      await controller!.idle();
      expect((await eastPlan()).metadata?.generation).toBe(plan.metadata?.generation);
    });

    it('west’s gateway moves to another underlay address: a new generation, applied and reported, and the ping crosses again', async () => {
      const before = await eastPlan();
      const r = await kube.request('PATCH', `${CRD}/clustersetmembers/${WEST.cluster}`, {
        spec: { gateways: [{ node: WEST.node, privateIp: WEST_MOVED, publicIp: WEST_MOVED }] },
      });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      const t0 = Date.now();
      const after = await until(
        'the new generation applied',
        async () => {
          const p = await eastPlan();
          return (p.metadata?.generation ?? 0) > (before.metadata?.generation ?? 0) && applied(p) ? p : false;
        },
        60_000,
      ).catch((e: unknown) => {
        throw new Error(`${String(e)}\n${log.slice(-30).join('\n')}`);
      });
      console.log(`[controller->agent] member change -> new generation applied: ${Date.now() - t0} ms`);
      expect(after.spec).toEqual(gatewayNodePlans({ west: WEST_MOVED }).east);
      expect(after.status?.error ?? null).toBeNull();
      const fdb = await ns.east.must('bridge', ['fdb', 'show', 'dev', 'vxlan-tunnel']);
      expect(fdb).toContain(`00:00:00:00:00:00 dst ${WEST_MOVED}`);
      expect(fdb).not.toContain(`dst ${WEST.underlayIP}`);

      await applyWest(gatewayNodePlans({ west: WEST_MOVED }).west);
      const rx = await tunnelRx('west');
      const p = await ping('east', 'west');
      expect(p.code, p.stdout + p.stderr).toBe(0);
      expect((await tunnelRx('west')) - rx).toBeGreaterThanOrEqual(2);
      // No 403 anywhere: both ran under the example RBAC and nothing more.
      expect(log.filter((l) => /"status":403|Forbidden/.test(l))).toEqual([]);
    });
  });
});
