import type { Addr, Family } from './addr';
import { tryParseAddr } from './addr';
import { IpamError, show } from './errors';
import { IPSet, IPSetBuilder, type IPSetInput } from './ipset';
import { type Prefix, parsePrefixResult } from './prefix';
import type { PoolSpec } from './spec';

/** A pool spec resolved into values: what createPool, restorePool and checkPoolOverlap work from. */
export interface ResolvedPoolSpec {
  readonly spec: PoolSpec;
  readonly name: string;
  readonly subnet: Prefix;
  readonly family: Family;
  readonly gateway: Addr | undefined;
  /** Addresses that may be handed out: ips (or the default hosts) minus excludeIPs, gateway and reservedIPs. */
  readonly allocatable: IPSet;
}

function specError(
  name: unknown,
  field: string,
  value: unknown,
  reason: string,
  cause?: IpamError,
): IpamError {
  return new IpamError('INVALID_POOL_SPEC', `pool ${show(name)}: ${field} ${show(value)} ${reason}`, {
    pool: name,
    field,
    value,
    ...(cause ? { cause: cause.code, causeMessage: cause.message } : {}),
  });
}

/** The default allocatable addresses of a subnet: all of it minus network/broadcast (IPv4) or the
 * subnet-router anycast address (IPv6, RFC 4291 2.6.1), except on point-to-point lengths (/31, /32, /127, /128). */
export function defaultHosts(subnet: Prefix): IPSet {
  const b = new IPSetBuilder().add(subnet);
  const max = subnet.addr.bitLength();
  if (subnet.bits < max - 1) {
    b.remove(subnet.first());
    if (subnet.family === 4) b.remove(subnet.last());
  }
  return b.build();
}

function entriesOf(spec: PoolSpec, field: 'ips' | 'excludeIPs' | 'reservedIPs'): readonly string[] {
  const v = spec[field];
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw specError(spec.name, field, v, 'must be an array of strings');
  return v;
}

/** Parse entries one by one so an error names the exact entry, and check each lies in the subnet. */
function setOf(spec: PoolSpec, field: 'ips' | 'excludeIPs' | 'reservedIPs', subnet: Prefix): IPSet {
  const builder = new IPSetBuilder();
  const inSubnet = new IPSetBuilder().add(subnet).build();
  for (const entry of entriesOf(spec, field)) {
    const one = new IPSetBuilder().add(entry as IPSetInput).tryBuild();
    if (!one.ok) throw specError(spec.name, field, entry, 'is not an address, CIDR or range', one.errors[0]);
    if (!inSubnet.contains(one.set))
      throw specError(spec.name, field, entry, `is not inside subnet ${subnet}`);
    builder.addSet(one.set);
  }
  return builder.build();
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

export function resolvePoolSpec(spec: PoolSpec): ResolvedPoolSpec {
  if (typeof spec !== 'object' || spec === null) {
    throw new IpamError('INVALID_POOL_SPEC', `a pool spec must be an object, got ${show(spec)}`, {
      value: spec,
    });
  }
  if (typeof spec.name !== 'string' || spec.name.length === 0) {
    throw new IpamError('INVALID_POOL_SPEC', `pool name must be a non-empty string, got ${show(spec.name)}`, {
      field: 'name',
      value: spec.name,
    });
  }
  const subnet = parsePrefixResult(spec.subnet);
  if (subnet instanceof IpamError)
    throw specError(spec.name, 'subnet', spec.subnet, 'is not a valid CIDR', subnet);
  let gateway: Addr | undefined;
  if (spec.gateway !== undefined) {
    gateway = tryParseAddr(spec.gateway);
    if (gateway === undefined)
      throw specError(spec.name, 'gateway', spec.gateway, 'is not a valid IP address');
    if (!subnet.contains(gateway))
      throw specError(spec.name, 'gateway', spec.gateway, `is not inside subnet ${subnet}`);
  }
  const ips = spec.ips === undefined ? defaultHosts(subnet) : setOf(spec, 'ips', subnet);
  const excluded = setOf(spec, 'excludeIPs', subnet);
  const reserved = setOf(spec, 'reservedIPs', subnet);
  const notAllocatable = new IPSetBuilder().addSet(excluded).addSet(reserved);
  if (gateway) notAllocatable.add(gateway);
  const allocatable = ips.difference(notAllocatable.build());
  // A frozen copy: the pool's spec must not change under it when the caller reuses its object.
  const own = deepFreeze(structuredClone(spec));
  return { spec: own, name: spec.name, subnet, family: subnet.family, gateway, allocatable };
}

export { IPSet };
