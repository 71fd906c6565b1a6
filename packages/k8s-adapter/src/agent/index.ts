// The node agent's public surface (re-exported by the package's src/index.ts).
export { type Agent, type AgentOptions, NODEPLANS_PATH, type PassReport, startAgent } from './agent';
export { type ApplyOptions, type ApplyResult, applyNodePlan, describeCommand, observeKernel } from './apply';
export { AgentError, type AgentErrorCode } from './errors';
export { type AgentMetrics, createAgentMetrics } from './metrics';
export { NAT_TABLE, tableFingerprint, tablesNamed } from './nft';
export {
  type KernelDumps,
  type LinkState,
  type Observed,
  type ObserveScope,
  parseDumps,
  readDumps,
} from './observe';
export {
  type AgentCommand,
  type AgentMemory,
  type CableKey,
  type CommandKind,
  ipLinkAddWireGuard,
  type Pass,
  type PassInput,
  planPass,
  scopeObserved,
} from './pass';
export { type CommandResult, type CommandRunner, createExecRunner, type ExecRunnerOptions } from './runner';
export { type ReadSecretFile, readCableKey } from './secret';
export { APPLIED_CONDITION, nextStatus, type PassOutcome } from './status';
export {
  canonEndpoint,
  parseWgDump,
  renderSetconf,
  type WgPeerState,
  type WgState,
  wgDrift,
} from './wireguard';
