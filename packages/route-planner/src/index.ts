export { applyDiff, diffFromEmpty, diffPlan, diffSize, isEmptyDiff, type PlanDiff } from './diff';
export { RoutePlannerError, type RoutePlannerErrorCode } from './errors';
export { macFromKey, podMAC } from './mac';
export { planNodeHost } from './node-host';
export { type NodePlanResult, planNodeRoutes, type RouteConflict } from './node-plan';
export { type IpJsonInput, parseIpJson, parseIptablesSave, scopeToPlan } from './parse';
export {
  type AddressEntry,
  canonicalPlan,
  type Device,
  emptyPlan,
  type FdbEntry,
  type LinkDevice,
  type MangleRule,
  mergePlans,
  type Neighbour,
  type Plan,
  type PlanParts,
  type Route,
  type Rule,
  TABLE_DEFAULT,
  TABLE_LOCAL,
  TABLE_MAIN,
  type VethDevice,
  type VxlanDevice,
} from './plan';
export {
  type CniRoute,
  ETH0_TABLE,
  POD_VETH,
  type PodNic,
  type PodRouteInput,
  type PodRouteMode,
  type PodRoutePlan,
  type PolicyRoute,
  planPodRoutes,
  REPLY_MARK,
  type Sysctl,
} from './pod';
export {
  type BatchStep,
  type IptablesText,
  type RenderOptions,
  renderIpBatch,
  renderIptables,
  renderShell,
} from './render';
export {
  type ClusterMode,
  type ClusterSpec,
  createTopologyState,
  type NodeInfo,
  type NodeRouteOptions,
  type NodeSpec,
  type ResolvedNodeOptions,
  resolveNodeOptions,
  type Topology,
  type TopologySnapshot,
  TopologyState,
  type VxlanOptions,
} from './topology';
export { type NodeDelta, type TopologyChange, type TopologyUpdate, updateTopology } from './update';
