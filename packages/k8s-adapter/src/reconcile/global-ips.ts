// Ingress global IPs: one per exported ClusterIP service, one per pod of an exported headless service.

import { GlobalnetError, type IngressTarget, ingressOwner } from '@isthmus/globalnet-ipam';
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { GLOBAL_IP_ANNOTATION } from '../resources';
import { type Claim, canonicalAddr } from './claims';
import type { GlobalnetHolder } from './globalnet-holder';
import type { Outbox } from './outbox';
import { selectsPod } from './pod-index';
import { createdOf, GLOBAL_IP_ERROR_ANNOTATION, keyOf, objectRef, splitKey } from './refs';
import { isClusterIpService, isHeadlessWithSelector, type Store } from './store';

type Kind = 'Service' | 'Pod';

export class GlobalIps {
  /** Exported headless service key -> keys of the pods its selector picks. */
  private readonly selected = new Map<string, Set<string>>();
  /** Namespace -> exported headless service keys in `selected`. */
  private readonly headlessByNs = new Map<string, Set<string>>();
  private readonly selectorText = new Map<string, string>();
  /** Pod key -> how many exported headless services select it. */
  private readonly podRefs = new Map<string, number>();
  /** Owner key -> global IP held (a mirror of the allocator, for O(1) checks). */
  private readonly held = new Map<string, string>();
  /** `Service/ns/name` or `Pod/ns/name` wanting an IP the allocator could not give yet. */
  private readonly pending = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly holder: GlobalnetHolder,
  ) {}

  get count(): number {
    return this.held.size;
  }

  ipOf(kind: 'service' | 'pod', namespace: string, name: string): string | undefined {
    return this.held.get(`${kind === 'service' ? 'svc' : 'pod'}/${namespace}/${name}`);
  }

  /** Recomputes which pods a service selects (when exported and headless); no allocation. */
  reselect(svcKey: string, changedPods: Set<string>): void {
    const svc = this.store.services.get(svcKey);
    const ns = splitKey(svcKey)[0];
    const wants = svc !== undefined && this.store.exports.has(svcKey) && isHeadlessWithSelector(svc);
    const old = this.selected.get(svcKey);
    if (!wants) {
      if (old === undefined) return;
      for (const p of old) this.unref(p, changedPods);
      this.selected.delete(svcKey);
      this.selectorText.delete(svcKey);
      this.headlessByNs.get(ns)?.delete(svcKey);
      return;
    }
    const sel = svc.spec?.selector ?? {};
    const text = JSON.stringify(Object.entries(sel).sort());
    if (old !== undefined && this.selectorText.get(svcKey) === text) return;
    const next = new Set(this.store.pods.select(ns, sel));
    // Releases first, so the pods that join can reuse the addresses of those that leave.
    for (const p of old ?? []) if (!next.has(p)) this.unref(p, changedPods);
    for (const p of next) if (!old?.has(p)) this.ref(p, changedPods);
    this.selected.set(svcKey, next);
    this.selectorText.set(svcKey, text);
    let set = this.headlessByNs.get(ns);
    if (set === undefined) {
      set = new Set();
      this.headlessByNs.set(ns, set);
    }
    set.add(svcKey);
  }

  /** Updates the selections a pod is in after it changed or went away; O(exported headless services in its namespace). */
  podMoved(podKey: string): void {
    const pod = this.store.pods.get(podKey);
    const ns = splitKey(podKey)[0];
    const unused = new Set<string>();
    for (const svcKey of this.headlessByNs.get(ns) ?? []) {
      const set = this.selected.get(svcKey);
      if (set === undefined) continue;
      const match = pod !== undefined && selectsPod(this.store.services.get(svcKey)?.spec?.selector, pod);
      if (match && !set.has(podKey)) {
        set.add(podKey);
        this.ref(podKey, unused);
      } else if (!match && set.has(podKey)) {
        set.delete(podKey);
        this.unref(podKey, unused);
      }
    }
  }

  /** Allocates, releases and annotates one service to match its desired state. */
  syncService(key: string, out: Outbox): void {
    const svc = this.store.services.get(key);
    const [namespace, name] = splitKey(key);
    const target: IngressTarget = { kind: 'service', namespace, name };
    if (svc === undefined) {
      this.release(target, `Service/${key}`);
      return;
    }
    const wants = this.store.exports.has(key) && isClusterIpService(svc);
    this.sync('Service', svc, target, wants, out);
  }

  /** Allocates, releases and annotates one pod to match its desired state. */
  syncPod(key: string, out: Outbox): void {
    const pod = this.store.pods.get(key);
    const [namespace, name] = splitKey(key);
    const target: IngressTarget = { kind: 'pod', namespace, name };
    if (pod === undefined) {
      this.release(target, `Pod/${key}`);
      return;
    }
    this.sync('Pod', pod, target, (this.podRefs.get(key) ?? 0) > 0, out);
  }

  /** Retries every object waiting for an address (after a release, or once a global CIDR exists). */
  retryPending(out: Outbox): void {
    for (const k of [...this.pending]) {
      if (k.startsWith('Service/')) this.syncService(k.slice(8), out);
      else this.syncPod(k.slice(4), out);
    }
  }

  /** Recorded global IPs of objects that still want one (for restart recovery); unparsable ones are reported. */
  claims(out: Outbox): Claim[] {
    const claims: Claim[] = [];
    const add = (kind: Kind, obj: V1Service | V1Pod, target: IngressTarget) => {
      const text = obj.metadata?.annotations?.[GLOBAL_IP_ANNOTATION];
      if (text === undefined) return;
      const ip = canonicalAddr(text);
      if (ip === undefined) {
        out.problem(
          objectRef(kind, obj),
          'InvalidAnnotation',
          `${GLOBAL_IP_ANNOTATION} ${JSON.stringify(text)} is not an IP address; it is replaced`,
        );
        return;
      }
      claims.push({
        owner: ingressOwner(target),
        addresses: [ip],
        ref: objectRef(kind, obj),
        created: createdOf(obj),
        uid: obj.metadata?.uid ?? '',
        key: `${kind}/${keyOf(obj)}`,
      });
    };
    for (const [key, svc] of this.store.services) {
      const [namespace, name] = splitKey(key);
      if (this.store.exports.has(key) && isClusterIpService(svc))
        add('Service', svc, { kind: 'service', namespace, name });
    }
    for (const [key, n] of this.podRefs) {
      const pod = this.store.pods.get(key);
      const [namespace, name] = splitKey(key);
      if (pod !== undefined && n > 0) add('Pod', pod, { kind: 'pod', namespace, name });
    }
    return claims;
  }

  /** Records an address the restored allocator holds for `owner`. */
  adopt(owner: string, ip: string): void {
    this.held.set(owner, ip);
  }

  /** Forgets every held address (the allocator was replaced). */
  reset(): void {
    this.held.clear();
  }

  private sync(kind: Kind, obj: V1Service | V1Pod, target: IngressTarget, wants: boolean, out: Outbox): void {
    const ref = { ...objectRef(kind, obj), namespace: obj.metadata?.namespace ?? '' };
    const annotations = obj.metadata?.annotations;
    const pendingKey = `${kind}/${keyOf(obj)}`;
    if (!wants) {
      this.release(target, pendingKey);
      out.annotate(ref, annotations, GLOBAL_IP_ANNOTATION, null);
      out.annotate(ref, annotations, GLOBAL_IP_ERROR_ANNOTATION, null);
      return;
    }
    const result = this.allocate(target);
    if ('ip' in result) {
      this.pending.delete(pendingKey);
      out.annotate(ref, annotations, GLOBAL_IP_ANNOTATION, result.ip);
      out.annotate(ref, annotations, GLOBAL_IP_ERROR_ANNOTATION, null);
      return;
    }
    this.pending.add(pendingKey);
    if (annotations?.[GLOBAL_IP_ERROR_ANNOTATION] !== result.message)
      out.problem(ref, result.reason, result.message);
    out.annotate(ref, annotations, GLOBAL_IP_ANNOTATION, null);
    out.annotate(ref, annotations, GLOBAL_IP_ERROR_ANNOTATION, result.message);
  }

  private allocate(target: IngressTarget): { ip: string } | { reason: string; message: string } {
    const owner = ingressOwner(target);
    const have = this.held.get(owner);
    if (have !== undefined) return { ip: have };
    const gn = this.holder.gn;
    if (gn === undefined) {
      return { reason: 'NoGlobalCIDR', message: 'no global CIDR is allotted to this cluster yet' };
    }
    try {
      const ip = gn.allocateIngress(target);
      this.held.set(owner, ip);
      this.holder.changed = true;
      return { ip };
    } catch (e) {
      if (GlobalnetError.isInstance(e) && e.code === 'GLOBALNET_EXHAUSTED') {
        return { reason: 'GlobalnetExhausted', message: `no free global IP in ${gn.globalCidr}` };
      }
      const code = GlobalnetError.isInstance(e) ? e.code : 'ERROR';
      return { reason: 'GlobalIPFailed', message: `${code}: ${e instanceof Error ? e.message : String(e)}` };
    }
  }

  private release(target: IngressTarget, pendingKey: string): void {
    this.pending.delete(pendingKey);
    const owner = ingressOwner(target);
    if (!this.held.has(owner)) return;
    this.held.delete(owner);
    this.holder.gn?.releaseIngress(target);
    this.holder.released = true;
    this.holder.changed = true;
  }

  private ref(podKey: string, changed: Set<string>): void {
    const n = (this.podRefs.get(podKey) ?? 0) + 1;
    this.podRefs.set(podKey, n);
    if (n === 1) changed.add(podKey);
  }

  private unref(podKey: string, changed: Set<string>): void {
    const n = (this.podRefs.get(podKey) ?? 0) - 1;
    if (n <= 0) {
      this.podRefs.delete(podKey);
      changed.add(podKey);
    } else this.podRefs.set(podKey, n);
  }
}
