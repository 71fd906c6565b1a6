import { describe, expect, it } from 'vitest';
import type { ClusterGlobalEgressIP, GlobalEgressIP } from '../resources';
import { clusterEgressIP, egressIP, FakeApi, NOW } from './fixtures';
import { createReconciler } from './reconciler';
import type { KubeObject } from './types';

function setup() {
  const api = new FakeApi();
  const core = createReconciler({ clusterID: 'east', globalCidr: '242.0.0.0/24' });
  api.settle(core, core.recover(api.list(), NOW));
  const put = (o: KubeObject) => api.send(core, api.put(o));
  const del = (o: KubeObject) => api.send(core, api.remove(o));
  const status = (ns: string, name: string) =>
    (api.get('GlobalEgressIP', ns, name)?.object as GlobalEgressIP | undefined)?.status;
  return { api, core, put, del, status };
}

describe('GlobalEgressIP and ClusterGlobalEgressIP', () => {
  it('a namespace scope gets 1 IP by default; numberOfIPs gets a contiguous block; status says Allocated=True', () => {
    const { put, status } = setup();
    put({ kind: 'GlobalEgressIP', object: egressIP('shop', 'default') });
    expect(status('shop', 'default')?.allocatedIPs).toEqual(['242.0.0.1']);
    put({ kind: 'GlobalEgressIP', object: egressIP('db', 'four', { numberOfIPs: 4 }) });
    expect(status('db', 'four')?.allocatedIPs).toEqual(['242.0.0.2', '242.0.0.3', '242.0.0.4', '242.0.0.5']);
    expect(status('db', 'four')?.conditions).toEqual([
      {
        type: 'Allocated',
        status: 'True',
        reason: 'Allocated',
        message: '4 global IP(s) allocated',
        lastTransitionTime: NOW,
      },
    ]);
  });

  it.each([21, 0, -1, 2.5])(
    'numberOfIPs %s: Allocated=False InvalidNumberOfIPs, a Warning, nothing allocated',
    (n) => {
      const { api, core, status } = setup();
      const w = core.apply(
        api.put({ kind: 'GlobalEgressIP', object: egressIP('shop', 'bad', { numberOfIPs: n }) }),
        NOW,
      );
      expect(w.problems).toEqual([
        expect.objectContaining({
          reason: 'InvalidNumberOfIPs',
          ref: expect.objectContaining({ kind: 'GlobalEgressIP', name: 'bad', namespace: 'shop' }),
        }),
      ]);
      api.settle(core, w);
      expect(status('shop', 'bad')?.allocatedIPs).toEqual([]);
      expect(status('shop', 'bad')?.conditions?.[0]).toMatchObject({
        type: 'Allocated',
        status: 'False',
        reason: 'InvalidNumberOfIPs',
      });
      expect(core.stats().egressScopes).toBe(0);
      // The controller goes on: the next valid CR is served.
      api.send(core, api.put({ kind: 'GlobalEgressIP', object: egressIP('shop2', 'ok') }));
      expect(status('shop2', 'ok')?.allocatedIPs).toEqual(['242.0.0.1']);
    },
  );

  it('an invalid count on a CR that held a block releases it', () => {
    const { put, status, core } = setup();
    put({ kind: 'GlobalEgressIP', object: egressIP('shop', 'e', { numberOfIPs: 2 }) });
    put({ kind: 'GlobalEgressIP', object: egressIP('shop', 'e', { numberOfIPs: 99 }) });
    expect(status('shop', 'e')?.allocatedIPs).toEqual([]);
    expect(core.stats().egressScopes).toBe(0);
  });

  it('a second namespace-wide GlobalEgressIP waits (ScopeInUse) and takes over when the first is deleted', () => {
    const { put, del, status } = setup();
    put({ kind: 'GlobalEgressIP', object: egressIP('shop', 'first') });
    put({ kind: 'GlobalEgressIP', object: egressIP('shop', 'second', { numberOfIPs: 2 }) });
    expect(status('shop', 'second')?.conditions?.[0]).toMatchObject({
      status: 'False',
      reason: 'ScopeInUse',
    });
    del({ kind: 'GlobalEgressIP', object: egressIP('shop', 'first') });
    expect(status('shop', 'second')?.allocatedIPs).toEqual(['242.0.0.1', '242.0.0.2']);
    expect(status('shop', 'second')?.conditions?.[0]).toMatchObject({ status: 'True' });
  });

  it('pod-selector scopes are per CR; a bad selector is InvalidSelector', () => {
    const { put, status } = setup();
    put({
      kind: 'GlobalEgressIP',
      object: egressIP('shop', 'a', { podSelector: { matchLabels: { app: 'a' } } }),
    });
    put({
      kind: 'GlobalEgressIP',
      object: egressIP('shop', 'b', { podSelector: { matchLabels: { app: 'b' } } }),
    });
    expect(status('shop', 'a')?.allocatedIPs).toEqual(['242.0.0.1']);
    expect(status('shop', 'b')?.allocatedIPs).toEqual(['242.0.0.2']);
    put({
      kind: 'GlobalEgressIP',
      object: egressIP('shop', 'c', {
        podSelector: { matchExpressions: [{ key: 'x', operator: 'Bogus' as never }] },
      }),
    });
    expect(status('shop', 'c')?.conditions?.[0]).toMatchObject({
      status: 'False',
      reason: 'InvalidSelector',
    });
  });

  it('ClusterGlobalEgressIP: 8 IPs by default (Submariner), one per cluster, released on delete', () => {
    const { api, put, del, core } = setup();
    put({ kind: 'ClusterGlobalEgressIP', object: clusterEgressIP('cluster-egress') });
    const st = (name: string) =>
      (api.get('ClusterGlobalEgressIP', '', name)?.object as ClusterGlobalEgressIP | undefined)?.status;
    expect(st('cluster-egress')?.allocatedIPs).toHaveLength(8);
    put({ kind: 'ClusterGlobalEgressIP', object: clusterEgressIP('another', { numberOfIPs: 2 }) });
    expect(st('another')?.conditions?.[0]).toMatchObject({ status: 'False', reason: 'ScopeInUse' });
    del({ kind: 'ClusterGlobalEgressIP', object: clusterEgressIP('cluster-egress') });
    expect(st('another')?.allocatedIPs).toEqual(['242.0.0.1', '242.0.0.2']);
    del({ kind: 'ClusterGlobalEgressIP', object: clusterEgressIP('another') });
    expect(core.stats()).toMatchObject({ egressScopes: 0, pendingEgress: 0 });
  });

  it('changing numberOfIPs re-allocates a block of the new size', () => {
    const { put, status } = setup();
    put({ kind: 'GlobalEgressIP', object: egressIP('shop', 'e', { numberOfIPs: 1 }) });
    put({ kind: 'GlobalEgressIP', object: egressIP('shop', 'e', { numberOfIPs: 3 }) });
    expect(status('shop', 'e')?.allocatedIPs).toHaveLength(3);
  });
});
