export type { CommonCableOptions, RoutePlan } from './cable-context';
export { DEFAULT_CABLE_PORT, type EndpointChoice, type GatewayEndpoint } from './endpoint';
export { CableError, type CableErrorCode } from './errors';
export {
  type FailoverPlan,
  type FailoverStep,
  type GatewayMove,
  planFailover,
  type RenderedFailover,
  renderFailover,
} from './failover';
export {
  type Election,
  type ElectionAction,
  type ElectionOptions,
  electGateway,
  formatMicroTime,
  GATEWAY_LABEL,
  type GatewayCandidate,
  type Lease,
  type LeaseObservation,
  type LeaseSpec,
  leaseExpiry,
  releaseLease,
} from './gateway';
export { generateWireGuardKeyPair, type WireGuardKeyPair, wireGuardPublicKey } from './keygen';
export { wireGuardKeyProblem } from './keys';
export {
  type IpsecConnection,
  LIBRESWAN_DEFAULTS,
  type LibreswanOptions,
  type LibreswanPeer,
  type LibreswanPlan,
  renderIpsecConf,
  renderIpsecSecrets,
} from './libreswan';
export {
  type ClampGroup,
  type MssClampRule,
  type MssRenderOptions,
  mssClampRules,
  renderMssClampIptables,
  renderMssClampNft,
} from './mss';
export { type Driver, espTunnelMaxInner, type TunnelMtuOptions, tcpMss, tunnelMtu } from './mtu';
export { type CableOptions, type CablePlan, type PlanFor, planCable } from './plan';
export { REDACTED, Secret } from './secret';
export {
  type FdbEntry,
  renderVxlanBridgeBatch,
  renderVxlanIpBatch,
  VXLAN_DEFAULTS,
  type VxlanOptions,
  type VxlanPeer,
  type VxlanPlan,
} from './vxlan';
export {
  type ParsedWireGuardConf,
  type ParsedWireGuardPeer,
  parseWireGuardConf,
  renderWgQuickConf,
  renderWireGuardIpBatch,
  renderWireGuardSetconf,
  WIREGUARD_DEFAULTS,
  type WireGuardOptions,
  type WireGuardPeer,
  type WireGuardPlan,
} from './wireguard';
export { writeSecretFile } from './write-secret';
