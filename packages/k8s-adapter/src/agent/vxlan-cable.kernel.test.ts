// Real-kernel test of a VXLAN cable between two clusters' gateways: NodePlans from each cluster's reconcile
// core, applied by applyNodePlan in a namespace per gateway, a ping between the clusters' global CIDRs.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeKernel, Lab, type Netns } from '../../../../testing/netns';
import type { NodePlanSpec } from '../resources';
import { applyNodePlan, observeKernel } from './apply';
import type { AgentMemory } from './pass';
import { GATEWAYS, gatewayNodePlans, mutating, recordingRunner } from './test-support';

// An address of each cluster's global CIDR on its gateway (a dummy on loopback): what the other cluster's plan routes to.
const DUMMY = { east: '242.0.0.200', west: '242.1.0.200' } as const;

describeKernel(
  'node agent: a VXLAN cable planned by the reconcile core, on a real kernel',
  ['root', 'netns', 'veth', 'vxlan', 'nft', 'ping'],
  () => {
    const lab = new Lab('agentvx');
    const plans = gatewayNodePlans();
    const ns = {} as Record<'east' | 'west', Netns>;
    const memory = new Map<string, AgentMemory>();

    beforeAll(async () => {
      ns.east = await lab.netns('east');
      ns.west = await lab.netns('west');
      await lab.veth(ns.east, 'ul0', ns.west, 'ul0', {
        a: [`${GATEWAYS[0].underlayIP}/15`],
        b: [`${GATEWAYS[1].underlayIP}/15`],
      });
      for (const c of ['east', 'west'] as const) {
        // On loopback (no dummy module here): a local address the gateway answers for.
        await ns[c].ipBatch(`link set lo up\naddr add ${DUMMY[c]}/32 dev lo\n`);
      }
    });
    afterAll(async () => {
      await lab.cleanup();
    });

    async function apply(c: 'east' | 'west', spec: NodePlanSpec) {
      const rec = recordingRunner(ns[c].name);
      const res = await applyNodePlan({ run: rec.run, spec, memory: memory.get(c) ?? {} });
      memory.set(c, res.memory);
      return { res, log: rec.log };
    }

    it('both gateways apply their plans; a ping crosses the cable between the global CIDRs; a second apply is a no-op', async () => {
      for (const c of ['east', 'west'] as const) {
        expect(plans[c].cable).toEqual({ driver: 'vxlan', interface: 'vxlan-tunnel', mtu: 1450 });
        const { res } = await apply(c, plans[c]);
        expect(res.ran.map((x) => x.kind)).toEqual(['routes', 'routes', 'nat']);
      }
      const link = (
        await ns.east.ipJson<
          Array<{ mtu: number; address: string; linkinfo: { info_data: Record<string, unknown> } }>
        >(['-d', 'link', 'show', 'vxlan-tunnel'])
      )[0]!;
      expect(link.mtu).toBe(1450);
      expect(link.address).toBe('0e:fd:f1:12:00:01');
      expect(link.linkinfo.info_data).toMatchObject({
        id: 1000,
        port: 4500,
        local: '198.18.0.1',
        learning: false,
      });
      const fdb = await ns.east.must('bridge', ['fdb', 'show', 'dev', 'vxlan-tunnel']);
      expect(fdb).toContain('00:00:00:00:00:00 dst 198.18.0.2');
      expect(await ns.east.must('ip', ['neigh', 'show', 'dev', 'vxlan-tunnel'])).toContain(
        '241.18.0.2 lladdr 0e:fd:f1:12:00:02 PERMANENT',
      );
      expect(await ns.east.must('ip', ['route', 'get', DUMMY.west, 'from', DUMMY.east])).toMatch(
        /via 241\.18\.0\.2 dev vxlan-tunnel table 150/,
      );

      const r = await ns.east.run('ping', ['-c', '2', '-W', '2', '-I', DUMMY.east, DUMMY.west]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const back = await ns.west.run('ping', ['-c', '1', '-W', '2', '-I', DUMMY.west, DUMMY.east]);
      expect(back.code, back.stdout + back.stderr).toBe(0);
      // The packets went over the cable: the VXLAN device counted them.
      const stats = (
        await ns.west.ipJson<Array<{ stats64: { rx: { packets: number } } }>>([
          '-s',
          'link',
          'show',
          'vxlan-tunnel',
        ])
      )[0]!;
      expect(stats.stats64.rx.packets).toBeGreaterThanOrEqual(2);

      for (const c of ['east', 'west'] as const) {
        const before = (await observeKernel(recordingRunner(ns[c].name).run, plans[c])).plan;
        const { res, log } = await apply(c, plans[c]);
        expect(res.ran).toEqual([]);
        expect(mutating(log)).toEqual([]);
        expect((await observeKernel(recordingRunner(ns[c].name).run, plans[c])).plan).toEqual(before);
      }
    });
  },
);
