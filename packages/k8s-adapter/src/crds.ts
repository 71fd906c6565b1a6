import { MAX_EGRESS_SIZE } from '@isthmus/globalnet-ipam';
import { GROUP, MCS_GROUP, MCS_VERSION, VERSION } from './resources';

/** An OpenAPI v3 schema as apiextensions.k8s.io/v1 reads it (the subset these CRDs use). */
export interface JSONSchemaProps {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: JSONSchemaProps;
  items?: JSONSchemaProps;
  required?: string[];
  enum?: (string | number)[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  default?: unknown;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

/** An apiextensions.k8s.io/v1 CustomResourceDefinition as plain JSON. */
export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    group: string;
    names: {
      kind: string;
      listKind: string;
      plural: string;
      singular: string;
      shortNames?: string[];
      categories?: string[];
    };
    scope: 'Namespaced' | 'Cluster';
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      schema: { openAPIV3Schema: JSONSchemaProps };
      subresources?: { status: Record<string, never> };
      additionalPrinterColumns?: PrinterColumn[];
    }[];
  };
}

export interface CrdOptions {
  /**
   * Let the API server refuse GlobalEgressIP/ClusterGlobalEgressIP numberOfIPs outside 1..20 at admission
   * (422). Default false: the schema asks only for an integer, so the controller sees every count and
   * reports one outside 1..20 as an Event and an `InvalidNumberOfIPs` condition on the object.
   */
  readonly egressLimits?: boolean;
}

// Schema builders: each returns a fresh object, so callers may not share state by accident.
const str = (description?: string, extra: JSONSchemaProps = {}): JSONSchemaProps => ({
  type: 'string',
  ...(description ? { description } : {}),
  ...extra,
});
const int = (description: string, extra: JSONSchemaProps = {}): JSONSchemaProps => ({
  type: 'integer',
  description,
  ...extra,
});
const arr = (items: JSONSchemaProps, description?: string): JSONSchemaProps => ({
  type: 'array',
  items,
  ...(description ? { description } : {}),
});
const obj = (
  properties: Record<string, JSONSchemaProps>,
  required: string[] = [],
  description?: string,
): JSONSchemaProps => ({
  type: 'object',
  properties,
  ...(required.length > 0 ? { required } : {}),
  ...(description ? { description } : {}),
});
const freeform = (description: string): JSONSchemaProps => ({
  type: 'object',
  description,
  'x-kubernetes-preserve-unknown-fields': true,
});

const labelSelector = (description: string): JSONSchemaProps =>
  obj(
    {
      matchLabels: { type: 'object', additionalProperties: str() },
      matchExpressions: arr(
        obj(
          {
            key: str(),
            operator: str(undefined, { enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] }),
            values: arr(str()),
          },
          ['key', 'operator'],
        ),
      ),
    },
    [],
    description,
  );

const conditions = (): JSONSchemaProps =>
  arr(
    obj(
      {
        type: str('CamelCase condition type, e.g. Ready'),
        status: str(undefined, { enum: ['True', 'False', 'Unknown'] }),
        reason: str(),
        message: str(),
        lastTransitionTime: str(undefined, { pattern: '^\\d{4}-\\d{2}-\\d{2}T' }),
        observedGeneration: int('metadata.generation the condition was set from', { minimum: 0 }),
      },
      ['type', 'status', 'reason', 'message', 'lastTransitionTime'],
    ),
    'metav1.Condition list, one per type',
  );

function crd(
  kind: string,
  plural: string,
  scope: 'Namespaced' | 'Cluster',
  spec: JSONSchemaProps,
  status: JSONSchemaProps,
  columns: PrinterColumn[],
  shortNames: string[],
  group = GROUP,
  version = VERSION,
): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      names: {
        kind,
        listKind: `${kind}List`,
        plural,
        singular: kind.toLowerCase(),
        ...(shortNames.length > 0 ? { shortNames } : {}),
        ...(group === GROUP ? { categories: ['isthmus'] } : {}),
      },
      scope,
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: obj(
              { apiVersion: str(), kind: str(), metadata: { type: 'object' }, spec, status },
              group === GROUP ? ['spec'] : [],
            ),
          },
          subresources: { status: {} },
          additionalPrinterColumns: [
            ...columns,
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
        },
      ],
    },
  };
}

