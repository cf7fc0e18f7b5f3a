// Public surface of the multi-node namespace harness (see README.md in this folder).
export {
  Cluster,
  type ClusterOptions,
  createCluster,
  type ExecOptions,
  type ExitInfo,
  HarnessNode,
  leftovers,
  type Network,
  type NetworkSpec,
  type SpawnedProcess,
  type SpawnOptions,
} from './cluster.js';
export {
  type Daemon,
  type DaemonFactory,
  type DaemonKind,
  type DaemonStartOptions,
  daemonFactories,
  HEARTBEAT_BIN,
  type HeartbeatOptions,
  startDaemon,
  startHeartbeat,
  startNodeDaemon,
  startTsbeat,
  TSBEAT_JS,
  type TsbeatOptions,
} from './daemon.js';
export {
  clearNetem,
  clStatus,
  daemonOf,
  type FaultTarget,
  type KillOptions,
  kill,
  linkDown,
  linkStatus,
  linkUp,
  type NetemMethod,
  netem,
  nodeStatus,
  pause,
  resume,
} from './faults.js';
export {
  findTool,
  HarnessUnavailableError,
  requireHarness,
  requireRoot,
  requireTools,
  type ToolName,
} from './guard.js';
export { type AuthMethod, authkeys, type HaCfOptions, haCf, testResourceScript } from './hacf.js';
export type { RunResult, TrackedPid } from './proc.js';
export { createSerialPair, type SerialOptions, type SerialPair } from './serial.js';
export {
  type LogTarget,
  logMark,
  readLog,
  type WaitForLogOptions,
  type WaitOptions,
  waitFor,
  waitForLog,
} from './wait.js';
