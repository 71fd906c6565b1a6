import type { Addr, Family, Prefix } from '@isthmus/ipam';
import { CableError, show } from './errors';
import { checkAddr, checkClusterId, checkPort, checkPrefix } from './validate';

/** One cluster's gateway, as the other clusters see it (Submariner's Endpoint, minus Kubernetes). */
export interface GatewayEndpoint {
  /** Cluster id (a DNS-1123 label). */
  readonly clusterId: string;
  /** The gateway node's name (reported in plans and failovers; optional). */
  readonly node?: string;
  /** The gateway's address on its own network (what its interface carries). */
  readonly privateIp: string;
  /** The network `privateIp` sits on ("198.18.0.0/24"); two gateways on the same one talk privately. */
  readonly privateSubnet?: string;
  /** The address the other side reaches it by through NAT, when it has one. */
  readonly publicIp?: string;
  /** The UDP port of the cable (WireGuard listen port, VXLAN port, IPsec NAT-T port); default 4500. */
  readonly port?: number;
  /** The subnets behind the gateway: pod and service CIDRs, or its global CIDRs. */
  readonly subnets: readonly string[];
  /** WireGuard: the gateway's public key (base64, as `wg pubkey` prints it). */
  readonly publicKey?: string;
  /** VXLAN: the gateway's tunnel (VTEP) address; by default derived from `privateIp` like Submariner. */
  readonly vtepIp?: string;
}

/** How a cable reaches the remote gateway, and why. */
export interface EndpointChoice {
  /** Which of the remote's addresses the cable uses. */
  readonly use: 'private' | 'public';
  /** The remote address and UDP port the cable sends to. */
  readonly address: string;
  readonly port: number;
  /** True when the path crosses NAT (public address): IPsec then encapsulates ESP in UDP. */
  readonly natT: boolean;
  /** One sentence a person can read in a plan. */
  readonly reason: string;
}

/** Submariner's cable UDP port (its NAT-T port, used by every cable driver). */
export const DEFAULT_CABLE_PORT = 4500;

/** An endpoint after validation: parsed once, used by every driver. */
export interface ParsedEndpoint {
  readonly clusterId: string;
  readonly node: string | null;
  readonly privateIp: Addr;
  readonly privateSubnet: Prefix | null;
  readonly publicIp: Addr | null;
  readonly port: number;
  readonly subnets: readonly Prefix[];
  readonly source: GatewayEndpoint;
}

/** Validates an endpoint; `role` ("local", "remote[2]") prefixes every field in error messages. */
export function parseEndpoint(ep: GatewayEndpoint, role: string): ParsedEndpoint {
  if (typeof ep !== 'object' || ep === null) {
    throw new CableError('INVALID_ARGUMENT', `${role} must be a gateway endpoint object, got ${show(ep)}`, {
      field: role,
    });
  }
  const clusterId = checkClusterId(ep.clusterId, `${role}.clusterId`);
  const privateIp = checkAddr(ep.privateIp, `${role}.privateIp`);
  const privateSubnet =
    ep.privateSubnet === undefined ? null : checkPrefix(ep.privateSubnet, `${role}.privateSubnet`);
  if (privateSubnet !== null && !privateSubnet.contains(privateIp)) {
    throw new CableError(
      'INVALID_ARGUMENT',
      `${role}.privateSubnet ${privateSubnet} does not contain ${role}.privateIp ${privateIp}`,
      { field: `${role}.privateSubnet`, value: ep.privateSubnet, privateIp: ep.privateIp },
    );
  }
  const publicIp = ep.publicIp === undefined ? null : checkAddr(ep.publicIp, `${role}.publicIp`);
  if (publicIp !== null && publicIp.family !== privateIp.family) {
    throw new CableError(
      'FAMILY_MISMATCH',
      `${role}.publicIp ${publicIp} is IPv${publicIp.family} but ${role}.privateIp ${privateIp} is IPv${privateIp.family}`,
      { field: `${role}.publicIp`, value: ep.publicIp },
    );
  }
  const port = ep.port === undefined ? DEFAULT_CABLE_PORT : checkPort(ep.port, `${role}.port`);
  if (!Array.isArray(ep.subnets) || ep.subnets.length === 0) {
    throw new CableError('INVALID_ARGUMENT', `${role}.subnets must be a non-empty list of CIDRs`, {
      field: `${role}.subnets`,
      value: ep.subnets,
    });
  }
  const subnets = ep.subnets
    .map((s, i) => checkPrefix(s, `${role}.subnets[${i}]`))
    .sort((a, b) => a.compare(b));
  for (let i = 1; i < subnets.length; i++) {
    if (subnets[i - 1]!.overlaps(subnets[i]!)) {
      throw new CableError('SUBNET_OVERLAP', `${role}.subnets: ${subnets[i - 1]} and ${subnets[i]} overlap`, {
        field: `${role}.subnets`,
        a: String(subnets[i - 1]),
        b: String(subnets[i]),
      });
    }
  }
  const node = ep.node === undefined ? null : String(ep.node);
  return { clusterId, node, privateIp, privateSubnet, publicIp, port, subnets, source: ep };
}

/**
 * Which address of `remote` a cable from `local` uses. Private IPs when both gateways share a network
 * (the caller says so, both sit in the same private subnet, or both show the same public IP, i.e.
 * behind one NAT); otherwise the remote's public IP with NAT traversal.
 */
export function chooseEndpoint(
  local: ParsedEndpoint,
  remote: ParsedEndpoint,
  sameNetwork: boolean | undefined,
): EndpointChoice {
  const priv = (reason: string): EndpointChoice => ({
    use: 'private',
    address: String(remote.privateIp),
    port: remote.port,
    natT: false,
    reason,
  });
  let why: string;
  if (sameNetwork === true) return priv('private IPs: the caller says both gateways share a network');
  if (sameNetwork === false) why = 'the caller says the gateways do not share a network';
  else if (
    local.privateSubnet !== null &&
    remote.privateSubnet !== null &&
    local.privateSubnet.equals(remote.privateSubnet)
  ) {
    return priv(`private IPs: both gateways are on ${local.privateSubnet}`);
  } else if (local.publicIp !== null && remote.publicIp !== null && local.publicIp.equals(remote.publicIp)) {
    return priv(`private IPs: both gateways are behind the same public IP ${local.publicIp}`);
  } else if (local.privateSubnet !== null && remote.privateSubnet !== null) {
    why = `the gateways are on different networks (${local.privateSubnet} and ${remote.privateSubnet})`;
  } else {
    why = 'no shared private subnet is known';
  }
  if (remote.publicIp === null) {
    throw new CableError(
      'NO_REACHABLE_ENDPOINT',
      `cluster ${show(remote.clusterId)}: ${why} and it has no publicIp`,
      { clusterId: remote.clusterId, reason: why },
    );
  }
  return {
    use: 'public',
    address: String(remote.publicIp),
    port: remote.port,
    natT: true,
    reason: `public IP with NAT traversal: ${why}`,
  };
}

/** "addr:port", with IPv6 addresses in brackets (WireGuard's Endpoint syntax). */
export function hostPort(address: string, port: number, family: Family): string {
  return family === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}
