// The composition of the rules: one stateful, pure reconciler fed by informer events.
import {
  createGlobalnet,
  GlobalnetError,
  type GlobalnetSnapshot,
  restoreGlobalnet,
} from '@isthmus/globalnet-ipam';
import { type Claim, type LostClaim, resolveClaims, restoreWith, snapshotAddresses } from './claims';
import { Egress, egressKey } from './egress';
import { ReconcileError } from './errors';
import { GlobalIps } from './global-ips';
import { GlobalnetHolder } from './globalnet-holder';
import { Members } from './members';
import { NodePlanner } from './node-plans';
import { Outbox } from './outbox';
import { Pools } from './pools';
import { keyOf, objectRef } from './refs';
import { Store } from './store';
import type {
  ClusterObjects,
  NodePlanWrites,
  ObjectEvent,
  Reconciler,
  ReconcilerConfig,
  ReconcilerStats,
  Writes,
} from './types';

/** A reconciler for one cluster; call `recover` once with the informers' first lists, then `apply`. */
export function createReconciler(config: ReconcilerConfig): Reconciler {
  if (typeof config?.clusterID !== 'string' || config.clusterID === '' || config.clusterID.includes('/')) {
    throw new ReconcileError(
      'INVALID_CONFIG',
      `clusterID must be a non-empty string without '/', got ${JSON.stringify(config?.clusterID)}`,
      {
        field: 'clusterID',
      },
    );
  }
  return new CoreReconciler(config);
}

class CoreReconciler implements Reconciler {
  private readonly store = new Store();
  private readonly holder = new GlobalnetHolder();
  private readonly out = new Outbox();
  private readonly members: Members;
  private readonly globalIps: GlobalIps;
  private readonly egress: Egress;
  private readonly pools: Pools;
  private readonly planner: NodePlanner;
  recovered = false;

  constructor(private readonly config: ReconcilerConfig) {
    this.members = new Members(config);
    this.globalIps = new GlobalIps(this.store, this.holder);
    this.egress = new Egress(this.store, this.holder);
    this.pools = new Pools(this.store);
    this.planner = new NodePlanner(this.store, this.members, this.holder, config);
  }

  recover(objects: ClusterObjects, now: string): Writes {
    if (this.recovered)
      throw new ReconcileError('ALREADY_RECOVERED', 'recover() runs once, before the first apply()');
    this.recovered = true;
    const s = this.store;
    const out = this.out;
    for (const o of objects.namespaces ?? []) s.namespaces.set(keyOf(o), o);
    for (const o of objects.nodes ?? []) s.nodes.set(keyOf(o), o);
    for (const o of objects.pods ?? []) s.pods.upsert(o);
    for (const o of objects.services ?? []) s.services.set(keyOf(o), o);
    for (const o of objects.serviceExports ?? []) s.exports.add(keyOf(o));
    for (const o of objects.ipPools ?? []) s.pools.set(o.metadata.name, o);
    for (const o of objects.globalEgressIPs ?? []) s.egress.set(egressKey(o), o);
    for (const o of objects.clusterGlobalEgressIPs ?? []) s.egress.set(egressKey(o), o);
    for (const o of objects.clusterSetMembers ?? []) s.members.set(o.metadata.name, o);

    this.members.recover([...s.members.values()], now, out);
    const unused = new Set<string>();
    for (const key of s.services.keys()) this.globalIps.reselect(key, unused);
    this.restoreGlobalnet(out);
    for (const lost of this.pools.recover(out)) this.lose(lost);
    this.planner.adopt(objects.nodePlans ?? []);

    for (const key of s.services.keys()) this.globalIps.syncService(key, out);
    for (const key of s.pods.keys()) {
      this.globalIps.syncPod(key, out);
      this.pools.syncPod(key, out);
    }
    for (const key of [...s.egress.keys()].sort()) this.egress.sync(key, now, out);
    return this.finish(now);
  }

  apply(event: ObjectEvent, now: string): Writes {
    if (!this.recovered)
      throw new ReconcileError(
        'NOT_RECOVERED',
        'apply() before recover(): nothing is handed out before the state is rebuilt',
      );
    const s = this.store;
    const out = this.out;
    const del = event.op === 'delete';
    switch (event.kind) {
      case 'Pod': {
        const key = keyOf(event.object);
        const old = del ? s.pods.delete(key) : s.pods.upsert(event.object);
        if (
          del ||
          old === undefined ||
          labelsText(old.metadata?.labels) !== labelsText(event.object.metadata?.labels)
        ) {
          this.globalIps.podMoved(key);
        }
        this.globalIps.syncPod(key, out);
        this.pools.syncPod(key, out);
        this.holder.changed = true;
        break;
      }
      case 'Service':
      case 'ServiceExport': {
        const key = keyOf(event.object);
        if (event.kind === 'Service') {
          if (del) s.services.delete(key);
          else s.services.set(key, event.object);
        } else if (del) s.exports.delete(key);
        else s.exports.add(key);
        const changed = new Set<string>();
        this.globalIps.reselect(key, changed);
        for (const p of changed) this.globalIps.syncPod(p, out);
        this.globalIps.syncService(key, out);
        if (event.kind === 'Service') this.holder.changed = true;
        break;
      }
      case 'Namespace':
        if (del) s.namespaces.delete(keyOf(event.object));
        else s.namespaces.set(keyOf(event.object), event.object);
        break;
      case 'Node':
        if (del) s.nodes.delete(keyOf(event.object));
        else s.nodes.set(keyOf(event.object), event.object);
        this.planner.topologyDirty = true;
        break;
      case 'IPPool': {
        const name = event.object.metadata.name;
        if (del) s.pools.delete(name);
        else s.pools.set(name, event.object);
        this.pools.syncPool(name, out);
        break;
      }
      case 'GlobalEgressIP':
      case 'ClusterGlobalEgressIP': {
        const key = egressKey(event.object);
        if (del) s.egress.delete(key);
        else s.egress.set(key, event.object);
        this.egress.sync(key, now, out);
        break;
      }
      case 'ClusterSetMember': {
        const name = event.object.metadata.name;
        if (del) {
          s.members.delete(name);
          this.members.remove(name);
          // A member that lost to this one (same cluster id) may take its place now.
          for (const m of s.members.values()) this.members.sync(m, now, out);
        } else {
          s.members.set(name, event.object);
          this.members.sync(event.object, now, out);
        }
        this.followGlobalCidr(now, out);
        this.planner.topologyDirty = true;
        break;
      }
      default:
        throw new ReconcileError(
          'INVALID_EVENT',
          `unknown object kind ${JSON.stringify((event as { kind?: unknown }).kind)}`,
        );
    }
    return this.finish(now);
  }

