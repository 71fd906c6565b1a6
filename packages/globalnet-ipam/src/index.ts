export {
  type AllocateClusterCidrOptions,
  allocateClusterCidr,
  type ClusterAllotments,
  type ClusterCidrResult,
  DEFAULT_CLUSTER_BITS_V6,
  DEFAULT_CLUSTER_SIZE,
  DEFAULT_GLOBAL_RANGE,
  type ReleaseClusterCidrOptions,
  type ReleaseClusterCidrResult,
  releaseClusterCidr,
} from './allot';
export { GlobalnetError, type GlobalnetErrorCode } from './errors';
export {
  createGlobalnet,
  DEFAULT_CLUSTER_EGRESS_SIZE,
  DEFAULT_SCOPE_EGRESS_SIZE,
  type EgressAllocation,
  type Globalnet,
  type GlobalnetConflict,
  type GlobalnetConflictReason,
  type GlobalnetSnapshot,
  type GlobalnetSpec,
  type GlobalnetStats,
  type HealthCheckAllocation,
  type IngressAllocation,
  MAX_EGRESS_SIZE,
  restoreGlobalnet,
  updateGlobalnet,
} from './globalnet';
export { diffNat, type NatChange, type NatSection } from './nat-diff';
export {
  type EgressAddrSnat,
  type EgressCidrSnat,
  type EgressSetSnat,
  GLOBALNET_MARK,
  type GlobalnetNatInput,
  type GlobalnetNatPlan,
  type HealthCheckBinding,
  type HealthCheckDnat,
  type IngressBinding,
  type IngressDnat,
  type IngressKind,
  type PodInfo,
  planGlobalnetNat,
} from './nat-plan';
export {
  type CidrKind,
  type CidrOverlap,
  type ClusterCidrs,
  type ClusterOverlap,
  findOverlaps,
} from './overlaps';
export {
  type EgressScope,
  egressOwner,
  healthCheckOwner,
  type IngressTarget,
  ingressOwner,
  type OwnerOf,
  parseOwner,
} from './owners';
export {
  type PeerPrefixes,
  type PeerView,
  planRemap,
  type RemapMapping,
  type RemapOptions,
  type RemapPlan,
  remapAddress,
} from './remap';
export {
  type PrefixMap,
  planRemapNat,
  type RemapNatInput,
  type RemapNatPeer,
  type RemapNatPlan,
} from './remap-nat';
export { IPTABLES_CHAINS, type RenderedIptables, renderIptables } from './render-iptables';
export { DEFAULT_NFT_TABLE, DEFAULT_REMAP_NFT_TABLE, type RenderNftOptions, renderNft } from './render-nft';
