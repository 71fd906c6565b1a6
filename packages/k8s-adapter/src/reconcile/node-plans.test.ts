import { describe, expect, it } from 'vitest';
import { API_VERSION, type NodePlan, type NodePlanSpec } from '../resources';
import { FakeApi, member, NOW, node, service, serviceExport } from './fixtures';
import { createReconciler } from './reconciler';
import type { NodePlanWrite, NodePlanWrites, ReconcilerConfig } from './types';

const WEST_KEY = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';

function setup(
  config: Partial<ReconcilerConfig> = {},
  westGateway: Record<string, unknown> | null = {
    node: 'w1',
    privateIp: '198.18.0.1',
    publicIp: '192.0.2.20',
    publicKey: WEST_KEY,
  },
) {
  const api = new FakeApi();
  api.put({ kind: 'ClusterSetMember', object: member('east', 'east', { created: 1 }) });
  api.put({
    kind: 'ClusterSetMember',
    object: member('west', 'west', { created: 2, ...(westGateway ? { gateways: [westGateway] } : {}) }),
  });
  api.put({ kind: 'Node', object: node('n1', '192.0.2.1', '10.244.1.0/24', true) });
  api.put({ kind: 'Node', object: node('n2', '192.0.2.2', '10.244.2.0/24') });
  const core = createReconciler({ clusterID: 'east', ...config });
  api.settle(core, core.recover(api.list(), NOW));
  return { api, core };
}

const byName = (ws: readonly NodePlanWrite[]) => Object.fromEntries(ws.map((w) => [w.name, w]));

