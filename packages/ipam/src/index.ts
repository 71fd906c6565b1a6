export { Addr, compareAddr, type Family, parseAddr, tryParseAddr } from './addr';
export { IpamError, type IpamErrorCode } from './errors';
export { IPSet, IPSetBuilder, type IPSetInput, type IPRange, parseRange } from './ipset';
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
export type { LabelSelector, LabelSelectorRequirement, PoolRoute, PoolSpec } from './spec';
