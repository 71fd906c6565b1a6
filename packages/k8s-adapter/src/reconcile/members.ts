// Cluster set members: each gets a global CIDR from the shared range (allocateClusterCidr), kept in status.
import { allocateClusterCidr, type ClusterAllotments, releaseClusterCidr } from '@isthmus/globalnet-ipam';
import type { ClusterSetMember } from '../resources';
import { sameConditions, setCondition } from './conditions';
import type { Outbox } from './outbox';
import { createdOf, objectRef, seniority } from './refs';
import type { ReconcilerConfig } from './types';

/** The condition type on a ClusterSetMember. */
export const ALLOTTED = 'GlobalCIDRAllotted';

export class Members {
  private allotments: ClusterAllotments = {};
  /** Member name -> cluster id it was allotted under. */
  private readonly allottedTo = new Map<string, string>();
  /** Cluster id -> the member name that owns it (the first; others are duplicates). */
  private readonly idOwner = new Map<string, string>();
  private readonly members = new Map<string, ClusterSetMember>();

  constructor(private readonly config: ReconcilerConfig) {}

  /** The global CIDR allotted to a cluster id. */
  cidrOf(clusterID: string): string | undefined {
    return this.allotments[clusterID]?.[0];
  }

  /** Valid members (one per cluster id), by cluster id. */
  list(): ClusterSetMember[] {
    return [...this.idOwner.values()]
      .map((n) => this.members.get(n))
      .filter((m): m is ClusterSetMember => m !== undefined);
  }

  /** Recovery: allots every member in seniority order, recorded CIDRs first. */
  recover(members: readonly ClusterSetMember[], now: string, out: Outbox): void {
    const order = [...members].sort((a, b) =>
      seniority(
        { created: createdOf(a), uid: a.metadata.uid ?? '', key: a.metadata.name },
        { created: createdOf(b), uid: b.metadata.uid ?? '', key: b.metadata.name },
      ),
    );
    // Recorded allotments before new ones, so nothing recorded moves to make room for a newcomer.
    for (const m of order) if (m.status?.globalCIDR) this.sync(m, now, out);
    for (const m of order) if (!m.status?.globalCIDR) this.sync(m, now, out);
  }

  /** Allots (or keeps) the member's global CIDR; a deleted member releases it. Returns true when a CIDR changed. */
  sync(m: ClusterSetMember, now: string, out: Outbox): boolean {
    const name = m.metadata.name;
    const id = m.spec?.clusterID;
    const prevId = this.allottedTo.get(name);
    let changed = false;
    if (prevId !== undefined && prevId !== id) changed = this.remove(name) || changed;
    this.members.set(name, m);
    const ref = objectRef('ClusterSetMember', m);
    if (typeof id !== 'string' || id === '') {
      this.report(
        m,
        undefined,
        { status: 'False', reason: 'InvalidClusterID', message: 'spec.clusterID is empty' },
        now,
        out,
      );
      return changed;
    }
    const owner = this.idOwner.get(id);
    if (owner !== undefined && owner !== name) {
      this.report(
        m,
        undefined,
        {
          status: 'False',
          reason: 'DuplicateClusterID',
          message: `cluster id ${id} belongs to ClusterSetMember ${owner}`,
        },
        now,
        out,
      );
      return changed;
    }
    this.idOwner.set(id, name);
    const range = this.config.globalRange !== undefined ? { range: this.config.globalRange } : {};
    const size = this.config.clusterCidrSize !== undefined ? { size: this.config.clusterCidrSize } : {};
    const have = this.allotments[id]?.[0];
    const asked = m.spec.globalCIDR;
    const recorded = m.status?.globalCIDR;
    if (have !== undefined && (asked === undefined || asked === have)) {
      this.report(m, have, { status: 'True', reason: 'Allotted', message: `global CIDR ${have}` }, now, out);
      return changed;
    }
    if (have !== undefined) {
      this.allotments = releaseClusterCidr(this.allotments, id, range).allotments;
      changed = true;
    }
    const tries: Array<string | undefined> =
      asked !== undefined ? [asked] : recorded !== undefined ? [recorded, undefined] : [undefined];
    let lastError = '';
    for (const cidr of tries) {
      try {
        const r = allocateClusterCidr(this.allotments, id, {
          ...range,
          ...size,
          ...(cidr !== undefined ? { cidr } : {}),
        });
        this.allotments = r.allotments;
        this.allottedTo.set(name, id);
        if (cidr === undefined && recorded !== undefined) {
          out.problem(
            ref,
            'GlobalCIDRConflict',
            `recorded global CIDR ${recorded} could not be kept (${lastError}); allotted ${r.cidr}`,
          );
        }
        this.report(
          m,
          r.cidr,
          { status: 'True', reason: 'Allotted', message: `global CIDR ${r.cidr}` },
          now,
          out,
        );
        return changed || r.cidr !== have;
      } catch (e) {
        lastError = e instanceof Error ? e.message : String(e);
      }
    }
    this.report(
      m,
      undefined,
      { status: 'False', reason: 'GlobalCIDRConflict', message: lastError },
      now,
      out,
    );
    return true;
  }

  /** Releases a deleted member's CIDR. Returns true when something was released. */
  remove(name: string): boolean {
    const id = this.allottedTo.get(name);
    this.members.delete(name);
    for (const [cid, owner] of this.idOwner) if (owner === name) this.idOwner.delete(cid);
    if (id === undefined) return false;
    this.allottedTo.delete(name);
    const range = this.config.globalRange !== undefined ? { range: this.config.globalRange } : {};
    this.allotments = releaseClusterCidr(this.allotments, id, range).allotments;
    return true;
  }

  private report(
    m: ClusterSetMember,
    cidr: string | undefined,
    cond: { status: 'True' | 'False'; reason: string; message: string },
    now: string,
    out: Outbox,
  ): void {
    const gen = m.metadata.generation !== undefined ? { observedGeneration: m.metadata.generation } : {};
    const conditions = setCondition(m.status?.conditions, { type: ALLOTTED, ...cond, ...gen }, now);
    if (m.status?.globalCIDR === cidr && sameConditions(m.status?.conditions, conditions)) return;
    const ref = objectRef('ClusterSetMember', m);
    if (cond.status === 'False' && !sameConditions(m.status?.conditions, conditions))
      out.problem(ref, cond.reason, cond.message);
    out.status({ ref, status: { ...(cidr !== undefined ? { globalCIDR: cidr } : {}), conditions } });
  }
}
