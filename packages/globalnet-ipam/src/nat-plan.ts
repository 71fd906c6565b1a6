// The Globalnet NAT plan: which traffic is marked, how each source is translated, where each ingress
// global IP leads. Plain sorted data; renderNft and renderIptables turn it into kernel text.
import { type Addr, type Family, IpamError, type Labels, matchesSelector, type Prefix } from '@isthmus/ipam';
import { addrOf, checkFamily, cidrOf } from './cidr';
import { GlobalnetError, show } from './errors';
import type { EgressAllocation, HealthCheckAllocation, IngressAllocation } from './globalnet';
import { objectName } from './naming';
import { egressOwner, healthCheckOwner, ingressOwner } from './owners';

/** Submariner Globalnet's mark for traffic bound to a remote cluster's global CIDR (value/mask). */
export const GLOBALNET_MARK = '0xC0000/0xC0000';

/** A pod as the planner needs it: where it lives, its labels, its IPs (status.podIPs). */
export interface PodInfo {
  readonly namespace: string;
  readonly name: string;
  readonly labels?: Labels;
  /** The pod's IPs; those of the other family are ignored (a dual-stack cluster plans each family). */
  readonly ips: readonly string[];
}

/** An ingress allocation with the address its global IP leads to. */
export interface IngressBinding extends IngressAllocation {
  /** The ClusterIP (services, required); a pod's IP (default: from `pods`); an endpoint's address (default). */
  readonly ip?: string;
}

export interface HealthCheckBinding extends HealthCheckAllocation {
  /** The gateway's address on the CNI interface, where health-check pings are delivered. */
  readonly cniIp: string;
}

export interface GlobalnetNatInput {
  /** This cluster's global CIDR. */
  readonly globalCidr: string;
  /** This cluster's pod and service CIDRs (what the cluster scope translates). */
  readonly localCidrs: readonly string[];
  /** The global CIDRs of the other clusters: traffic to them is marked and translated. */
  readonly remoteGlobalCidrs: readonly string[];
  /** Egress blocks with their scopes, as `Globalnet.egress()` returns them. */
  readonly egress: readonly EgressAllocation[];
  /** Ingress global IPs with their targets, as `Globalnet.ingress()` returns them plus `ip`. */
  readonly ingress: readonly IngressBinding[];
  readonly healthChecks?: readonly HealthCheckBinding[];
  readonly pods: readonly PodInfo[];
}

export type IngressKind = 'service' | 'pod' | 'endpoint';

export interface IngressDnat {
  readonly globalIp: string;
  readonly to: string;
  readonly owner: string;
  readonly kind: IngressKind;
}

export interface HealthCheckDnat {
  readonly globalIp: string;
  readonly to: string;
  readonly owner: string;
}

/** SNAT of the addresses in a named set (a namespace's pods or a pod selector's pods) to a block. */
export interface EgressSetSnat {
  readonly set: string;
  readonly owner: string;
  /** The block: `a` or `a-b`. */
  readonly to: string;
  /** Pod IPs, in address order. */
  readonly elements: readonly string[];
}

/** SNAT of one source address (a headless service's pod or endpoint) to its own ingress global IP. */
export interface EgressAddrSnat {
  readonly source: string;
  readonly to: string;
  readonly owner: string;
}

/** SNAT of a local CIDR to the cluster block. */
export interface EgressCidrSnat {
  readonly source: string;
  readonly to: string;
  readonly owner: string;
}

export interface GlobalnetNatPlan {
  readonly kind: 'globalnet';
  readonly version: 1;
  readonly family: Family;
  readonly mark: typeof GLOBALNET_MARK;
  readonly globalCidr: string;
  readonly localCidrs: readonly string[];
  readonly remoteGlobalCidrs: readonly string[];
  /** DNAT of ingress global IPs, by global IP. */
  readonly ingress: readonly IngressDnat[];
  /** DNAT of health-check ICMP, by global IP. */
  readonly healthChecks: readonly HealthCheckDnat[];
  /** Source translation, most specific first (the order of Submariner's SM-GN-EGRESS-* chains). */
  readonly egress: {
    readonly pods: readonly EgressSetSnat[];
    readonly headlessPods: readonly EgressAddrSnat[];
    readonly headlessEndpoints: readonly EgressAddrSnat[];
    readonly namespaces: readonly EgressSetSnat[];
    readonly cluster: readonly EgressCidrSnat[];
  };
}

function bad(message: string, details: Record<string, unknown>): GlobalnetError {
  return new GlobalnetError('INVALID_NAT_INPUT', message, details);
}

