import type { KubeConfig } from '@kubernetes/client-node';
import { type Logger, silentLogger } from '../log';
import { KubeError } from './errors';
import { request } from './http';

export interface ObjectRef {
  readonly kind: string;
  readonly apiVersion: string;
  readonly name: string;
  readonly namespace?: string;
  readonly uid?: string;
}

export interface EventRecorder {
  /** Records a core/v1 Event about `ref`; a repeat of the same event bumps its count. Never rejects. */
  record(ref: ObjectRef, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

export interface EventRecorderOptions {
  /** Distinct events remembered for deduplication; default 4,096 (oldest forgotten first). */
  readonly cacheSize?: number;
  readonly now?: () => Date;
}

interface Seen {
  readonly namespace: string;
  readonly name: string;
  count: number;
}

// Events about cluster-scoped objects live in "default", as kubectl describe expects.
const CLUSTER_EVENT_NAMESPACE = 'default';

/**
 * Events like client-go's recorder: one Event per (object, type, reason, message); a repeat patches
 * its count and lastTimestamp instead of creating another. Failures are logged, never thrown: an
 * Event is a report, not state.
 */
export function createEventRecorder(
  kc: KubeConfig,
  component: string,
  logger?: Logger,
  opts: EventRecorderOptions = {},
): EventRecorder {
  const log = (logger ?? silentLogger).child({ component: 'events' });
  const cacheSize = opts.cacheSize ?? 4096;
  const now = opts.now ?? (() => new Date());
  const seen = new Map<string, Seen>();
  let serial = 0;

  const remember = (key: string, s: Seen) => {
    seen.delete(key);
    seen.set(key, s);
    if (seen.size > cacheSize) {
      const oldest = seen.keys().next().value;
      if (oldest !== undefined) seen.delete(oldest);
    }
  };

  async function create(key: string, ref: ObjectRef, type: string, reason: string, message: string) {
    const namespace = ref.namespace ?? CLUSTER_EVENT_NAMESPACE;
    const ts = now()
      .toISOString()
      .replace(/\.\d+Z$/, 'Z');
    const name = `${ref.name.slice(0, 200)}.${now().getTime().toString(16)}${(serial++).toString(16)}`;
    await request(kc, `/api/v1/namespaces/${namespace}/events`, {
      method: 'POST',
      body: {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace },
        involvedObject: {
          kind: ref.kind,
          apiVersion: ref.apiVersion,
          name: ref.name,
          ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }),
          ...(ref.uid === undefined ? {} : { uid: ref.uid }),
        },
        type,
        reason,
        message: message.slice(0, 1024),
        source: { component },
        reportingComponent: component,
        firstTimestamp: ts,
        lastTimestamp: ts,
        count: 1,
      },
    });
    remember(key, { namespace, name, count: 1 });
  }

  return {
    async record(ref, type, reason, message) {
      const key = JSON.stringify([
        ref.kind,
        ref.namespace ?? '',
        ref.name,
        ref.uid ?? '',
        type,
        reason,
        message,
      ]);
      try {
        const s = seen.get(key);
        if (s) {
          const ts = now()
            .toISOString()
            .replace(/\.\d+Z$/, 'Z');
          try {
            await request(kc, `/api/v1/namespaces/${s.namespace}/events/${s.name}`, {
              method: 'PATCH',
              contentType: 'application/merge-patch+json',
              body: { count: s.count + 1, lastTimestamp: ts },
            });
            s.count++;
            remember(key, s);
            return;
          } catch (e) {
            if (!KubeError.isInstance(e) || e.code !== 'NOT_FOUND') throw e;
            seen.delete(key); // expired (events have a TTL): start a new one
          }
        }
        await create(key, ref, type, reason, message);
      } catch (e) {
        log.warn('could not record an event', { reason, object: `${ref.kind}/${ref.name}`, error: e });
      }
    },
  };
}
