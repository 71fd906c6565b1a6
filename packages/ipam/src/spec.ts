/** A route carried with a pool (Spiderpool `spec.routes`): plain data for the CNI to install. */
export interface PoolRoute {
  readonly dst: string;
  readonly gw: string;
}

/** One requirement of a Kubernetes label selector. */
export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  readonly values?: readonly string[];
}

/** A Kubernetes label selector (matchLabels AND matchExpressions); an empty selector matches everything. */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

/**
 * What a pool is, following Spiderpool's SpiderIPPool spec. Addresses, CIDRs and ranges are text:
 * `"10.0.0.7"`, `"10.0.0.0/28"`, `"172.110.1.1-172.110.1.200"`.
 */
export interface PoolSpec {
  readonly name: string;
  /** The subnet every address of the pool lies in (required). */
  readonly subnet: string;
  /** Allocatable addresses; default: every host address of the subnet. */
  readonly ips?: readonly string[];
  /** Addresses never allocated. */
  readonly excludeIPs?: readonly string[];
  /** The subnet's gateway: inside the subnet, never allocated, not counted in `total`. */
  readonly gateway?: string;
  /** Reserved addresses (Spiderpool's SpiderReservedIP): never allocated. */
  readonly reservedIPs?: readonly string[];
  /** Routes handed to the CNI with each address, as data. */
  readonly routes?: readonly PoolRoute[];
  /** A cluster-default pool, used when neither the pod nor its namespace names pools. */
  readonly default?: boolean;
  /** A disabled pool hands out nothing new. */
  readonly disable?: boolean;
  readonly vlan?: number;
  readonly podAffinity?: LabelSelector;
  readonly namespaceAffinity?: LabelSelector;
  readonly namespaceName?: readonly string[];
  readonly nodeAffinity?: LabelSelector;
  readonly nodeName?: readonly string[];
}
