// NodePlans: route-planner topology from Nodes and ClusterSetMembers, plus NAT and cable on the gateway.

import {
  type GatewayEndpoint,
  planCable,
  tunnelMtu,
  VXLAN_DEFAULTS,
  type VxlanPlan,
  WIREGUARD_DEFAULTS,
} from '@isthmus/cable';
import {
  type GlobalnetNatPlan,
  type IngressBinding,
  type PodInfo,
  planGlobalnetNat,
} from '@isthmus/globalnet-ipam';
import { tryParseAddr, tryParsePrefix } from '@isthmus/ipam';
import {
  type ClusterSpec,
  createTopologyState,
  mergePlans,
  type NodeSpec,
  type PlanParts,
  planNodeRoutes,
  resolveNodeOptions,
  type TopologySnapshot,
  type TopologyState,
} from '@isthmus/route-planner';
import type { V1Node } from '@kubernetes/client-node';
import type { ClusterSetMember, NodeCableSpec, NodePlan, NodePlanSpec } from '../resources';
import type { GlobalnetHolder } from './globalnet-holder';
import { specHash } from './hash';
import type { Members } from './members';
import { GATEWAY_NODE_LABEL, objectRef } from './refs';
import { podIps, type Store } from './store';
import type { MemberGateway, NodePlanWrite, NodePlanWrites, Problem, ReconcilerConfig } from './types';
import { vxlanCableParts, vxlanNextHops } from './vxlan-cable';

/** Both gateways of a cable as @isthmus/cable sees them, and the remote WireGuard keys by cluster. */
interface CableEnds {
  readonly node: V1Node;
  readonly local: GatewayEndpoint;
  readonly remotes: readonly GatewayEndpoint[];
  readonly keys: ReadonlyMap<string, string | undefined>;
}

/** The gateway's cable: its NodePlan description and, for VXLAN, the plan its kernel objects come from. */
interface GatewayCable {
  readonly spec: NodeCableSpec;
  readonly vxlan?: VxlanPlan;
  /** The VXLAN device, address, FDB and neighbours, merged into the gateway's routes plan. */
  readonly parts?: PlanParts;
}

/** The node's InternalIP (the underlay address). */
export function internalIp(node: V1Node): string | undefined {
  return node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
}

/** The node's pod CIDRs (spec.podCIDRs, else spec.podCIDR). */
export function nodePodCidrs(node: V1Node): string[] {
  const list = node.spec?.podCIDRs ?? [];
  if (list.length > 0) return [...list];
  return node.spec?.podCIDR ? [node.spec.podCIDR] : [];
}

/** The gateways a member publishes in spec.gateways (ClusterSetGateway; checked loosely, it is user input). */
export function memberGateways(m: ClusterSetMember): MemberGateway[] {
  const raw = (m.spec as { gateways?: unknown }).gateways;
  if (!Array.isArray(raw)) return [];
  return raw.filter(
    (g): g is MemberGateway =>
      typeof g === 'object' && g !== null && typeof g.node === 'string' && typeof g.privateIp === 'string',
  );
}

export class NodePlanner {
  private state: TopologyState | undefined;
  private previous: TopologySnapshot | undefined;
  private readonly routes = new Map<string, NodePlanSpec['routes']>();
  private readonly hashes = new Map<string, string>();
  private readonly reported = new Map<string, string>();
  private gateways: string[] = [];
  private gatewayCable: GatewayCable | undefined;
  private nat: GlobalnetNatPlan | undefined;
  topologyDirty = true;

  constructor(
    private readonly store: Store,
    private readonly members: Members,
    private readonly holder: GlobalnetHolder,
    private readonly config: ReconcilerConfig,
  ) {}

  /** Recovery: the NodePlans already written (their hashes, and their VTEPs so no node's VTEP moves). */
  adopt(plans: readonly NodePlan[]): void {
    const opts = resolveNodeOptions(this.config.routeOptions ?? {});
    const devs = new Set([opts.gatewayVxlan.name, opts.p2pVxlan.name]);
    const vteps: Array<readonly [string, string]> = [];
    for (const p of plans) {
      if (!p.spec) continue;
      this.hashes.set(p.metadata.name, specHash(p.spec));
      const a = p.spec.routes?.addresses?.find((x) => devs.has(x.dev));
      if (a !== undefined) vteps.push([p.spec.node, a.address.split('/')[0] ?? '']);
    }
    if (vteps.length > 0) {
      this.previous = {
        version: 1,
        vteps: {
          version: 1,
          pool: 'vtep',
          subnet: opts.vtepCIDR,
          allocations: vteps.sort((x, y) => (x[0] < y[0] ? -1 : 1)),
        },
      };
    }
  }