describe('NodePlans', () => {
  it('every node gets a route plan; the gateway also the NAT plan and a VXLAN cable to the remote gateway', () => {
    const { core } = setup();
    const { upserts, deletes, problems } = core.flushNodePlans();
    expect(deletes).toEqual([]);
    expect(problems).toEqual([]);
    const plans = byName(upserts);
    expect(Object.keys(plans).sort()).toEqual(['n1', 'n2']);
    const n1 = plans.n1?.spec;
    const n2 = plans.n2?.spec;
    expect(n2?.nat).toBeUndefined();
    expect(n2?.cable).toBeUndefined();
    // The non-gateway reaches west's global CIDR through the gateway's VTEP; the gateway through the cable.
    expect(n2?.routes.routes).toContainEqual(
      expect.objectContaining({ dst: '242.1.0.0/16', via: '240.0.0.1', dev: 'vx-submariner' }),
    );
    // An L2 cable: the gateway routes west via west's VTEP on the cable (241.x + 198.18.0.1's low 24 bits).
    expect(n1?.routes.routes).toContainEqual({
      family: 4,
      table: 150,
      dst: '242.1.0.0/16',
      via: '241.18.0.1',
      dev: 'vxlan-tunnel',
      onlink: true,
    });
    expect(n1?.nat?.globalCidr).toBe('242.0.0.0/16');
    // The cable is described, not carried: its kernel objects are in the routes plan.
    expect(n1?.cable).toEqual({ driver: 'vxlan', interface: 'vxlan-tunnel', mtu: 1450 });
  });

  it("the gateway's routes plan holds the VXLAN cable: device, VTEP address, FDB to the remote gateway, a neighbour for its VTEP", () => {
    const { core } = setup();
    const n1 = byName(core.flushNodePlans().upserts).n1?.spec.routes;
    expect(n1?.devices).toContainEqual({
      kind: 'vxlan',
      name: 'vxlan-tunnel',
      vni: 1000,
      port: 4500,
      local: '192.0.2.1',
      learning: false,
      mtu: 1450,
      mac: '0e:fd:f1:00:02:01',
    });
    expect(n1?.addresses).toContainEqual({ dev: 'vxlan-tunnel', address: '241.0.2.1/8', family: 4 });
    expect(n1?.fdb.filter((f) => f.dev === 'vxlan-tunnel')).toEqual([
      { dev: 'vxlan-tunnel', lladdr: '00:00:00:00:00:00', dst: '192.0.2.20' },
    ]);
    expect(n1?.neighbours.filter((x) => x.dev === 'vxlan-tunnel')).toEqual([
      { dev: 'vxlan-tunnel', dst: '241.18.0.1', lladdr: '0e:fd:f1:12:00:01', permanent: true },
    ]);
    // The cable's own routes are not doubled in main: table 150 carries them.
    expect(n1?.routes.filter((r) => r.dev === 'vxlan-tunnel').map((r) => r.table)).toEqual([150]);
  });

  it('a remote gateway that moves changes the next hop, the FDB entry and the neighbour, on the gateway only', () => {
    const { api, core } = setup();
    core.flushNodePlans();
    const moved = member('west', 'west', {
      created: 2,
      gateways: [{ node: 'w2', privateIp: '198.18.0.9', publicIp: '192.0.2.21', publicKey: WEST_KEY }],
    });
    api.send(core, api.put({ kind: 'ClusterSetMember', object: moved }));
    const { upserts, problems } = core.flushNodePlans();
    expect(problems).toEqual([]);
    expect(upserts.map((u) => u.name)).toEqual(['n1']);
    const n1 = upserts[0]?.spec.routes;
    expect(n1?.routes.filter((r) => r.dev === 'vxlan-tunnel')).toEqual([
      { family: 4, table: 150, dst: '242.1.0.0/16', via: '241.18.0.9', dev: 'vxlan-tunnel', onlink: true },
    ]);
    expect(n1?.fdb.filter((f) => f.dev === 'vxlan-tunnel').map((f) => f.dst)).toEqual(['192.0.2.21']);
    expect(n1?.neighbours.filter((x) => x.dev === 'vxlan-tunnel')).toEqual([
      { dev: 'vxlan-tunnel', dst: '241.18.0.9', lladdr: '0e:fd:f1:12:00:09', permanent: true },
    ]);
  });

  it('next hops only for clusters in the topology: a member route-planner rejects is left out, not UNKNOWN_CLUSTER', () => {
    const { api, core } = setup();
    core.flushNodePlans();
    const north = member('north', 'north', {
      created: 3,
      pods: ['10.50.0.0/16'],
      services: ['10.60.0.0/16'],
      gateways: [{ node: 'x1', privateIp: '198.18.0.5', publicIp: '192.0.2.30' }],
    });
    // A mode route-planner does not know: an InvalidMember for the topology, still a peer of the cable.
    const bad = { ...north, spec: { ...north.spec, mode: 'mesh' as 'gateway' } };
    api.send(core, api.put({ kind: 'ClusterSetMember', object: bad }));
    const { upserts, problems } = core.flushNodePlans();
    expect(problems.map((p) => p.reason)).toEqual(['InvalidMember']);
    const n1 = byName(upserts).n1?.spec.routes;
    expect(n1?.routes.filter((r) => r.dev === 'vxlan-tunnel').map((r) => `${r.dst} via ${r.via}`)).toEqual([
      '242.1.0.0/16 via 241.18.0.1',
    ]);
    expect(n1?.fdb.filter((f) => f.dev === 'vxlan-tunnel').map((f) => f.dst)).toEqual([
      '192.0.2.20',
      '192.0.2.30',
    ]);
  });

  it('a remote gateway at another cable port is a CablePlanFailed problem, not an FDB entry the agent cannot read back', () => {
    const { core } = setup({}, { node: 'w1', privateIp: '198.18.0.1', publicIp: '192.0.2.20', port: 4501 });
    const r = core.flushNodePlans();
    const n1 = byName(r.upserts).n1?.spec;
    expect(n1?.cable).toBeUndefined();
    expect(n1?.routes.devices.map((d) => d.name)).not.toContain('vxlan-tunnel');
    expect(r.problems).toEqual([
      expect.objectContaining({ reason: 'CablePlanFailed', message: expect.stringContaining('port 4501') }),
    ]);
  });

  it('writes only what changed: nothing on a second flush; an exported service changes the gateway plan only', () => {
    const { api, core } = setup();
    core.flushNodePlans();
    expect(core.flushNodePlans().upserts).toEqual([]);
    api.send(core, api.put({ kind: 'Service', object: service('shop', 'web', { clusterIP: '10.96.0.10' }) }));
    api.send(core, api.put({ kind: 'ServiceExport', object: serviceExport('shop', 'web') }));
    const { upserts } = core.flushNodePlans();
    expect(upserts.map((u) => u.name)).toEqual(['n1']);
    expect(JSON.stringify(upserts[0]?.spec.nat)).toContain('10.96.0.10');
  });

  it("a deleted node's plan is deleted; a node without an InternalIP gets none and a NodeNotPlanned Warning", () => {
    const { api, core } = setup();
    core.flushNodePlans();
    api.send(core, api.remove({ kind: 'Node', object: node('n2', '', '') }));
    const bare = node('n3', '192.0.2.3', '10.244.3.0/24');
    api.send(core, api.put({ kind: 'Node', object: { ...bare, status: {} } }));
    const { upserts, deletes, problems } = core.flushNodePlans();
    expect(deletes).toEqual(['n2']);
    expect(upserts.map((u) => u.name)).not.toContain('n3');
    expect(problems).toEqual([
      expect.objectContaining({
        reason: 'NodeNotPlanned',
        ref: expect.objectContaining({ kind: 'Node', name: 'n3' }),
      }),
    ]);
    // Reported once, not on every flush.
    api.send(core, api.put({ kind: 'Node', object: node('n4', '192.0.2.4', '10.244.4.0/24') }));
    expect(core.flushNodePlans().problems).toEqual([]);
  });

  it('WireGuard: peers with public keys and endpoints, the key file path, no secret; without a remote key: NoPublicKey', () => {
    const { core } = setup({ cableDriver: 'wireguard' });
    const plan = byName(core.flushNodePlans().upserts).n1?.spec;
    const gw = plan?.cable;
    // An L3 cable: link routes, and no VXLAN cable device.
    expect(plan?.routes.routes).toContainEqual({
      family: 4,
      table: 150,
      dst: '242.1.0.0/16',
      dev: 'submariner',
      scope: 'link',
    });
    expect(plan?.routes.devices.map((d) => d.name)).toEqual(['vx-submariner']);
    expect(gw).toEqual({
      driver: 'wireguard',
      interface: 'submariner',
      mtu: 1440,
      listenPort: 4500,
      peers: [
        {
          publicKey: WEST_KEY,
          endpoint: '192.0.2.20:4500',
          allowedIPs: ['242.1.0.0/16'],
          persistentKeepalive: 10,
        },
      ],
      secretFile: '/etc/isthmus/wireguard.key',
    });
    const nokey = setup(
      { cableDriver: 'wireguard' },
      { node: 'w1', privateIp: '198.18.0.1', publicIp: '192.0.2.20' },
    );
    const r = nokey.core.flushNodePlans();
    expect(byName(r.upserts).n1?.spec.cable).toBeUndefined();
    expect(r.problems.map((p) => p.reason)).toEqual(['NoPublicKey']);
  });

  it('no remote gateway published: no cable, routes still planned', () => {
    const { core } = setup({}, null);
    const plans = byName(core.flushNodePlans().upserts);
    expect(plans.n1?.spec.cable).toBeUndefined();
    expect(plans.n1?.spec.routes.devices.length).toBeGreaterThan(0);
  });

  it('after a restart, plans already written are not rewritten and VTEPs do not move', () => {
    const { api, core } = setup();
    const stored = new Map<string, NodePlan>();
    const write = (r: NodePlanWrites) => {
      for (const u of r.upserts)
        stored.set(u.name, {
          apiVersion: API_VERSION,
          kind: 'NodePlan',
          metadata: { name: u.name },
          spec: u.spec,
        });
      for (const d of r.deletes) stored.delete(d);
    };
    api.send(core, api.put({ kind: 'Node', object: node('n3', '192.0.2.3', '10.244.3.0/24') }));
    write(core.flushNodePlans());
    api.send(core, api.remove({ kind: 'Node', object: node('n2', '', '') }));
    write(core.flushNodePlans());
    const vtep = (plan: NodePlanSpec | undefined) =>
      plan?.routes.addresses.find((a) => a.dev === 'vx-submariner')?.address;
    expect(vtep(stored.get('n3')?.spec)).toBe('240.0.0.3/32');

    const restarted = createReconciler({ clusterID: 'east' });
    restarted.recover({ ...api.list(), nodePlans: [...stored.values()] }, NOW);
    expect(restarted.flushNodePlans().upserts).toEqual([]);

    // Without the written plans the VTEPs would be handed out afresh and n3's would move.
    const amnesiac = createReconciler({ clusterID: 'east' });
    amnesiac.recover(api.list(), NOW);
    expect(vtep(byName(amnesiac.flushNodePlans().upserts).n3?.spec)).toBe('240.0.0.2/32');
  });
});
