import type { ClusterGlobalEgressIP, ClusterSetMember, GlobalEgressIP, IPPool, NodePlan } from '../resources';

// Samples typed as the TS types (tsc checks them), with every optional field set: each must fit its schema.
const cond = {
  type: 'Ready',
  status: 'True' as const,
  reason: 'Allocated',
  message: 'ok',
  lastTransitionTime: '2026-01-01T00:00:00Z',
  observedGeneration: 1,
};
const meta = {
  name: 'x',
  uid: 'u',
  resourceVersion: '1',
  generation: 1,
  labels: { a: 'b' },
  annotations: { c: 'd' },
};
const selector = {
  matchLabels: { app: 'web' },
  matchExpressions: [{ key: 'tier', operator: 'In' as const, values: ['a'] }],
};

export const SAMPLES = {
  IPPool: {
    apiVersion: 'isthmus.io/v1alpha1',
    kind: 'IPPool',
    metadata: meta,
    spec: {
      subnet: '10.6.0.0/16',
      ips: ['10.6.0.10-10.6.0.200'],
      excludeIPs: ['10.6.0.20'],
      gateway: '10.6.0.1',
      reservedIPs: ['10.6.0.30'],
      routes: [{ dst: '10.7.0.0/16', gw: '10.6.0.1' }],
      default: true,
      disable: false,
      vlan: 100,
      podAffinity: selector,
      namespaceAffinity: selector,
      namespaceName: ['ns'],
      nodeAffinity: selector,
      nodeName: ['n1'],
    },
    status: { total: '191', allocated: '1', free: '190', conditions: [cond] },
  } satisfies IPPool,
  GlobalEgressIP: {
    apiVersion: 'isthmus.io/v1alpha1',
    kind: 'GlobalEgressIP',
    metadata: { ...meta, namespace: 'shop' },
    spec: { numberOfIPs: 20, podSelector: selector },
    status: { allocatedIPs: ['242.0.0.9'], conditions: [cond] },
  } satisfies GlobalEgressIP,
  ClusterGlobalEgressIP: {
    apiVersion: 'isthmus.io/v1alpha1',
    kind: 'ClusterGlobalEgressIP',
    metadata: meta,
    spec: { numberOfIPs: 8 },
    status: { allocatedIPs: ['242.0.0.1'], conditions: [cond] },
  } satisfies ClusterGlobalEgressIP,
  ClusterSetMember: {
    apiVersion: 'isthmus.io/v1alpha1',
    kind: 'ClusterSetMember',
    metadata: meta,
    spec: {
      clusterID: 'east',
      podCIDRs: ['10.244.0.0/16'],
      serviceCIDRs: ['10.96.0.0/12'],
      mode: 'gateway',
      globalCIDR: '242.0.0.0/16',
      gateways: [
        {
          node: 'gw1',
          privateIp: '192.0.2.1',
          privateSubnet: '192.0.2.0/24',
          publicIp: '198.18.0.1',
          port: 4500,
          publicKey: 'pub=',
        },
      ],
    },
    status: { globalCIDR: '242.0.0.0/16', conditions: [cond] },
  } satisfies ClusterSetMember,
  NodePlan: {
    apiVersion: 'isthmus.io/v1alpha1',
    kind: 'NodePlan',
    metadata: meta,
    spec: {
      node: 'n1',
      routes: { devices: [], addresses: [], routes: [], rules: [], neighbours: [], fdb: [], mangle: [] },
      cable: {
        driver: 'wireguard',
        interface: 'isthmus-wg',
        mtu: 1420,
        listenPort: 4500,
        peers: [
          {
            publicKey: 'pub=',
            endpoint: '198.18.0.2:4500',
            allowedIPs: ['242.1.0.0/16'],
            persistentKeepalive: 25,
          },
        ],
        secretFile: '/etc/isthmus/wireguard.key',
      },
    },
    status: { appliedGeneration: 1, error: 'x', conditions: [cond] },
  } satisfies NodePlan,
};
