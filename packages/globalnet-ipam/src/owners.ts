// Stable owner keys for everything that holds global IPs, and the way back from a key to what it names.
import type { LabelSelector } from '@isthmus/ipam';
import { addrOf } from './cidr';
import { GlobalnetError, show } from './errors';

/** What an ingress global IP is for (Submariner Globalnet's three ingress kinds). */
export type IngressTarget =
  /** An exported ClusterIP service: `svc/<ns>/<name>`. */
  | { readonly kind: 'service'; readonly namespace: string; readonly name: string }
  /** A pod backing an exported headless service: `pod/<ns>/<name>`. */
  | { readonly kind: 'pod'; readonly namespace: string; readonly name: string }
  /** An endpoint address of an exported headless service without selector: `ep/<ns>/<service>/<address>`. */
  | {
      readonly kind: 'endpoint';
      readonly namespace: string;
      readonly service: string;
      readonly address: string;
    };

/** Whose source addresses an egress block translates; the most specific scope that selects a pod wins. */
export type EgressScope =
  /** Every pod of the cluster (Submariner ClusterGlobalEgressIP): `egress/cluster`. */
  | { readonly kind: 'cluster' }
  /** Every pod of a namespace (GlobalEgressIP without podSelector): `egress/ns/<ns>`. */
  | { readonly kind: 'namespace'; readonly namespace: string }
  /** The pods of a namespace a label selector picks (GlobalEgressIP with podSelector): `egress/pods/<ns>/<name>`. */
  | {
      readonly kind: 'pods';
      readonly namespace: string;
      readonly name: string;
      readonly selector: LabelSelector;
    };

/** What an owner key names. Pod-selector scopes come back without their selector (it is kept beside). */
export type OwnerOf =
  | { readonly role: 'ingress'; readonly target: IngressTarget }
  | {
      readonly role: 'egress';
      readonly scope:
        | { kind: 'cluster' }
        | { kind: 'namespace'; namespace: string }
        | { kind: 'pods'; namespace: string; name: string };
    }
  | { readonly role: 'health'; readonly gateway: string };

function part(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.includes('/')) {
    throw new GlobalnetError(
      'INVALID_ARGUMENT',
      `${field} must be a non-empty string without '/', got ${show(value)}`,
      {
        field,
        value,
      },
    );
  }
  return value;
}

/** The owner key of an ingress target. Endpoint addresses are canonicalised. */
export function ingressOwner(target: IngressTarget): string {
  switch (target?.kind) {
    case 'service':
      return `svc/${part(target.namespace, 'namespace')}/${part(target.name, 'name')}`;
    case 'pod':
      return `pod/${part(target.namespace, 'namespace')}/${part(target.name, 'name')}`;
    case 'endpoint':
      return `ep/${part(target.namespace, 'namespace')}/${part(target.service, 'service')}/${addrOf(target.address, 'endpoint address')}`;
    default:
      throw new GlobalnetError(
        'INVALID_ARGUMENT',
        `ingress target kind must be service, pod or endpoint, got ${show(target)}`,
        {
          field: 'kind',
          value: target,
        },
      );
  }
}

/** The owner key of an egress scope. */
export function egressOwner(scope: EgressScope): string {
  switch (scope?.kind) {
    case 'cluster':
      return 'egress/cluster';
    case 'namespace':
      return `egress/ns/${part(scope.namespace, 'namespace')}`;
    case 'pods':
      return `egress/pods/${part(scope.namespace, 'namespace')}/${part(scope.name, 'name')}`;
    default:
      throw new GlobalnetError(
        'INVALID_ARGUMENT',
        `egress scope kind must be cluster, namespace or pods, got ${show(scope)}`,
        {
          field: 'kind',
          value: scope,
        },
      );
  }
}

/** The owner key of a gateway's health-check global IP: `hc/<gateway>`. */
export function healthCheckOwner(gateway: string): string {
  return `hc/${part(gateway, 'gateway')}`;
}

const SEGMENT = /^[^/]+$/;

/** Read an owner key back; undefined for a key this package never makes. */
export function parseOwner(owner: string): OwnerOf | undefined {
  if (typeof owner !== 'string') return undefined;
  const p = owner.split('/');
  if (!p.every((s) => SEGMENT.test(s))) return undefined;
  const [head, a, b, c] = p as [string, string?, string?, string?];
  if (head === 'svc' && p.length === 3)
    return { role: 'ingress', target: { kind: 'service', namespace: a!, name: b! } };
  if (head === 'pod' && p.length === 3)
    return { role: 'ingress', target: { kind: 'pod', namespace: a!, name: b! } };
  if (head === 'ep' && p.length === 4) {
    return { role: 'ingress', target: { kind: 'endpoint', namespace: a!, service: b!, address: c! } };
  }
  if (head === 'hc' && p.length === 2) return { role: 'health', gateway: a! };
  if (head === 'egress') {
    if (a === 'cluster' && p.length === 2) return { role: 'egress', scope: { kind: 'cluster' } };
    if (a === 'ns' && p.length === 3) return { role: 'egress', scope: { kind: 'namespace', namespace: b! } };
    if (a === 'pods' && p.length === 4)
      return { role: 'egress', scope: { kind: 'pods', namespace: b!, name: c! } };
  }
  return undefined;
}
