// The pure scenario: what the kernel build and `pnpm demo` rely on, checked without root.
import { generateWireGuardKeyPair } from '@isthmus/cable';
import { describe, expect, it } from 'vitest';
import { planGatewayChange, planScenario, ScenarioError } from './scenario';

const keys = () => {
  const out: Record<string, ReturnType<typeof generateWireGuardKeyPair>> = {};
  for (const n of ['west-gw', 'west-gw2', 'east-gw', 'east-gw2']) out[n] = generateWireGuardKeyPair();
  return out;
};

function thrown(fn: () => unknown): ScenarioError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError);
    return e as ScenarioError;
  }
  throw new Error('expected a ScenarioError');
}

describe('planScenario', () => {
  it('is plain JSON with every private key redacted, and the same input gives the same plan', () => {
    const k = keys();
    const s = planScenario({ driver: 'wireguard', mode: 'gateway', keys: k });
    const json = JSON.stringify(s);
    for (const pair of Object.values(k)) expect(json).not.toContain(pair.privateKey.reveal());
    expect(json).toContain('[redacted]');
    expect(JSON.parse(json).nodes).toHaveLength(6);
    expect(JSON.stringify(planScenario({ driver: 'wireguard', mode: 'gateway', keys: k }))).toBe(json);
  });

  it('both clusters share the pod and service CIDRs and are told apart by global CIDRs from allocateClusterCidr', () => {
    const s = planScenario({ driver: 'vxlan', mode: 'gateway' });
    const [west, east] = s.clusters;
    expect([west.podCidr, west.serviceCidr]).toEqual([east.podCidr, east.serviceCidr]);
    expect([west.globalCidr, east.globalCidr]).toEqual(['242.0.0.0/16', '242.1.0.0/16']);
    expect(s.pods.filter((p) => p.cluster === 'west').map((p) => p.ip)).toEqual(
      s.pods.filter((p) => p.cluster === 'east').map((p) => p.ip),
    );
    expect(s.nodes.flatMap((n) => n.conflicts)).toEqual([]);
    for (const e of s.expectations) {
      expect(e.expectedSources.length).toBeGreaterThan(0);
      for (const src of e.expectedSources) expect(src.startsWith('242.')).toBe(true);
    }
  });

  it('gateway mode: NAT and cable on the active gateways, the service global IP leads to the ClusterIP', () => {
    const s = planScenario({ driver: 'wireguard', mode: 'gateway' });
    expect(s.nodes.filter((n) => n.nat !== null).map((n) => n.name)).toEqual(['west-gw', 'east-gw']);
    expect(s.nodes.filter((n) => n.cable !== null).map((n) => n.name)).toEqual(['west-gw', 'east-gw']);
    expect(s.clusters.map((c) => c.serviceIngressTo)).toEqual(['cluster-ip', 'cluster-ip']);
    expect(s.mtu).toMatchObject({ largestDfPing: 1440, limitedBy: 'cable (wireguard)' });
    // WireGuard is L3: the gateway's table-150 link routes through it stay.
    const gw = s.nodes.find((n) => n.name === 'west-gw')!;
    expect(gw.routes.routes.map((r) => `${r.table} ${r.dst} ${r.dev}`)).toEqual([
      '150 242.1.0.0/16 wg-west-gw',
    ]);
  });

  it("VXLAN cables: the gateway's table-150 routes go via the remote VTEP from the cable plan, onlink", () => {
    const s = planScenario({ driver: 'vxlan', mode: 'gateway' });
    const gw = s.nodes.find((n) => n.name === 'west-gw')!;
    const cable = gw.cable!.plan;
    expect(cable.driver === 'vxlan' && cable.peers.map((p) => [p.clusterId, p.remoteVtep])).toEqual([
      ['east', '241.0.0.3'],
    ]);
    expect(gw.routes.routes).toEqual([
      { family: 4, table: 150, dst: '242.1.0.0/16', via: '241.0.0.3', dev: 'vxlan-tunnel', onlink: true },
    ]);
    expect(s.topology.nodes.find((n) => n.name === 'east-gw')!.cableNextHops).toEqual({ west: '241.0.0.1' });
    expect(s.mtu).toMatchObject({ largestDfPing: 1450, limitedBy: 'vx-submariner' });
  });

  it('P2P mode: only the workers mesh, at their global CIDRs; NAT on the workers leads to the endpoint', () => {
    const s = planScenario({ driver: 'vxlan', mode: 'p2p' });
    expect(s.nodes.filter((n) => n.routes.routes.length > 0).map((n) => n.name)).toEqual([
      'west-worker',
      'east-worker',
    ]);
    expect(s.nodes.find((n) => n.name === 'west-worker')!.routes.routes).toEqual([
      expect.objectContaining({ dst: '242.1.0.0/16', dev: 'vx-bridge', table: 150 }),
    ]);
    expect(s.nodes.filter((n) => n.nat !== null).map((n) => n.name)).toEqual(['west-worker', 'east-worker']);
    expect(s.nodes.every((n) => n.cable === null)).toBe(true);
    expect(s.clusters.map((c) => c.serviceIngressTo)).toEqual(['endpoint', 'endpoint']);
  });

  it('the two-NIC pod plans cluster CIDRs on eth0 and a source rule that keeps net1 replies on net1', () => {
    const s = planScenario({ driver: 'vxlan', mode: 'gateway' });
    const pod = s.pods.find((p) => p.name === s.twoNic.pod)!;
    expect(pod.plan.modes).toEqual({ eth0: 'overlay', net1: 'overlay' });
    expect(pod.plan.pod.rules).toContainEqual({
      family: 4,
      priority: 1000,
      from: `${s.twoNic.net1Ip}/32`,
      table: 101,
    });
    expect(pod.plan.pod.routes.filter((r) => r.dst === '10.244.0.0/16').map((r) => r.dev)).toEqual(['eth0']);
  });

  it('rejects a bad driver or mode with INVALID_OPTION', () => {
    expect(thrown(() => planScenario({ driver: 'ipsec' as never, mode: 'gateway' })).code).toBe(
      'INVALID_OPTION',
    );
    expect(thrown(() => planScenario({ driver: 'vxlan', mode: 'mesh' as never })).code).toBe(
      'INVALID_OPTION',
    );
  });
});