function ipPool(): CustomResourceDefinition {
  const spec = obj(
    {
      subnet: str('CIDR every address of the pool lies in, e.g. 10.6.0.0/16'),
      ips: arr(
        str(),
        'allocatable addresses, CIDRs or ranges (a-b); default every host address of the subnet',
      ),
      excludeIPs: arr(str(), 'addresses never allocated'),
      gateway: str('the subnet gateway: never allocated'),
      reservedIPs: arr(str(), 'reserved addresses: never allocated'),
      routes: arr(
        obj({ dst: str(), gw: str() }, ['dst', 'gw']),
        'routes handed to the CNI with each address',
      ),
      default: { type: 'boolean', description: 'a cluster-default pool' },
      disable: { type: 'boolean', description: 'a disabled pool hands out nothing new' },
      vlan: int('VLAN id', { minimum: 0, maximum: 4094 }),
      podAffinity: labelSelector('pods that may use the pool'),
      namespaceAffinity: labelSelector('namespaces whose pods may use the pool'),
      namespaceName: arr(str()),
      nodeAffinity: labelSelector('nodes whose pods may use the pool'),
      nodeName: arr(str()),
    },
    ['subnet'],
  );
  const status = obj({
    total: str('allocatable addresses (decimal: an IPv6 pool does not fit a JSON number)'),
    allocated: str(),
    free: str(),
    conditions: conditions(),
  });
  return crd(
    'IPPool',
    'ippools',
    'Cluster',
    spec,
    status,
    [
      { name: 'Subnet', type: 'string', jsonPath: '.spec.subnet' },
      { name: 'Total', type: 'string', jsonPath: '.status.total' },
      { name: 'Allocated', type: 'string', jsonPath: '.status.allocated' },
      { name: 'Free', type: 'string', jsonPath: '.status.free' },
    ],
    ['ipp'],
  );
}

// Both bounds or neither: a count out of range is reported one way, by admission or by the controller.
function numberOfIPs(limits: boolean): JSONSchemaProps {
  return int(
    `global egress IPs to allocate, 1 to ${MAX_EGRESS_SIZE}`,
    limits ? { minimum: 1, maximum: MAX_EGRESS_SIZE } : {},
  );
}

const egressStatus = (): JSONSchemaProps =>
  obj({ allocatedIPs: arr(str(), 'the allocated global IPs, in address order'), conditions: conditions() });

const egressColumns = (): PrinterColumn[] => [
  { name: 'IPs', type: 'integer', jsonPath: '.spec.numberOfIPs' },
  { name: 'Allocated', type: 'string', jsonPath: '.status.allocatedIPs' },
];

function globalEgressIP(limits: boolean): CustomResourceDefinition {
  return crd(
    'GlobalEgressIP',
    'globalegressips',
    'Namespaced',
    obj({
      numberOfIPs: numberOfIPs(limits),
      podSelector: labelSelector("the namespace's pods this applies to; omitted: all of them"),
    }),
    egressStatus(),
    egressColumns(),
    ['geip'],
  );
}

function clusterGlobalEgressIP(limits: boolean): CustomResourceDefinition {
  return crd(
    'ClusterGlobalEgressIP',
    'clusterglobalegressips',
    'Cluster',
    obj({ numberOfIPs: numberOfIPs(limits) }),
    egressStatus(),
    egressColumns(),
    ['cgeip'],
  );
}

function clusterSetMember(): CustomResourceDefinition {
  const gateway = obj(
    {
      node: str(),
      privateIp: str(),
      privateSubnet: str(),
      publicIp: str(),
      port: int('UDP port of the cable', { minimum: 1, maximum: 65535 }),
      publicKey: str('WireGuard public key (public material only)'),
    },
    ['node', 'privateIp'],
  );
  return crd(
    'ClusterSetMember',
    'clustersetmembers',
    'Cluster',
    obj(
      {
        clusterID: str('the member cluster id', { minLength: 1, maxLength: 63 }),
        podCIDRs: arr(str()),
        serviceCIDRs: arr(str()),
        mode: str('how the member nodes reach each other pods', { enum: ['gateway', 'p2p'] }),
        globalCIDR: str('the global CIDR the member asks for; allotted when omitted'),
        gateways: arr(gateway, 'the member gateway nodes'),
      },
      ['clusterID', 'podCIDRs', 'serviceCIDRs'],
    ),
    obj({ globalCIDR: str('the global CIDR allotted to the member'), conditions: conditions() }),
    [
      { name: 'Cluster', type: 'string', jsonPath: '.spec.clusterID' },
      { name: 'Global CIDR', type: 'string', jsonPath: '.status.globalCIDR' },
      { name: 'Mode', type: 'string', jsonPath: '.spec.mode' },
    ],
    ['csm'],
  );
}

