export {
  type ConformanceOptions,
  type ConformanceRedis,
  type ConformanceReply,
  type ConformanceTarget,
  type ConformanceTestApi,
  describeRedisLikeConformance,
} from './conformance.js';
export {
  type ConformanceClient,
  describeRedisLikeConformanceOnOwnDeployments,
  type OwnDeploymentsConformanceOptions,
} from './conformance-deployments.js';
export { dockerAvailable, REDIS_IMAGE } from './container.js';
export { RedisDeploymentError, RedisUnavailableError } from './errors.js';
export { type EventuallyOptions, eventually } from './eventually.js';
export { type PeerRecorder, type ReportedPeer, recordPeers } from './peers.js';
export {
  type ConnectRespOptions,
  connectResp,
  type RespArgument,
  type RespCommandOptions,
  type RespConnection,
  type RespReply,
  RespReplyError,
} from './resp.js';
export { HOW_TO_GET_REDIS, startRedis } from './start-redis.js';
export {
  type CaptureTelemetryOptions,
  type CollectedHistogramPoint,
  type CollectedMetric,
  type CollectedMetrics,
  type CollectedNumberPoint,
  captureTelemetry,
  type ReadableSpan,
  type TelemetryCapture,
} from './telemetry-capture.js';
export type {
  ClusterDeployment,
  ClusterHandle,
  RedisDeployment,
  RedisDeploymentHandle,
  RedisDeploymentSource,
  RedisNodeAddress,
  RedisNodeDescription,
  RedisNodeRole,
  RedisNodeSelector,
  RedisServerNode,
  RedisTopologyName,
  SentinelDeployment,
  SentinelHandle,
  StandaloneDeployment,
  StandaloneHandle,
  StartClusterOptions,
  StartRedisCommonOptions,
  StartRedisOptions,
  StartSentinelOptions,
  StartStandaloneOptions,
  WaitHealthyOptions,
} from './types.js';
export { VERSION } from './version.js';