  /** Computes the plans of every node; returns only those whose hash changed, and nodes gone. */
  flush(): NodePlanWrites {
    const problems: Problem[] = [];
    const rebuilt = this.topologyDirty;
    if (rebuilt) this.rebuild(problems);
    this.topologyDirty = false;
    const upserts: NodePlanWrite[] = [];
    // The NAT plan walks every pod: recomputed only when allocations, pods, services or the topology changed.
    if (this.holder.changed || rebuilt) {
      this.nat = this.natPlan(problems);
      this.holder.changed = false;
    }
    const nat = this.nat;
    const cable = this.gatewayCable?.spec;
    for (const [name, routes] of this.routes) {
      const gw = this.gateways.includes(name);
      const spec: NodePlanSpec = {
        node: name,
        routes,
        ...(gw && nat !== undefined ? { nat } : {}),
        ...(gw && cable !== undefined ? { cable } : {}),
      };
      const hash = specHash(spec);
      if (this.hashes.get(name) === hash) continue;
      this.hashes.set(name, hash);
      upserts.push({ name, spec, hash });
    }
    const deletes: string[] = [];
    for (const name of [...this.hashes.keys()]) {
      if (!this.routes.has(name)) {
        this.hashes.delete(name);
        deletes.push(name);
      }
    }
    return { upserts, deletes, problems: problems.filter((p) => this.once(p)) };
  }

  private once(p: Problem): boolean {
    const k = `${p.ref.kind}/${p.ref.name}/${p.reason}`;
    if (this.reported.get(k) === p.message) return false;
    this.reported.set(k, p.message);
    return true;
  }

  private localMember(): ClusterSetMember | undefined {
    return this.members.list().find((m) => m.spec.clusterID === this.config.clusterID);
  }

