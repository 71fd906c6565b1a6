import { describe, expect, it } from 'vitest';
import type { ClusterSetMember } from '../resources';
import { FakeApi, member, NOW } from './fixtures';
import { createReconciler } from './reconciler';

const status = (api: FakeApi, name: string) =>
  (api.get('ClusterSetMember', '', name)?.object as ClusterSetMember | undefined)?.status;

describe('ClusterSetMember global CIDR allotment', () => {
  it('allots the lowest free /16 of 242.0.0.0/8 to each member without one, in seniority order', () => {
    const api = new FakeApi();
    api.put({ kind: 'ClusterSetMember', object: member('west', 'west', { created: 2 }) });
    api.put({ kind: 'ClusterSetMember', object: member('east', 'east', { created: 1 }) });
    const core = createReconciler({ clusterID: 'east' });
    api.settle(core, core.recover(api.list(), NOW));
    expect(status(api, 'east')?.globalCIDR).toBe('242.0.0.0/16');
    expect(status(api, 'west')?.globalCIDR).toBe('242.1.0.0/16');
    expect(status(api, 'east')?.conditions?.[0]).toMatchObject({
      type: 'GlobalCIDRAllotted',
      status: 'True',
    });
  });

  it('keeps recorded CIDRs; a recorded CIDR that collides goes to the older member and the other is re-allotted', () => {
    const api = new FakeApi();
    api.put({
      kind: 'ClusterSetMember',
      object: member('a', 'a', { statusCIDR: '242.5.0.0/16', created: 1 }),
    });
    api.put({
      kind: 'ClusterSetMember',
      object: member('b', 'b', { statusCIDR: '242.5.0.0/16', created: 2 }),
    });
    const core = createReconciler({ clusterID: 'a' });
    const w = core.recover(api.list(), NOW);
    expect(w.problems).toEqual([
      expect.objectContaining({ reason: 'GlobalCIDRConflict', ref: expect.objectContaining({ name: 'b' }) }),
    ]);
    api.settle(core, w);
    expect(status(api, 'a')?.globalCIDR).toBe('242.5.0.0/16');
    expect(status(api, 'b')?.globalCIDR).toBe('242.0.0.0/16');
  });

  it('honours spec.globalCIDR; one that overlaps another member is GlobalCIDRConflict with no CIDR', () => {
    const api = new FakeApi();
    const core = createReconciler({ clusterID: 'a' });
    api.settle(core, core.recover({}, NOW));
    api.send(
      core,
      api.put({ kind: 'ClusterSetMember', object: member('a', 'a', { globalCIDR: '242.9.0.0/16' }) }),
    );
    expect(status(api, 'a')?.globalCIDR).toBe('242.9.0.0/16');
    const w = core.apply(
      api.put({ kind: 'ClusterSetMember', object: member('b', 'b', { globalCIDR: '242.9.128.0/17' }) }),
      NOW,
    );
    expect(w.problems[0]?.reason).toBe('GlobalCIDRConflict');
    api.settle(core, w);
    expect(status(api, 'b')?.globalCIDR).toBeUndefined();
    expect(status(api, 'b')?.conditions?.[0]).toMatchObject({
      status: 'False',
      reason: 'GlobalCIDRConflict',
    });
  });

  it('a second member with the same cluster id is DuplicateClusterID, and takes over when the first is deleted', () => {
    const api = new FakeApi();
    const core = createReconciler({ clusterID: 'a' });
    api.settle(core, core.recover({}, NOW));
    api.send(core, api.put({ kind: 'ClusterSetMember', object: member('one', 'x') }));
    api.send(core, api.put({ kind: 'ClusterSetMember', object: member('two', 'x') }));
    expect(status(api, 'two')?.conditions?.[0]).toMatchObject({
      status: 'False',
      reason: 'DuplicateClusterID',
    });
    api.send(core, api.remove({ kind: 'ClusterSetMember', object: member('one', 'x') }));
    expect(status(api, 'two')?.globalCIDR).toBe('242.0.0.0/16');
  });
});