// The route plan's entries are many small tagged shapes owned by route-planner: the CRD checks the
// sections and leaves each entry's fields to the planner (a full schema would restate its types).
const PLAN_SECTIONS = ['devices', 'addresses', 'routes', 'rules', 'neighbours', 'fdb', 'mangle'] as const;

function nodePlan(): CustomResourceDefinition {
  const entry: JSONSchemaProps = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  const routes = obj(
    Object.fromEntries(PLAN_SECTIONS.map((s) => [s, arr(entry)])),
    [...PLAN_SECTIONS],
    'the route-planner Plan of the node host namespace (entries kept as route-planner writes them)',
  );
  const cable = obj(
    {
      driver: str(undefined, { enum: ['wireguard', 'vxlan', 'libreswan'] }),
      interface: str(undefined, { minLength: 1, maxLength: 15 }),
      mtu: int('interface MTU', { minimum: 576, maximum: 65535 }),
      listenPort: int('local UDP port', { minimum: 1, maximum: 65535 }),
      peers: arr(
        obj(
          {
            publicKey: str(),
            endpoint: str(),
            allowedIPs: arr(str()),
            persistentKeepalive: int('seconds', { minimum: 0, maximum: 65535 }),
          },
          ['publicKey', 'endpoint', 'allowedIPs'],
        ),
      ),
      secretFile: str('path on the node of the file with the node secret (never the secret itself)'),
    },
    ['driver', 'interface', 'mtu'],
    'the tunnel to the other clusters (public material only)',
  );
  const nat: JSONSchemaProps = {
    ...freeform('the globalnet NAT plan (@isthmus/globalnet-ipam GlobalnetNatPlan), checked by the planner'),
    properties: {
      kind: str(undefined, { enum: ['globalnet'] }),
      version: int('plan format version', { minimum: 1 }),
    },
    required: ['kind', 'version'],
  };
  return crd(
    'NodePlan',
    'nodeplans',
    'Cluster',
    obj({ node: str('the node this plan is for', { minLength: 1 }), routes, nat, cable }, ['node', 'routes']),
    obj({
      appliedGeneration: int('metadata.generation of the spec the agent last applied in full', {
        minimum: 0,
      }),
      error: str('the last apply error, cleared by a successful apply'),
      conditions: conditions(),
    }),
    [
      { name: 'Node', type: 'string', jsonPath: '.spec.node' },
      { name: 'Generation', type: 'integer', jsonPath: '.metadata.generation' },
      { name: 'Applied', type: 'integer', jsonPath: '.status.appliedGeneration' },
      { name: 'Error', type: 'string', jsonPath: '.status.error', priority: 1 },
    ],
    ['np'],
  );
}

/** The five isthmus.io CRDs: IPPool, GlobalEgressIP, ClusterGlobalEgressIP, ClusterSetMember, NodePlan. */
export function crdManifests(opts: CrdOptions = {}): CustomResourceDefinition[] {
  const limits = opts.egressLimits ?? false;
  return [ipPool(), globalEgressIP(limits), clusterGlobalEgressIP(limits), clusterSetMember(), nodePlan()];
}

/**
 * The Multi-Cluster Services API ServiceExport CRD (multicluster.x-k8s.io/v1alpha1, namespaced), for
 * clusters that do not have it yet. A minimal schema: the controller reads only its namespace/name.
 */