  private rebuild(problems: Problem[]): void {
    const opts = resolveNodeOptions(this.config.routeOptions ?? {});
    const family = opts.vtepFamily;
    const fam = (c: string) => tryParsePrefix(c)?.family === family;
    const nodes: NodeSpec[] = [];
    const candidates: string[] = [];
    for (const node of [...this.store.nodes.values()].sort((a, b) =>
      (a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1,
    )) {
      const name = node.metadata?.name ?? '';
      const ip = internalIp(node);
      const pods = nodePodCidrs(node).filter(fam);
      if (ip === undefined || tryParseAddr(ip) === undefined || pods.length === 0) {
        problems.push({
          ref: objectRef('Node', node),
          reason: 'NodeNotPlanned',
          message: `node ${name} needs an InternalIP and an IPv${family} spec.podCIDRs entry to get a NodePlan`,
        });
        continue;
      }
      if (node.metadata?.labels?.[GATEWAY_NODE_LABEL] === 'true') candidates.push(name);
      nodes.push({ name, cluster: this.config.clusterID, underlayIP: ip, podCIDRs: pods });
    }
    // One active gateway per cluster: the first labelled node by name (others stand by).
    const gateway = candidates[0];
    this.gateways = gateway !== undefined ? [gateway] : [];
    const clusters = this.clusters(nodes, fam, problems);
    this.gatewayCable = this.cable(gateway, problems);
    // An L2 cable: remote CIDRs go via each remote VTEP of the same cable plan, not as link routes.
    const vxlan = this.gatewayCable?.vxlan;
    const hops =
      vxlan === undefined
        ? undefined
        : vxlanNextHops(
            vxlan,
            (c) => c !== this.config.clusterID && clusters.some((x) => x.name === c),
            family,
          );
    const specs = nodes.map((n) =>
      n.name === gateway
        ? {
            ...n,
            gateway: true,
            cableDevice: this.cableDevice(),
            ...(hops !== undefined ? { cableNextHops: hops } : {}),
          }
        : n,
    );
    this.routes.clear();
    if (specs.length === 0) {
      this.state = undefined;
      return;
    }
    try {
      this.state = createTopologyState({
        clusters,
        nodes: specs,
        ...(this.config.routeOptions !== undefined ? { options: this.config.routeOptions } : {}),
        ...(this.previous !== undefined ? { previous: this.previous } : {}),
      });
    } catch (e) {
      // A recorded VTEP that no longer fits: plan afresh rather than not at all.
      try {
        this.state = createTopologyState({
          clusters,
          nodes: specs,
          ...(this.config.routeOptions !== undefined ? { options: this.config.routeOptions } : {}),
        });
      } catch (e2) {
        const message = e2 instanceof Error ? e2.message : String(e2 ?? e);
        for (const n of specs) {
          const node = this.store.nodes.get(n.name);
          if (node !== undefined)
            problems.push({ ref: objectRef('Node', node), reason: 'InvalidTopology', message });
        }
        this.state = undefined;
        return;
      }
    }
    this.previous = this.state.snapshot();
    for (const n of specs) {
      const r = planNodeRoutes(this.state, n.name);
      const node = this.store.nodes.get(n.name);
      this.routes.set(n.name, n.name === gateway ? this.withCable(r.plan, node, problems) : r.plan);
      for (const c of r.conflicts) {
        if (node !== undefined)
          problems.push({
            ref: objectRef('Node', node),
            reason: 'RouteConflict',
            message: `${c.kind}: ${JSON.stringify(c)}`,
          });
      }
    }
  }

  /** The gateway's routes plan with the cable's kernel objects in it (a VXLAN cable); clashes drop the cable. */
  private withCable(
    plan: NodePlanSpec['routes'],
    node: V1Node | undefined,
    problems: Problem[],
  ): NodePlanSpec['routes'] {
    const parts = this.gatewayCable?.parts;
    if (parts === undefined) return plan;
    try {
      return mergePlans(plan, parts);
    } catch (e) {
      this.gatewayCable = undefined;
      if (node !== undefined)
        problems.push({
          ref: objectRef('Node', node),
          reason: 'CablePlanFailed',
          message: `the VXLAN cable clashes with the node routes: ${e instanceof Error ? e.message : String(e)}`,
        });
      return plan;
    }
  }

  private clusters(
    nodes: readonly NodeSpec[],
    fam: (c: string) => boolean,
    problems: Problem[],
  ): ClusterSpec[] {
    const out: ClusterSpec[] = [];
    for (const m of this.members.list()) {
      const id = m.spec.clusterID;
      const cidr = this.members.cidrOf(id);
      const spec: ClusterSpec = {
        name: id,
        mode: m.spec.mode ?? 'gateway',
        podCIDRs: (m.spec.podCIDRs ?? []).filter(fam),
        serviceCIDRs: (m.spec.serviceCIDRs ?? []).filter(fam),
        ...(cidr !== undefined && fam(cidr) ? { globalCIDRs: [cidr] } : {}),
      };
      try {
        createTopologyState({
          clusters: [spec],
          nodes: [],
          ...(this.config.routeOptions !== undefined ? { options: this.config.routeOptions } : {}),
        });
        out.push(spec);
      } catch (e) {
        problems.push({
          ref: objectRef('ClusterSetMember', m),
          reason: 'InvalidMember',
          message: e instanceof Error ? e.message : String(e),
        });
      }
    }
    if (!out.some((c) => c.name === this.config.clusterID)) {
      // No (valid) member for this cluster yet: its pod CIDRs are its nodes' pod CIDRs.
      out.push({ name: this.config.clusterID, mode: 'gateway', podCIDRs: nodes.flatMap((n) => n.podCIDRs) });
    }
    return out;
  }

  private cableDevice(): string {
    return this.config.cableDriver === 'wireguard'
      ? WIREGUARD_DEFAULTS.interfaceName
      : VXLAN_DEFAULTS.interfaceName;
  }

  private natPlan(problems: Problem[]): GlobalnetNatPlan | undefined {
    const gn = this.holder.gn;
    const gateway = this.gateways[0];
    if (gn === undefined || gateway === undefined) return undefined;
    const local = this.localMember();
    const remote = this.members
      .list()
      .filter((m) => m.spec.clusterID !== this.config.clusterID)
      .map((m) => this.members.cidrOf(m.spec.clusterID))
      .filter((c): c is string => c !== undefined && tryParsePrefix(c)?.family === gn.family);
    const pods: PodInfo[] = [];
    const podIp = new Map<string, string>();
    for (const pod of this.store.pods.values()) {
      const ips = podIps(pod).filter((ip) => tryParseAddr(ip)?.family === gn.family);
      if (ips.length === 0) continue;
      const namespace = pod.metadata?.namespace ?? '';
      const name = pod.metadata?.name ?? '';
      pods.push({ namespace, name, labels: pod.metadata?.labels ?? {}, ips });
      podIp.set(`${namespace}/${name}`, ips[0] ?? '');
    }
    const ingress: IngressBinding[] = [];
    for (const i of gn.ingress()) {
      const t = i.target;
      if (t.kind === 'service') {
        const ip = this.store.services.get(`${t.namespace}/${t.name}`)?.spec?.clusterIP;
        if (ip && ip !== 'None' && tryParseAddr(ip)?.family === gn.family) ingress.push({ ...i, ip });
      } else if (t.kind === 'pod') {
        const ip = podIp.get(`${t.namespace}/${t.name}`);
        if (ip !== undefined) ingress.push({ ...i, ip });
      } else ingress.push(i);
    }
    const localCidrs = [...(local?.spec.podCIDRs ?? []), ...(local?.spec.serviceCIDRs ?? [])].filter(
      (c) => tryParsePrefix(c)?.family === gn.family,
    );
    try {
      return planGlobalnetNat({
        globalCidr: gn.globalCidr,
        localCidrs,
        remoteGlobalCidrs: remote,
        egress: gn.egress(),
        ingress,
        pods,
      });
    } catch (e) {
      const node = this.store.nodes.get(gateway);
      if (node !== undefined)
        problems.push({
          ref: objectRef('Node', node),
          reason: 'NatPlanFailed',
          message: e instanceof Error ? e.message : String(e),
        });
      return undefined;
    }
  }

  /** The gateway's endpoint and the remote members' published gateways; undefined while there is no cable to plan. */
  private cableEnds(gateway: string | undefined): CableEnds | undefined {
    const node = gateway !== undefined ? this.store.nodes.get(gateway) : undefined;
    const ip = node !== undefined ? internalIp(node) : undefined;
    if (gateway === undefined || node === undefined || ip === undefined) return undefined;
    const exposed = (m: ClusterSetMember | undefined, id: string) => {
      const cidr = this.members.cidrOf(id);
      return cidr !== undefined ? [cidr] : [...(m?.spec.podCIDRs ?? []), ...(m?.spec.serviceCIDRs ?? [])];
    };
    const local: GatewayEndpoint = {
      clusterId: this.config.clusterID,
      node: gateway,
      privateIp: ip,
      subnets: exposed(this.localMember(), this.config.clusterID),
    };
    const remotes: GatewayEndpoint[] = [];
    const keys = new Map<string, string | undefined>();
    for (const m of this.members.list()) {
      if (m.spec.clusterID === this.config.clusterID) continue;
      const g = memberGateways(m)[0];
      if (g === undefined) continue;
      keys.set(m.spec.clusterID, g.publicKey);
      remotes.push({
        clusterId: m.spec.clusterID,
        node: g.node,
        privateIp: g.privateIp,
        ...(g.privateSubnet !== undefined ? { privateSubnet: g.privateSubnet } : {}),
        ...(g.publicIp !== undefined ? { publicIp: g.publicIp } : {}),
        ...(g.port !== undefined ? { port: g.port } : {}),
        subnets: exposed(m, m.spec.clusterID),
      });
    }
    if (remotes.length === 0 || local.subnets.length === 0) return undefined;
    return { node, local, remotes, keys };
  }

  private cable(gateway: string | undefined, problems: Problem[]): GatewayCable | undefined {
    const ends = this.cableEnds(gateway);
    if (ends === undefined) return undefined;
    const { node, keys } = ends;
    const linkMtu = this.config.linkMtu ?? 1500;
    const failed = (message: string) => {
      problems.push({ ref: objectRef('Node', node), reason: 'CablePlanFailed', message });
      return undefined;
    };
    try {
      // The VXLAN plan also chooses each remote endpoint (private or public), which WireGuard reuses.
      const plan = planCable(ends.local, ends.remotes, {
        driver: 'vxlan',
        linkMtu,
        interfaceName: VXLAN_DEFAULTS.interfaceName,
      });
      if (this.config.cableDriver !== 'wireguard') {
        const parts = vxlanCableParts(plan);
        if ('message' in parts) return failed(parts.message);
        return {
          spec: { driver: 'vxlan', interface: plan.interfaceName, mtu: plan.mtu },
          vxlan: plan,
          parts,
        };
      }
      const missing = plan.peers.filter((p) => !keys.get(p.clusterId));
      if (missing.length > 0) {
        problems.push({
          ref: objectRef('Node', node),
          reason: 'NoPublicKey',
          message: `WireGuard cable needs the public key of cluster(s) ${missing.map((p) => p.clusterId).join(', ')}`,
        });
        return undefined;
      }
      const port = this.config.cablePort ?? 4500;
      return {
        spec: {
          driver: 'wireguard',
          interface: WIREGUARD_DEFAULTS.interfaceName,
          mtu: tunnelMtu('wireguard', { linkMtu, underlayFamily: plan.underlayFamily }),
          listenPort: port,
          peers: plan.peers.map((p) => ({
            publicKey: keys.get(p.clusterId) ?? '',
            endpoint: p.endpoint.address.includes(':')
              ? `[${p.endpoint.address}]:${p.endpoint.port}`
              : `${p.endpoint.address}:${p.endpoint.port}`,
            allowedIPs: [...p.subnets],
            persistentKeepalive: WIREGUARD_DEFAULTS.persistentKeepalive,
          })),
          secretFile: this.config.wireGuardKeyFile ?? '/etc/isthmus/wireguard.key',
        },
      };
    } catch (e) {
      return failed(e instanceof Error ? e.message : String(e));
    }
  }
}