  flushNodePlans(): NodePlanWrites {
    if (!this.recovered) throw new ReconcileError('NOT_RECOVERED', 'flushNodePlans() before recover()');
    return this.planner.flush();
  }

  globalIpOf(kind: 'service' | 'pod', namespace: string, name: string): string | undefined {
    return this.globalIps.ipOf(kind, namespace, name);
  }

  stats(): ReconcilerStats {
    return {
      globalIps: this.globalIps.count,
      egressScopes: this.egress.count,
      poolAllocations: this.pools.count,
      pendingEgress: this.egress.pendingCount,
      allocatorOwners: (this.holder.gn?.stats().owners ?? 0) + this.pools.allocatorOwners(),
    };
  }

  /** Retries what waits on freed addresses, then collects the step's writes. */
  private finish(now: string): Writes {
    for (let i = 0; i < 4 && this.holder.released; i++) {
      this.holder.released = false;
      this.globalIps.retryPending(this.out);
      this.egress.retryPending(now, this.out);
    }
    this.pools.retryDirty(this.out);
    this.pools.flushStatuses(now, this.out);
    return this.out.drain();
  }

  private wantedCidr(): string | undefined {
    return this.config.globalCidr ?? this.members.cidrOf(this.config.clusterID);
  }

  /** Rebuilds the Globalnet allocator from annotations and egress status (recovery). */
  private restoreGlobalnet(out: Outbox): void {
    const cidr = this.wantedCidr();
    if (cidr === undefined) return;
    try {
      createGlobalnet({ globalCidr: cidr });
    } catch (e) {
      this.cidrProblem(cidr, e, out);
      return;
    }
    const claims: Claim[] = [...this.globalIps.claims(out), ...this.egress.claims(out)];
    const { winners, losers } = resolveClaims(claims, 'GlobalIPConflict');
    const { allocator, rejected } = restoreWith(
      winners,
      (kept) => {
        const snapshot: GlobalnetSnapshot = {
          version: 1,
          globalCidr: cidr,
          allocations: kept.map((c) => [c.owner, snapshotAddresses(c.addresses)] as const),
          selectors: kept
            .filter((c) => c.selector !== undefined)
            .map((c) => [c.owner, c.selector as never] as const),
        };
        return restoreGlobalnet({ globalCidr: cidr }, snapshot);
      },
      (e) => (GlobalnetError.isInstance(e) && e.code === 'SNAPSHOT_CONFLICT' ? e.details : undefined),
    );
    this.holder.gn = allocator;
    this.holder.changed = true;
    const bad = new Set(rejected.map((r) => r.claim.owner));
    for (const c of winners) {
      if (bad.has(c.owner)) continue;
      if (c.owner.startsWith('egress/')) this.egress.adopt(c.key, c.owner, c.addresses);
      else this.globalIps.adopt(c.owner, c.addresses[0] ?? '');
    }
    for (const l of [...losers, ...rejected]) this.lose(l);
  }

  /** Follows a change of this cluster's global CIDR: grow in place, or move everything to the new one. */
  private followGlobalCidr(now: string, out: Outbox): void {
    const cidr = this.wantedCidr();
    const gn = this.holder.gn;
    // Without a CIDR (the member went away) the cluster keeps the one it has: nothing is torn down.
    if (cidr === undefined || gn?.globalCidr === cidr) return;
    try {
      this.holder.gn = createGlobalnet({ globalCidr: cidr });
    } catch (e) {
      this.cidrProblem(cidr, e, out);
      return;
    }
    this.holder.changed = true;
    if (gn !== undefined) {
      // A moved CIDR re-addresses every owner: the old addresses mean nothing in the new range.
      this.globalIps.reset();
      this.egress.reset();
      for (const key of this.store.services.keys()) this.globalIps.syncService(key, out);
      for (const key of this.store.pods.keys()) this.globalIps.syncPod(key, out);
      for (const key of [...this.store.egress.keys()].sort()) this.egress.sync(key, now, out);
      return;
    }
    this.globalIps.retryPending(out);
    this.egress.retryPending(now, out);
  }

  private cidrProblem(cidr: string, e: unknown, out: Outbox): void {
    const local = [...this.store.members.values()].find((m) => m.spec.clusterID === this.config.clusterID);
    const message = `global CIDR ${cidr} is unusable: ${e instanceof Error ? e.message : String(e)}`;
    if (local !== undefined) out.problem(objectRef('ClusterSetMember', local), 'InvalidGlobalCIDR', message);
  }

  private lose(l: LostClaim): void {
    this.out.problem(l.claim.ref, l.reason, l.message);
  }
}

function labelsText(labels: Readonly<Record<string, string>> | undefined): string {
  return JSON.stringify(Object.entries(labels ?? {}).sort());
}