function list<T>(value: readonly T[] | undefined, field: string): readonly T[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw bad(`${field} must be a list, got ${show(value)}`, { field, value });
  return value;
}

function sortedCidrs(texts: readonly string[], field: string, family: Family, against: string): Prefix[] {
  const out = list(texts, field).map((t) => {
    const p = cidrOf(t, field);
    checkFamily(p, family, field, against);
    return p;
  });
  out.sort((a, b) => a.compare(b));
  return out.filter((p, i) => i === 0 || !p.equals(out[i - 1]!));
}

const byAddr = (a: { a: Addr }, b: { a: Addr }) => a.a.compare(b.a);

/** `a` or `a-b` for a contiguous block, checked to lie in the global CIDR. */
function blockOf(e: EgressAllocation, global: Prefix): string {
  const ips = list(e.globalIps, `egress ${e.owner} globalIps`).map((t) =>
    addrOf(t, `egress ${e.owner} global IP`),
  );
  if (ips.length === 0) throw bad(`egress ${show(e.owner)} has no global IPs`, { owner: e.owner });
  for (let i = 0; i < ips.length; i++) {
    if (!global.contains(ips[i]!)) {
      throw bad(`egress global IP ${ips[i]} of ${show(e.owner)} is outside globalCidr ${global}`, {
        owner: e.owner,
        value: ips[i]!.toString(),
      });
    }
    if (i > 0 && !ips[i - 1]!.next()?.equals(ips[i]!)) {
      throw bad(`egress block of ${show(e.owner)} is not contiguous at ${ips[i]}`, {
        owner: e.owner,
        value: ips[i]!.toString(),
      });
    }
  }
  const first = ips[0]!;
  const last = ips[ips.length - 1]!;
  return first.equals(last) ? first.toString() : `${first}-${last}`;
}

interface Scope {
  readonly owner: string;
  readonly to: string;
  readonly set: string;
  readonly members: Array<{ a: Addr }>;
}

interface PodScope extends Scope {
  readonly matches: (labels: Labels) => boolean;
}

/**
 * Plan Globalnet's NAT for one address family (the global CIDR's): mark traffic from this cluster to the
 * remote global CIDRs; translate its source by the most specific egress scope that selects the pod (pod
 * selector, then a headless service's own global IP, then namespace, then cluster), using one address set
 * per namespace and pod-selector scope so the rule count grows with scopes, not pods; DNAT each ingress
 * global IP to its ClusterIP, pod IP or endpoint address, and health-check ICMP to the gateway's CNI
 * address. Pure; the plan is sorted in one canonical order.
 */
