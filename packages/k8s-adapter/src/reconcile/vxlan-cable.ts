// A VXLAN cable as route-planner Plan entries: the agent applies it with the node's routes, no secret involved.

import type { VxlanPlan } from '@isthmus/cable';
import { type Family, parseAddr, tryParseAddr } from '@isthmus/ipam';
import { type PlanParts, podMAC } from '@isthmus/route-planner';

/**
 * MAC prefix of cable devices: prefix + the VTEP's last 4 bytes, so each gateway derives its peers' MACs
 * (for permanent neighbours) exactly as they set their own; VTEPs on one cable are unique, so are the MACs.
 */
export const CABLE_MAC_PREFIX = '0e:fd';

/** The MAC of the cable device whose VTEP is `vtep` ("241.18.0.1" or "241.18.0.1/8"). */
export function cableMac(vtep: string): string {
  return podMAC(CABLE_MAC_PREFIX, parseAddr(vtep.split('/')[0] ?? ''));
}

/** A cable plan route-planner cannot express; the message names the entry. */
export interface CableProblem {
  readonly message: string;
}

/**
 * The cable's kernel objects: the device (VNI, port, local, MTU, learning off, MAC), its VTEP address, the
 * all-zero-MAC FDB entry per remote gateway and a permanent neighbour per remote VTEP. The cable's own
 * routes are left out: the gateway's table-150 routes (`cableNextHops`) carry the same subnets via the same VTEPs.
 */
export function vxlanCableParts(plan: VxlanPlan): PlanParts | CableProblem {
  // route-planner's FDB entry has no port: the device's dstport is used for every peer.
  const odd = plan.fdb.find((f) => f.port !== null);
  if (odd !== undefined) {
    return {
      message: `VXLAN cable ${plan.interfaceName}: cluster ${odd.clusterId} is reached at port ${odd.port}, but the device sends to port ${plan.port}; publish the same cable port on every gateway`,
    };
  }
  const dev = plan.interfaceName;
  const family: Family = plan.underlayFamily;
  return {
    devices: [
      {
        kind: 'vxlan',
        name: dev,
        vni: plan.vni,
        port: plan.port,
        local: plan.local,
        learning: plan.learning,
        mtu: plan.mtu,
        mac: cableMac(plan.vtep),
      },
    ],
    addresses: [{ dev, address: plan.vtep, family }],
    fdb: plan.fdb.map((f) => ({ dev: f.dev, lladdr: f.mac, dst: f.dst })),
    neighbours: plan.peers.map((p) => ({
      dev,
      dst: p.remoteVtep,
      lladdr: cableMac(p.remoteVtep),
      permanent: true,
    })),
  };
}

/**
 * The gateway's next hop per remote cluster on an L2 cable: each peer's remote VTEP, for clusters in the
 * topology (others are UNKNOWN_CLUSTER to route-planner) and of the node routes' family.
 */
export function vxlanNextHops(
  plan: VxlanPlan,
  isCluster: (name: string) => boolean,
  family: Family,
): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const p of plan.peers) {
    if (isCluster(p.clusterId) && tryParseAddr(p.remoteVtep)?.family === family)
      out[p.clusterId] = p.remoteVtep;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}