describe('planGatewayChange', () => {
  it("moves east's role to the standby: node deltas, its cable, and west's failover to it", () => {
    const s = planScenario({ driver: 'wireguard', mode: 'gateway', keys: keys() });
    const c = planGatewayChange(s, 'east', 'east-gw2');
    expect(c.nodeDiffs.map((d) => d.node)).toEqual(['east-gw', 'east-gw2', 'east-worker']);
    expect(c.remotes.map((r) => r.node)).toEqual(['west-gw']);
    expect(c.remotes[0]!.failover.moved).toEqual([
      expect.objectContaining({ clusterId: 'east', fromNode: 'east-gw', toNode: 'east-gw2' }),
    ]);
    expect(c.cable.plan.driver === 'wireguard' && c.cable.plan.interfaceName).toBe(s.wgNames['east-gw2']);
  });

  it("VXLAN: the new gateway routes via the remote VTEP, and the remote gateway's route moves to the new one's VTEP", () => {
    const s = planScenario({ driver: 'vxlan', mode: 'gateway' });
    const c = planGatewayChange(s, 'east', 'east-gw2');
    expect(c.nodeDiffs.map((d) => d.node)).toEqual(['east-gw', 'east-gw2', 'east-worker', 'west-gw']);
    const newVtep = c.cable.plan.driver === 'vxlan' ? c.cable.plan.vtep.split('/')[0] : '';
    expect(newVtep).toBe('241.0.0.4');
    const diff = (node: string) => c.nodeDiffs.find((d) => d.node === node)!.diff;
    expect(diff('west-gw').replace.routes).toEqual([
      { family: 4, table: 150, dst: '242.1.0.0/16', via: newVtep, dev: 'vxlan-tunnel', onlink: true },
    ]);
    expect([...diff('east-gw2').add.routes, ...diff('east-gw2').replace.routes]).toContainEqual({
      family: 4,
      table: 150,
      dst: '242.0.0.0/16',
      via: '241.0.0.1',
      dev: 'vxlan-tunnel',
      onlink: true,
    });
    const after = c.remotes[0]!.after;
    expect(after.driver === 'vxlan' && after.peers.map((p) => p.remoteVtep)).toEqual([newVtep]);
  });

  it('refuses P2P scenarios and nodes that cannot be gateways', () => {
    expect(
      thrown(() => planGatewayChange(planScenario({ driver: 'vxlan', mode: 'p2p' }), 'east', 'east-gw2'))
        .code,
    ).toBe('NOT_GATEWAY_MODE');
    const s = planScenario({ driver: 'vxlan', mode: 'gateway' });
    expect(thrown(() => planGatewayChange(s, 'east', 'east-worker')).code).toBe('NOT_A_GATEWAY_NODE');
  });
});
