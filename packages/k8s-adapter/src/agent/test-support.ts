// Shared by the agent's kernel and API-server tests (not part of the public API, not bundled).

import { createTopologyState, type Topology, type TopologyState } from '@isthmus/route-planner';
import type { Lab, Netns } from '../../../../testing/netns';
import { FakeApi, member, NOW, node } from '../reconcile/fixtures';
import { createReconciler } from '../reconcile/reconciler';
import type { NodePlanSpec } from '../resources';
import { type CommandRunner, createExecRunner } from './runner';

/** Two one-node P2P clusters whose nodes meet on `ul0` (198.18.0.0/15) and serve a pod each. */
export const EAST = {
  node: 'east-1',
  cluster: 'east',
  podCIDR: '10.10.0.0/16',
  nodePodCIDR: '10.10.1.0/24',
  underlayIP: '198.18.0.1',
  podIP: '10.10.1.10',
  gwIP: '10.10.1.1',
};
export const WEST = {
  node: 'west-1',
  cluster: 'west',
  podCIDR: '10.20.0.0/16',
  nodePodCIDR: '10.20.1.0/24',
  underlayIP: '198.18.0.2',
  podIP: '10.20.1.10',
  gwIP: '10.20.1.1',
};
export type NodeFixture = typeof EAST;

export function p2pTopology(): Topology {
  return {
    clusters: [EAST, WEST].map((n) => ({ name: n.cluster, mode: 'p2p' as const, podCIDRs: [n.podCIDR] })),
    nodes: [EAST, WEST].map((n) => ({
      name: n.node,
      cluster: n.cluster,
      underlayIP: n.underlayIP,
      underlayDevice: 'ul0',
      podCIDRs: [n.nodePodCIDR],
    })),
  };
}

export function p2pState(): TopologyState {
  return createTopologyState(p2pTopology());
}

export interface LabNode {
  readonly fx: NodeFixture;
  readonly ns: Netns;
  readonly pod: Netns;
}

/** A node namespace per fixture, joined by a veth `ul0`, each with a pod namespace on a veth (`eth0` / `pod0`). */
export async function labNodes(lab: Lab, prefix: string): Promise<[LabNode, LabNode]> {
  const out: LabNode[] = [];
  for (const fx of [EAST, WEST]) {
    const ns = await lab.netns(`${prefix}${fx.cluster}`);
    const pod = await lab.netns(`${prefix}${fx.cluster}p`);
    await lab.veth(pod, 'eth0', ns, 'pod0', { a: [`${fx.podIP}/24`], b: [`${fx.gwIP}/24`] });
    await pod.must('ip', ['route', 'add', 'default', 'via', fx.gwIP]);
    await ns.must('sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    out.push({ fx, ns, pod });
  }
  await lab.veth(out[0]!.ns, 'ul0', out[1]!.ns, 'ul0', {
    a: [`${EAST.underlayIP}/15`],
    b: [`${WEST.underlayIP}/15`],
  });
  return out as [LabNode, LabNode];
}

/** A runner inside `netns` that records every command line it runs (never stdin). */
export function recordingRunner(netns: string): { run: CommandRunner; log: string[] } {
  const inner = createExecRunner({ netns });
  const log: string[] = [];
  return {
    log,
    run: (cmd, args, opts) => {
      log.push(`${cmd} ${args.join(' ')}`);
      return inner(cmd, args, opts);
    },
  };
}

/** The command lines of the agent's kernel reads; anything else changes the kernel. */
const READ_ONLY =
  /^(ip (-6 )?-json (route show table all|rule show|neigh show|-details link show|addr show)|bridge -json fdb show|nft -j list (tables|table (ip|ip6) \S+)|wg show \S+ dump|ip6?tables-save -t mangle)$/;

/** The recorded command lines that are not reads. */
export function mutating(log: readonly string[]): string[] {
  return log.filter((l) => !READ_ONLY.test(l));
}

/** Two gateway-mode clusters of one gateway node each, meeting on 198.18.0.0/15, with their global CIDRs. */
export const GATEWAYS = [
  {
    cluster: 'east',
    node: 'east-gw',
    underlayIP: '198.18.0.1',
    podCIDR: '10.10.0.0/16',
    nodePodCIDR: '10.10.1.0/24',
    globalCIDR: '242.0.0.0/16',
  },
  {
    cluster: 'west',
    node: 'west-gw',
    underlayIP: '198.18.0.2',
    podCIDR: '10.20.0.0/16',
    nodePodCIDR: '10.20.1.0/24',
    globalCIDR: '242.1.0.0/16',
  },
] as const;

type Gateway = (typeof GATEWAYS)[number];

/** A gateway cluster's ClusterSetMember spec (the i-th of GATEWAYS), its gateway at underlay address `ip`. */
export function gatewayMemberSpec(g: Gateway, i: number, ip: string = g.underlayIP) {
  return {
    clusterID: g.cluster,
    podCIDRs: [g.podCIDR],
    serviceCIDRs: [`10.${100 + i}.0.0/16`],
    globalCIDR: g.globalCIDR,
    gateways: [{ node: g.node, privateIp: ip, publicIp: ip }],
  };
}

/**
 * Each cluster's gateway NodePlan as its own controller's reconcile core writes it: both ClusterSetMembers
 * (publishing their gateway), the cluster's own Node labelled gateway, the default (VXLAN) cable.
 * `underlay` moves a cluster's gateway to another underlay address.
 */
export function gatewayNodePlans(
  underlay: Partial<Record<'east' | 'west', string>> = {},
): Record<'east' | 'west', NodePlanSpec> {
  const ip = (g: Gateway) => underlay[g.cluster] ?? g.underlayIP;
  const members = GATEWAYS.map((g, i) => ({
    ...member(g.cluster, g.cluster, { created: i + 1 }),
    spec: gatewayMemberSpec(g, i, ip(g)),
  }));
  const out: Partial<Record<'east' | 'west', NodePlanSpec>> = {};
  for (const g of GATEWAYS) {
    const api = new FakeApi();
    for (const m of members) api.put({ kind: 'ClusterSetMember', object: m });
    api.put({ kind: 'Node', object: node(g.node, ip(g), g.nodePodCIDR, true) });
    const core = createReconciler({ clusterID: g.cluster });
    api.settle(core, core.recover(api.list(), NOW));
    const { upserts, problems } = core.flushNodePlans();
    if (problems.length > 0) throw new Error(`planning ${g.cluster}: ${JSON.stringify(problems)}`);
    const spec = upserts.find((u) => u.name === g.node)?.spec;
    if (spec === undefined) throw new Error(`no NodePlan for ${g.node}`);
    out[g.cluster] = spec;
  }
  return out as Record<'east' | 'west', NodePlanSpec>;
}