export function planGlobalnetNat(input: GlobalnetNatInput): GlobalnetNatPlan {
  if (typeof input !== 'object' || input === null)
    throw bad(`NAT input must be an object, got ${show(input)}`, { value: input });
  const global = cidrOf(input.globalCidr, 'globalCidr');
  const family = global.family;
  const against = `globalCidr ${global}`;
  const localCidrs = sortedCidrs(input.localCidrs, 'localCidrs', family, against);
  const remote = sortedCidrs(input.remoteGlobalCidrs, 'remoteGlobalCidrs', family, against);
  for (const r of remote) {
    if (r.overlaps(global)) {
      throw bad(`remote global CIDR ${r} overlaps this cluster's globalCidr ${global}`, {
        field: 'remoteGlobalCidrs',
        value: r.toString(),
      });
    }
    // Traffic inside the cluster would be marked and translated.
    const local = localCidrs.find((l) => l.overlaps(r));
    if (local !== undefined) {
      throw bad(`remote global CIDR ${r} overlaps local CIDR ${local}`, {
        field: 'remoteGlobalCidrs',
        value: r.toString(),
        local: local.toString(),
      });
    }
  }
  const hidden = localCidrs.find((l) => l.overlaps(global));
  if (hidden !== undefined) {
    throw bad(`local CIDR ${hidden} overlaps globalCidr ${global}`, {
      field: 'localCidrs',
      value: hidden.toString(),
    });
  }
  // One entry per owner: a second one would be planned beside the first or silently replace it.
  const listed = new Set<string>();
  const once = (owner: string) => {
    if (listed.has(owner)) throw bad(`${show(owner)} is listed twice`, { owner });
    listed.add(owner);
  };
  const sameOwner = (given: unknown, owner: string, what: string) => {
    if (given !== undefined && given !== owner) {
      throw bad(
        `${what} owner ${show(given)} does not match its ${what === 'egress' ? 'scope' : 'target'} (${owner})`,
        {
          owner: given,
          expected: owner,
        },
      );
    }
  };
  const usedGlobal = new Map<string, string>();
  const claim = (ip: Addr, owner: string) => {
    if (!global.contains(ip)) {
      throw bad(`global IP ${ip} of ${show(owner)} is outside globalCidr ${global}`, {
        owner,
        value: ip.toString(),
      });
    }
    const key = ip.toString();
    const held = usedGlobal.get(key);
    if (held !== undefined && held !== owner) {
      throw bad(`global IP ${ip} is bound to both ${show(held)} and ${show(owner)}`, {
        value: key,
        owners: [held, owner],
      });
    }
    usedGlobal.set(key, owner);
  };

  // Pods, by namespace/name and by IP of this family.
  const podIps = new Map<string, Addr[]>();
  const podByIp = new Map<string, string>();
  const pods = list(input.pods, 'pods');
  for (const pod of pods) {
    const key = `${pod?.namespace}/${pod?.name}`;
    if (
      typeof pod?.namespace !== 'string' ||
      typeof pod.name !== 'string' ||
      pod.namespace === '' ||
      pod.name === ''
    ) {
      throw bad(`pod ${show(pod)} needs a namespace and a name`, { value: pod });
    }
    if (podIps.has(key)) throw bad(`pod ${key} is listed twice`, { value: key });
    const ips: Addr[] = [];
    for (const t of list(pod.ips, `pod ${key} ips`)) {
      const a = addrOf(t, `pod ${key} IP`);
      if (a.family !== family) continue;
      const other = podByIp.get(a.toString());
      if (other !== undefined)
        throw bad(`pods ${other} and ${key} both have IP ${a}`, { value: a.toString(), pods: [other, key] });
      podByIp.set(a.toString(), key);
      ips.push(a);
    }
    podIps.set(key, ips);
  }

  // Ingress DNAT; headless pods and endpoints also leave through their own global IP.
  const ingress: Array<IngressDnat & { a: Addr }> = [];
  const headlessPodGlobal = new Map<string, Addr>();
  const headlessEndpoints: Array<EgressAddrSnat & { a: Addr }> = [];
  for (const b of list(input.ingress, 'ingress')) {
    const owner = ingressOwner(b?.target);
    sameOwner(b.owner, owner, 'ingress');
    once(owner);
    const g = addrOf(b.globalIp, `ingress ${owner} globalIp`);
    checkFamily(g, family, `ingress ${owner} globalIp`, against);
    claim(g, owner);
    let to: Addr;
    const t = b.target;
    if (t.kind === 'service') {
      if (b.ip === undefined)
        throw bad(`ingress ${show(owner)} needs ip (the service's ClusterIP)`, { owner });
      to = addrOf(b.ip, `ingress ${owner} ip`);
    } else if (t.kind === 'pod') {
      if (b.ip !== undefined) to = addrOf(b.ip, `ingress ${owner} ip`);
      else {
        const ips = podIps.get(`${t.namespace}/${t.name}`);
        if (ips === undefined || ips.length === 0) {
          throw bad(
            `ingress ${show(owner)}: pod ${t.namespace}/${t.name} has no IPv${family} address in pods`,
            { owner },
          );
        }
        to = ips[0]!;
      }
      headlessPodGlobal.set(to.toString(), g);
    } else {
      to = addrOf(b.ip ?? t.address, `ingress ${owner} ip`);
      headlessEndpoints.push({ a: to, source: to.toString(), to: g.toString(), owner });
    }
    checkFamily(to, family, `ingress ${owner} ip`, against);
    ingress.push({ a: g, globalIp: g.toString(), to: to.toString(), owner, kind: t.kind });
  }
  ingress.sort(byAddr);
  headlessEndpoints.sort(byAddr);
  for (let i = 1; i < headlessEndpoints.length; i++) {
    if (headlessEndpoints[i]!.source === headlessEndpoints[i - 1]!.source) {
      const [x, y] = [headlessEndpoints[i - 1]!, headlessEndpoints[i]!];
      throw bad(`endpoint address ${x.source} is bound to both ${show(x.owner)} and ${show(y.owner)}`, {
        value: x.source,
      });
    }
  }

  const health: Array<HealthCheckDnat & { a: Addr }> = [];
  for (const h of list(input.healthChecks, 'healthChecks')) {
    const owner = healthCheckOwner(h?.gateway);
    sameOwner(h.owner, owner, 'health check');
    once(owner);
    const g = addrOf(h.globalIp, `health check ${owner} globalIp`);
    checkFamily(g, family, `health check ${owner} globalIp`, against);
    claim(g, owner);
    const to = addrOf(h.cniIp, `health check ${owner} cniIp`);
    checkFamily(to, family, `health check ${owner} cniIp`, against);
    health.push({ a: g, globalIp: g.toString(), to: to.toString(), owner });
  }
  health.sort(byAddr);

  // Egress scopes.
  const podScopes = new Map<string, PodScope[]>();
  const nsScopes = new Map<string, Scope>();
  const setNames = new Map<string, string>();
  const allScopes: Scope[] = [];
  let cluster: { owner: string; to: string } | undefined;
  for (const e of list(input.egress, 'egress')) {
    const owner = egressOwner(e?.scope);
    sameOwner(e.owner, owner, 'egress');
    once(owner);
    const to = blockOf({ ...e, owner }, global);
    for (const t of e.globalIps) claim(addrOf(t, 'egress global IP'), owner);
    const scope = e.scope;
    if (scope.kind === 'cluster') {
      cluster = { owner, to };
      continue;
    }
    // The family is in the name: ipsets of both families share one namespace on a dual-stack node.
    const set = objectName(`gn${family}-${scope.kind === 'pods' ? 'pods' : 'ns'}`, owner);
    const clash = setNames.get(set);
    if (clash !== undefined && clash !== owner)
      throw bad(`set name ${set} is the same for ${clash} and ${owner}`, { set });
    setNames.set(set, owner);
    if (scope.kind === 'namespace') {
      if (nsScopes.has(scope.namespace))
        throw bad(`namespace ${show(scope.namespace)} has two egress scopes`, { owner });
      const s: Scope = { owner, to, set, members: [] };
      nsScopes.set(scope.namespace, s);
      allScopes.push(s);
    } else {
      let matches: (labels: Labels) => boolean;
      try {
        matchesSelector(scope.selector, {});
        matches = (labels) => matchesSelector(scope.selector, labels);
      } catch (err) {
        const why = IpamError.isInstance(err) ? err.message : String(err);
        throw new GlobalnetError('INVALID_SELECTOR', `pod selector of ${owner}: ${why}`, {
          owner,
          value: scope.selector,
        });
      }
      const s: PodScope = { owner, to, set, members: [], matches };
      const l = podScopes.get(scope.namespace) ?? [];
      l.push(s);
      podScopes.set(scope.namespace, l);
      allScopes.push(s);
    }
  }
  for (const l of podScopes.values()) l.sort((a, b) => (a.owner < b.owner ? -1 : 1));

  // Each pod IP goes to exactly one scope: the most specific that selects it.
  const headlessPods: Array<EgressAddrSnat & { a: Addr }> = [];
  for (const pod of pods) {
    const ips = podIps.get(`${pod.namespace}/${pod.name}`)!;
    if (ips.length === 0) continue;
    const labels = pod.labels ?? {};
    const byPods = podScopes.get(pod.namespace)?.find((s) => s.matches(labels));
    for (const a of ips) {
      if (byPods) {
        byPods.members.push({ a });
        continue;
      }
      const own = headlessPodGlobal.get(a.toString());
      if (own !== undefined) {
        headlessPods.push({
          a,
          source: a.toString(),
          to: own.toString(),
          owner: ingressOwner({ kind: 'pod', namespace: pod.namespace, name: pod.name }),
        });
        continue;
      }
      nsScopes.get(pod.namespace)?.members.push({ a });
    }
  }
  headlessPods.sort(byAddr);
  const setOf = (s: Scope): EgressSetSnat => ({
    set: s.set,
    owner: s.owner,
    to: s.to,
    elements: s.members.sort(byAddr).map((m) => m.a.toString()),
  });
  const byOwner = (a: Scope, b: Scope) => (a.owner < b.owner ? -1 : a.owner > b.owner ? 1 : 0);
  const strip = <T extends { a: Addr }>({ a: _, ...rest }: T): Omit<T, 'a'> => rest;
  return {
    kind: 'globalnet',
    version: 1,
    family,
    mark: GLOBALNET_MARK,
    globalCidr: global.toString(),
    localCidrs: localCidrs.map(String),
    remoteGlobalCidrs: remote.map(String),
    ingress: ingress.map(strip),
    healthChecks: health.map(strip),
    egress: {
      pods: allScopes
        .filter((s) => 'matches' in s)
        .sort(byOwner)
        .map(setOf),
      headlessPods: headlessPods.map(strip),
      headlessEndpoints: headlessEndpoints.map(strip),
      namespaces: allScopes
        .filter((s) => !('matches' in s))
        .sort(byOwner)
        .map(setOf),
      cluster:
        cluster === undefined
          ? []
          : localCidrs.map((p) => ({ source: p.toString(), to: cluster!.to, owner: cluster!.owner })),
    },
  };
}
