export { Addr, compareAddr, type Family, parseAddr, tryParseAddr } from './addr';
export { IpamError, type IpamErrorCode } from './errors';
export { type IPRange, IPSet, IPSetBuilder, type IPSetInput, parseRange } from './ipset';
export {
  type CreatePoolOptions,
  checkPoolOverlap,
  createPool,
  MAX_BLOCK,
  type Pool,
  type PoolOverlap,
  type PoolSnapshot,
  type PoolStats,
  restorePool,
  type SnapshotConflict,
  type SnapshotConflictReason,
  updatePool,
} from './pool';
export { type ParsePrefixOptions, Prefix, parsePrefix, prefixOfAddr, tryParsePrefix } from './prefix';
export {
  type DroppedPool,
  type DropReason,
  type LivePool,
  type PoolCandidateSource,
  type PoolSelection,
  type PoolSelectionSource,
  poolSpecificity,
  type SelectPoolsRequest,
  selectPools,
  selectPoolsOrThrow,
} from './select';
export { type Labels, matchesSelector, validateSelector } from './selector';
export type { LabelSelector, LabelSelectorRequirement, PoolRoute, PoolSpec } from './spec';
