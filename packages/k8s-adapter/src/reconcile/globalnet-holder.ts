// The cluster's Globalnet allocator, shared by ingress (services, pods) and egress (CRs).
import type { Globalnet } from '@isthmus/globalnet-ipam';

export class GlobalnetHolder {
  /** Undefined until the cluster has a global CIDR (configured or allotted to its ClusterSetMember). */
  gn: Globalnet | undefined;
  /** Set when an address went back to the allocator: pending requests are retried. */
  released = false;
  /** Set when allocations changed: the gateway's NAT plan is recomputed at the next flush. */
  changed = false;
}
