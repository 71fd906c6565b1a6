import type { KubeConfig } from '@kubernetes/client-node';
import { KubeError } from './kube/errors';
import { request } from './kube/http';
import { type Logger, silentLogger } from './log';

/** A coordination.k8s.io/v1 Lease, as much of it as the elector reads and writes. */
export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** Where the Lease lives; the default talks to the API server, unit tests pass an in-memory one. */
export interface LeaseStore {
  get(): Promise<Lease | undefined>;
  /** Rejects with a KubeError ALREADY_EXISTS when someone created it first. */
  create(lease: Lease): Promise<Lease>;
  /** Conditional on lease.metadata.resourceVersion; rejects with a KubeError CONFLICT when it moved. */
  update(lease: Lease): Promise<Lease>;
}

export interface LeaderElectorOptions {
  /** The Lease's namespace and name; the controller uses isthmus-system/isthmus-controller. */
  readonly namespace: string;
  readonly name: string;
  /** This replica's identity (pod name); must differ between replicas. */
  readonly identity: string;
  /** Either an API server or a LeaseStore. */
  readonly kubeConfig?: KubeConfig;
  readonly store?: LeaseStore;
  /** Default 15 s: a holder that has not renewed for this long can be replaced. */
  readonly leaseDurationSeconds?: number;
  /** Default 10 s: a leader that could not renew for this long steps down. Below the lease duration. */
  readonly renewDeadlineMs?: number;
  /** Default 2 s: how often to try to acquire or renew (with up to 20% jitter). */
  readonly retryPeriodMs?: number;
  readonly onStartedLeading?: () => void;
  readonly onStoppedLeading?: () => void;
  /** Called when the observed holder changes (including to this replica). */
  readonly onNewLeader?: (identity: string) => void;
  readonly now?: () => Date;
  readonly random?: () => number;
  readonly logger?: Logger;
}

export interface LeaderElector {
  /** Starts the acquire/renew loop; resolves once the first attempt is done (leading or not). */
  start(): Promise<void>;
  /** Stops the loop and, when leading, releases the Lease (empty holder, 1 s duration) so another replica takes over at once. */
  stop(): Promise<void>;
  /** One acquire-or-renew attempt (the loop calls it every retry period); true when this replica leads after it. */
  tick(): Promise<boolean>;
  readonly isLeader: boolean;
  /** The holder last observed, if any. */
  readonly leader: string | undefined;
}

/** A MicroTime as the API server writes it: RFC 3339 with microseconds. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** True when the lease has a holder whose renewTime + leaseDurationSeconds is still ahead of `now`. */
export function leaseHeld(lease: Lease, now: Date): boolean {
  const s = lease.spec ?? {};
  if (!s.holderIdentity) return false;
  const renew = s.renewTime ? Date.parse(s.renewTime) : Number.NaN;
  if (Number.isNaN(renew)) return false;
  return now.getTime() < renew + (s.leaseDurationSeconds ?? 0) * 1000;
}

/** The Lease at /apis/coordination.k8s.io/v1/namespaces/<ns>/leases/<name> (RBAC: get create update). */
export function apiLeaseStore(kc: KubeConfig, namespace: string, name: string): LeaseStore {
  const collection = `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`;
  return {
    async get() {
      try {
        return await request<Lease>(kc, `${collection}/${name}`);
      } catch (e) {
        if (KubeError.isInstance(e) && e.code === 'NOT_FOUND') return undefined;
        throw e;
      }
    },
    create: (lease) => request<Lease>(kc, collection, { method: 'POST', body: lease }),
    update: (lease) => request<Lease>(kc, `${collection}/${name}`, { method: 'PUT', body: lease }),
  };
}

/**
 * A small Lease elector: acquire when the Lease is free or expired (renewTime + leaseDurationSeconds),
 * renew every retry period, step down when renewing fails past the deadline, release on stop. Every
 * write carries the resourceVersion read, so two replicas cannot both win one round.
 */
