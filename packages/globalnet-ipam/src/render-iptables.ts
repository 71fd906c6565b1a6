// iptables-restore text in Submariner Globalnet's chain layout, so users can move between the two, plus
// the ipset contents its rules reference (iptables-restore refuses a rule whose set does not exist).
import { GlobalnetError, show } from './errors';
import type { EgressSetSnat, GlobalnetNatPlan } from './nat-plan';

/** Submariner Globalnet's nat chains, in the order SUBMARINER-GN-EGRESS jumps to the egress ones. */
export const IPTABLES_CHAINS = {
  ingress: 'SUBMARINER-GN-INGRESS',
  postrouting: 'SUBMARINER-POSTROUTING',
  egress: 'SUBMARINER-GN-EGRESS',
  mark: 'SUBMARINER-GN-MARK',
  pods: 'SM-GN-EGRESS-PODS',
  headlessPods: 'SM-GN-EGRESS-HDLS-PODS',
  headlessEndpoints: 'SM-GN-EGRESS-HDLS-EPS',
  namespaces: 'SM-GN-EGRESS-NS',
  cluster: 'SM-GN-EGRESS-CLUSTER',
} as const;

export interface RenderedIptables {
  /** `iptables-restore` for IPv4 plans, `ip6tables-restore` for IPv6 ones. */
  readonly tool: 'iptables-restore' | 'ip6tables-restore';
  /**
   * Text for `<tool> --noflush`: declares (and so empties) every Globalnet chain and fills it. Built-in
   * chains are not touched; see `hooks`.
   */
  readonly restore: string;
  /** Text for `ipset restore`, to run first: creates (if missing), empties and fills every set the rules use. */
  readonly ipsetRestore: string;
  /**
   * The jumps from the built-in chains, as arguments for `iptables -t nat`: check each with `-C` and
   * insert it at the top with `-I` when missing, as Submariner does, so a CNI's masquerade cannot take the
   * traffic first (putting them in `restore` would add them again on every apply).
   */
  readonly hooks: ReadonlyArray<readonly string[]>;
}

const C = IPTABLES_CHAINS;
const MARK = '0xC0000/0xC0000';

function ipsetOf(s: EgressSetSnat, family: 'inet' | 'inet6'): string {
  const maxelem = Math.max(65_536, s.elements.length);
  return [
    `create ${s.set} hash:ip family ${family} maxelem ${maxelem} -exist`,
    `flush ${s.set}`,
    ...s.elements.map((e) => `add ${s.set} ${e}`),
  ].join('\n');
}

/**
 * Render a Globalnet NAT plan as `iptables-restore --noflush` text in Submariner's layout: nat chains
 * SUBMARINER-GN-INGRESS (from PREROUTING) and SUBMARINER-GN-EGRESS (from SUBMARINER-POSTROUTING, itself
 * from POSTROUTING), which jumps in order to SUBMARINER-GN-MARK, SM-GN-EGRESS-PODS, -HDLS-PODS, -HDLS-EPS,
 * -NS and -CLUSTER; mark 0xC0000/0xC0000; ipsets for namespace and pod-selector scopes.
 */
export function renderIptables(plan: GlobalnetNatPlan): RenderedIptables {
  if (plan?.kind !== 'globalnet') {
    const kind = (plan as { kind?: unknown } | null)?.kind;
    throw new GlobalnetError(
      'INVALID_ARGUMENT',
      `renderIptables needs a globalnet plan, got kind ${show(kind)}`,
      { value: kind },
    );
  }
  const icmp = plan.family === 4 ? 'icmp' : 'ipv6-icmp';
  const e = plan.egress;
  const snat = (chain: string, match: string, to: string) =>
    `-A ${chain} -p all ${match} -m mark --mark ${MARK} -j SNAT --to-source ${to}`;
  const lines = [
    '*nat',
    ...Object.values(C).map((c) => `:${c} - [0:0]`),
    ...plan.healthChecks.map(
      (h) => `-A ${C.ingress} -d ${h.globalIp} -p ${icmp} -j DNAT --to-destination ${h.to}`,
    ),
    ...plan.ingress.map((i) => `-A ${C.ingress} -d ${i.globalIp} -j DNAT --to-destination ${i.to}`),
    `-A ${C.postrouting} -j ${C.egress}`,
    ...[C.mark, C.pods, C.headlessPods, C.headlessEndpoints, C.namespaces, C.cluster].map(
      (c) => `-A ${C.egress} -j ${c}`,
    ),
    ...plan.remoteGlobalCidrs.map((r) => `-A ${C.mark} -d ${r} -j MARK --set-xmark ${MARK}`),
    ...e.pods.map((s) => snat(C.pods, `-m set --match-set ${s.set} src`, s.to)),
    ...e.headlessPods.map((h) => snat(C.headlessPods, `-s ${h.source}`, h.to)),
    ...e.headlessEndpoints.map((h) => snat(C.headlessEndpoints, `-s ${h.source}`, h.to)),
    ...e.namespaces.map((s) => snat(C.namespaces, `-m set --match-set ${s.set} src`, s.to)),
    ...e.cluster.map((c) => snat(C.cluster, `-s ${c.source}`, c.to)),
    'COMMIT',
    '',
  ];
  const family = plan.family === 4 ? 'inet' : 'inet6';
  const sets = [...e.pods, ...e.namespaces].map((s) => ipsetOf(s, family));
  return {
    tool: plan.family === 4 ? 'iptables-restore' : 'ip6tables-restore',
    restore: lines.join('\n'),
    ipsetRestore: sets.length === 0 ? '' : `${sets.join('\n')}\n`,
    hooks: [
      ['-I', 'PREROUTING', '-j', C.ingress],
      ['-I', 'POSTROUTING', '-j', C.postrouting],
    ],
  };
}
