export { Addr, compareAddr, type Family, parseAddr, tryParseAddr } from './addr';
export { IpamError, type IpamErrorCode } from './errors';
export { type ParsePrefixOptions, Prefix, parsePrefix, prefixOfAddr, tryParsePrefix } from './prefix';
export type { LabelSelector, LabelSelectorRequirement, PoolRoute, PoolSpec } from './spec';