export function createLeaderElector(opts: LeaderElectorOptions): LeaderElector {
  const log = (opts.logger ?? silentLogger).child({ component: 'leader', identity: opts.identity });
  const store =
    opts.store ??
    (opts.kubeConfig
      ? apiLeaseStore(opts.kubeConfig, opts.namespace, opts.name)
      : (() => {
          throw new KubeError('NO_CLUSTER', 'createLeaderElector needs a kubeConfig or a store');
        })());
  const durationS = opts.leaseDurationSeconds ?? 15;
  const renewDeadlineMs = opts.renewDeadlineMs ?? Math.min(10_000, durationS * 667);
  const retryMs = opts.retryPeriodMs ?? Math.min(2_000, durationS * 133);
  const now = opts.now ?? (() => new Date());
  const random = opts.random ?? Math.random;
  let leading = false;
  let lastRenew = 0;
  let observed: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let inflight: Promise<boolean> | undefined;
  /** When the other holder's Lease, as last read, runs out (ms since the epoch); 0 when none is known. */
  let otherExpiresAt = 0;

  const observe = (holder: string | undefined) => {
    if (holder && holder !== observed) {
      observed = holder;
      opts.onNewLeader?.(holder);
    } else if (!holder) observed = undefined;
  };
  const setLeading = (v: boolean) => {
    if (v === leading) return;
    leading = v;
    log.info(v ? 'started leading' : 'stopped leading');
    if (v) opts.onStartedLeading?.();
    else opts.onStoppedLeading?.();
  };

  async function attempt(): Promise<boolean> {
    const t = now();
    const current = await store.get();
    const spec = {
      holderIdentity: opts.identity,
      leaseDurationSeconds: durationS,
      renewTime: microTime(t),
    };
    if (!current) {
      await store.create({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: opts.name, namespace: opts.namespace },
        spec: { ...spec, acquireTime: microTime(t), leaseTransitions: 0 },
      });
      return true;
    }
    const holder = current.spec?.holderIdentity;
    observe(holder);
    if (holder !== opts.identity && leaseHeld(current, t)) {
      const s = current.spec ?? {};
      otherExpiresAt = Date.parse(s.renewTime ?? '') + (s.leaseDurationSeconds ?? 0) * 1000;
      return false;
    }
    otherExpiresAt = 0;
    const taking = holder !== opts.identity;
    await store.update({
      ...current,
      spec: {
        ...current.spec,
        ...spec,
        ...(taking
          ? {
              acquireTime: microTime(t),
              leaseTransitions: (current.spec?.leaseTransitions ?? 0) + (holder ? 1 : 0),
            }
          : {}),
      },
    });
    return true;
  }

  async function tickOnce(): Promise<boolean> {
    let won: boolean;
    try {
      won = await attempt();
    } catch (e) {
      // A conflict means another replica wrote first this round; anything else is an API failure.
      if (!KubeError.isInstance(e) || (e.code !== 'CONFLICT' && e.code !== 'ALREADY_EXISTS')) {
        log.warn('lease attempt failed', { error: e });
      }
      won = false;
      if (leading && now().getTime() - lastRenew < renewDeadlineMs) return true;
    }
    if (won) {
      lastRenew = now().getTime();
      observe(opts.identity);
    }
    setLeading(won);
    return won;
  }

  /**
   * The wait before the next attempt: the retry period with up to 20% jitter, but a standby that has
   * read when the holder's Lease runs out tries again right then (plus 10 ms), so a dead leader is
   * replaced within the lease duration of its last renew instead of up to a retry period later.
   */
  const nextDelay = (): number => {
    const jittered = Math.round(retryMs * (1 + 0.2 * random()));
    const untilExpiry = otherExpiresAt - now().getTime();
    // Once the expiry has passed (the attempt failed or lost a race), back to the plain retry period.
    if (leading || otherExpiresAt === 0 || untilExpiry <= 0) return jittered;
    return Math.min(jittered, untilExpiry + 10);
  };

  const loop = (): Promise<unknown> => {
    if (!running) return Promise.resolve();
    const p = tickOnce().finally(() => {
      inflight = undefined;
      if (running) timer = setTimeout(loop, nextDelay());
    });
    inflight = p;
    return p;
  };

  return {
    async start() {
      if (running) return;
      running = true;
      await loop().catch(() => undefined);
    },
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      if (inflight) await inflight.catch(() => undefined);
      if (!leading) return;
      try {
        const current = await store.get();
        if (current?.spec?.holderIdentity === opts.identity) {
          await store.update({
            ...current,
            spec: {
              ...current.spec,
              holderIdentity: '',
              leaseDurationSeconds: 1,
              renewTime: microTime(now()),
            },
          });
        }
      } catch (e) {
        log.warn('could not release the lease', { error: e });
      }
      setLeading(false);
    },
    tick: () => tickOnce(),
    get isLeader() {
      return leading;
    },
    get leader() {
      return observed;
    },
  };
}
