// The agent scenario against a real kube-apiserver + etcd: two node agents, each bound to a
// network namespace, read their NodePlans (a P2P VXLAN plan from route-planner) from the API server
// under the example's agent RBAC, apply them, report appliedGeneration and ping each other's pods.
import { planNodeRoutes, updateTopology } from '@isthmus/route-planner';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeKube, type Kube } from '../../../../testing/kube';
import { describeKernel, Lab } from '../../../../testing/netns';
import { createLogger } from '../log';
import { API_VERSION, type NodePlan, type NodePlanSpec } from '../resources';
import { installCrds, installExampleRbac, until } from '../test-support/kube-setup';
import { type Agent, NODEPLANS_PATH, type PassReport, startAgent } from './agent';
import { EAST, type LabNode, labNodes, p2pState, WEST } from './test-support';

describeKernel(
  'node agents against a real API server',
  ['root', 'netns', 'veth', 'vxlan', 'nft', 'ping'],
  () => {
    describeKube(
      'two agents in network namespaces apply their NodePlans and ping across the VXLAN',
      (getKube) => {
        const lab = new Lab('agentapi');
        const agents: Agent[] = [];
        const reports = new Map<string, PassReport[]>();
        const logLines: string[] = [];
        let kube: Kube;
        let nodes: [LabNode, LabNode];
        const state = p2pState();
        const spec = (node: string, st = state): NodePlanSpec => ({
          node,
          routes: planNodeRoutes(st, node).plan,
        });
        const get = async (name: string) =>
          (await kube.request<NodePlan>('GET', `${NODEPLANS_PATH}/${name}`)).body;

        beforeAll(async () => {
          kube = getKube();
          await installCrds(kube);
          await installExampleRbac(kube);
          nodes = await labNodes(lab, 'a');
          for (const n of nodes) {
            const r = await kube.request('POST', NODEPLANS_PATH, {
              apiVersion: API_VERSION,
              kind: 'NodePlan',
              metadata: { name: n.fx.node },
              spec: spec(n.fx.node),
            });
            expect(r.status, JSON.stringify(r.body)).toBe(201);
          }
          // The agents run as the example's isthmus-agent ServiceAccount: nodeplans get/list/watch, status, events.
          const agentKc = await kube.serviceAccountKubeConfig('isthmus-system', 'isthmus-agent');
          for (const n of nodes) {
            reports.set(n.fx.node, []);
            agents.push(
              await startAgent({
                kubeConfig: agentKc,
                nodeName: n.fx.node,
                netns: n.ns.name,
                resyncMs: 0,
                retryMs: 200,
                logger: createLogger({ level: 'debug', sink: (l) => logLines.push(l) }),
                onPass: (r) => reports.get(n.fx.node)!.push(r),
              }),
            );
          }
        }, 120_000);

        afterAll(async () => {
          await Promise.all(agents.map((a) => a.stop()));
          await lab.cleanup();
        });

        it('each agent reports appliedGeneration, and the pods ping each other across vx-bridge', async () => {
          for (const n of nodes) {
            const np = await until(`${n.fx.node} applied`, async () => {
              const got = await get(n.fx.node);
              return got.status?.appliedGeneration === got.metadata.generation ? got : undefined;
            });
            expect(np.status?.error).toBeUndefined();
            expect(np.status?.conditions?.find((c) => c.type === 'Applied')).toMatchObject({
              status: 'True',
              reason: 'Applied',
            });
          }
          for (const [from, to] of [
            [nodes[0], WEST.podIP],
            [nodes[1], EAST.podIP],
          ] as const) {
            let r = await from.pod.run('ping', ['-c', '1', '-W', '2', to]);
            for (let i = 0; i < 5 && r.code !== 0; i++)
              r = await from.pod.run('ping', ['-c', '1', '-W', '2', to]);
            expect(r.code, r.stdout + r.stderr).toBe(0);
          }
          expect(await nodes[0].ns.must('ip', ['route', 'get', WEST.podIP])).toContain('dev vx-bridge');
          const first = reports.get(EAST.node)!.find((r) => r.commands > 0)!;
          console.log(
            `[agent api] east-1 first pass: ${first.commands} commands in ${first.durationMs.toFixed(0)} ms (read, apply, verify, status)`,
          );
        });

        it('a second pass finds nothing to do: no command, no status write', async () => {
          for (const a of agents) {
            const r = await a.sync();
            expect(r).toMatchObject({ planned: true, ok: true, commands: 0, statusWritten: false });
          }
        });

        it('a new generation of the plan (a node joins) is applied as a delta and reported', async () => {
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
          const before = await get(EAST.node);
          const put = await kube.request('PUT', `${NODEPLANS_PATH}/${EAST.node}`, {
            ...before,
            spec: spec(EAST.node, joined.state),
          });
          expect(put.status).toBe(200);
          const np = await until('generation 2 applied', async () => {
            const got = await get(EAST.node);
            return got.metadata.generation === 2 && got.status?.appliedGeneration === 2 ? got : undefined;
          });
          expect(np.status?.error).toBeUndefined();
          const last = reports.get(EAST.node)!.filter((r) => r.generation === 2 && r.commands > 0);
          // One `ip -batch` (route + neighbour) and one `bridge -batch` (two FDB entries).
          expect(last.map((r) => r.commands)).toEqual([2]);
          const routes = await nodes[0].ns.ipJson<Array<{ dst: string }>>(['route', 'show', 'table', '150']);
          expect(routes.map((r) => r.dst).sort()).toEqual(['10.20.1.0/24', '10.20.2.0/24']);
        });

        it('a plan the agent cannot apply becomes status.error, a False condition and a Warning Event; fixing it clears them', async () => {
          const before = await get(WEST.node);
          const bad = { ...spec(WEST.node), cable: { driver: 'libreswan', interface: 'ipsec0', mtu: 1438 } };
          expect(
            (await kube.request('PUT', `${NODEPLANS_PATH}/${WEST.node}`, { ...before, spec: bad })).status,
          ).toBe(200);
          const failed = await until('error reported', async () => {
            const got = await get(WEST.node);
            return got.status?.error !== undefined ? got : undefined;
          });
          expect(failed.status?.error).toContain('libreswan');
          expect(failed.status?.appliedGeneration).toBe(1);
          expect(failed.status?.conditions?.find((c) => c.type === 'Applied')).toMatchObject({
            status: 'False',
            reason: 'UnsupportedCable',
            observedGeneration: 2,
          });
          const events = await until('a Warning Event', async () => {
            const list = await kube.request<{
              items: Array<{ type: string; reason: string; involvedObject: { name: string } }>;
            }>('GET', '/api/v1/namespaces/default/events');
            const mine = list.body.items.filter(
              (e) => e.involvedObject.name === WEST.node && e.type === 'Warning',
            );
            return mine.length > 0 ? mine : undefined;
          });
          expect(events[0]!.reason).toBe('UnsupportedCable');
          // Pods still reach each other: a failed pass changed nothing.
          expect((await nodes[1].pod.run('ping', ['-c', '1', '-W', '2', EAST.podIP])).code).toBe(0);
          const again = await get(WEST.node);
          expect(
            (await kube.request('PUT', `${NODEPLANS_PATH}/${WEST.node}`, { ...again, spec: spec(WEST.node) }))
              .status,
          ).toBe(200);
          const fixed = await until('error cleared', async () => {
            const got = await get(WEST.node);
            return got.status?.appliedGeneration === 3 && got.status.error === undefined ? got : undefined;
          });
          expect(fixed.status?.conditions?.find((c) => c.type === 'Applied')?.status).toBe('True');
        });

        it('the agents ran under the example agent RBAC, which allows nothing more (no 403 in their logs)', async () => {
          expect(logLines.length).toBeGreaterThan(0);
          expect(logLines.join('\n')).not.toMatch(/forbidden|403/i);
          const agentKc = await kube.serviceAccountKubeConfig('isthmus-system', 'isthmus-agent');
          const body = {
            apiVersion: API_VERSION,
            kind: 'NodePlan',
            metadata: { name: 'intruder' },
            spec: spec(EAST.node),
          };
          expect((await kube.request('POST', NODEPLANS_PATH, body, agentKc)).status).toBe(403);
          expect(
            (await kube.request('PUT', `${NODEPLANS_PATH}/${EAST.node}`, await get(EAST.node), agentKc))
              .status,
          ).toBe(403);
          expect(
            (await kube.request('GET', '/api/v1/namespaces/isthmus-system/pods', undefined, agentKc)).status,
          ).toBe(403);
        });
      },
      { tag: 'agent' },
    );
  },
);