export function serviceExportCrd(): CustomResourceDefinition {
  return crd(
    'ServiceExport',
    'serviceexports',
    'Namespaced',
    freeform('empty: a ServiceExport exports the Service of the same name'),
    { ...freeform('conditions set by the MCS implementation'), properties: { conditions: conditions() } },
    [],
    ['svcex'],
    MCS_GROUP,
    MCS_VERSION,
  );
}

// A plain scalar YAML reads back as the same string (not a number, bool, null or anything special).
const PLAIN = /^[A-Za-z_/][A-Za-z0-9_./-]*$/;
const YAML_WORDS = /^(true|false|yes|no|on|off|y|n|null|~)$/i;

function yamlScalar(v: unknown): string {
  if (typeof v === 'string') return PLAIN.test(v) && !YAML_WORDS.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? 'null';
}

/** Block YAML of plain JSON data (objects, arrays, strings, numbers, booleans); strings are quoted when needed. */
function toYaml(v: unknown, indent: string): string {
  if (Array.isArray(v)) {
    if (v.length === 0) return ' []\n';
    return `\n${v.map((item) => `${indent}-${toYaml(item, `${indent}  `).replace(/^\n\s*/, ' ')}`).join('')}`;
  }
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    if (entries.length === 0) return ' {}\n';
    return `\n${entries.map(([k, x]) => `${indent}${yamlScalar(k)}:${toYaml(x, `${indent}  `)}`).join('')}`;
  }
  return ` ${yamlScalar(v)}\n`;
}

/** The CRDs as one multi-document YAML stream (`kubectl apply -f -`). */
export function renderCrdYaml(crds: readonly CustomResourceDefinition[] = crdManifests()): string {
  return crds.map((c) => `---${toYaml(c, '').replace(/^\n/, '\n')}`).join('');
}

/** One way an object does not fit a schema: where, and what. */
export interface SchemaViolation {
  readonly path: string;
  readonly message: string;
}

const typeOf = (v: unknown): string =>
  Array.isArray(v) ? 'array' : v === null ? 'null' : Number.isInteger(v) ? 'integer' : typeof v;

/**
 * Checks a value against a structural schema the way the API server does for these CRDs: types,
 * required fields, enums, bounds and patterns; a field the schema does not know (which the server
 * would prune) is a violation too. Pure; returns every violation.
 */
export function checkSchema(schema: JSONSchemaProps, value: unknown, path = ''): SchemaViolation[] {
  const out: SchemaViolation[] = [];
  const at = path || '.';
  const t = typeOf(value);
  if (schema.type !== undefined) {
    const ok = schema.type === t || (schema.type === 'number' && t === 'integer');
    if (!ok) return [{ path: at, message: `expected ${schema.type}, got ${t}` }];
  }
  if (schema.enum && !schema.enum.includes(value as string | number)) {
    out.push({ path: at, message: `${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}` });
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum)
      out.push({ path: at, message: `${value} < minimum ${schema.minimum}` });
    if (schema.maximum !== undefined && value > schema.maximum)
      out.push({ path: at, message: `${value} > maximum ${schema.maximum}` });
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength)
      out.push({ path: at, message: `${JSON.stringify(value)} is shorter than ${schema.minLength}` });
    if (schema.maxLength !== undefined && value.length > schema.maxLength)
      out.push({ path: at, message: `${JSON.stringify(value)} is longer than ${schema.maxLength}` });
    if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value))
      out.push({ path: at, message: `${JSON.stringify(value)} does not match ${schema.pattern}` });
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((v, i) => {
      out.push(...checkSchema(schema.items as JSONSchemaProps, v, `${path}[${i}]`));
    });
  }
  if (t === 'object') {
    const rec = value as Record<string, unknown>;
    for (const r of schema.required ?? []) {
      if (rec[r] === undefined) out.push({ path: `${path}.${r}`, message: 'required field missing' });
    }
    for (const [k, v] of Object.entries(rec)) {
      if (v === undefined) continue;
      const sub = schema.properties?.[k] ?? schema.additionalProperties;
      if (sub) out.push(...checkSchema(sub, v, `${path}.${k}`));
      else if (!schema['x-kubernetes-preserve-unknown-fields'] && schema.properties)
        out.push({ path: `${path}.${k}`, message: 'unknown field (the API server would prune it)' });
    }
  }
  return out;
}
