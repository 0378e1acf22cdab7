export type { RedisDriver } from './driver.js';
export {
  CrossSlotError,
  parseErrorPrefix,
  RedisConnectionError,
  RedisotelError,
  RedisReplyError,
  RedisTimeoutError,
  timeoutError,
} from './errors.js';
export { composeHooks, type HookChains } from './hooks.js';
export { type CreateRedisLikeOptions, createRedisLike } from './redis-like.js';
export { type DefineScriptOptions, defineScript, describeValue } from './script.js';
export { assertSameSlot, CLUSTER_SLOTS, commandKeys, hashTag, keySlot } from './slot.js';
export {
  type BatchCommandStart,
  type BatchStart,
  type CommandStart,
  type ConnectionCounts,
  type ConnectStart,
  createOperationRecorder,
  type Endpoint,
  type ObserveConnectionsOptions,
  type OperationOutcome,
  type OperationRecorder,
  type OperationTarget,
  type OperationToken,
} from './telemetry/operation-recorder.js';
export { INSTRUMENTATION_SCOPE, isGlobalTracingRegistered } from './telemetry/providers.js';
export {
  commandKeyPositions,
  type KeyMode,
  type SanitizeOptions,
  sanitizeCommand,
} from './telemetry/sanitize.js';
export {
  isChannelTracingSuppressed,
  registerChannelInstrumentation,
  runWithoutChannelTracing,
} from './telemetry/suppress.js';
export { scheduledTimerCount, TimerEntry } from './timers.js';
export type {
  BatchInfo,
  BatchOptions,
  BatchResult,
  CommandInfo,
  DbStatementSerializer,
  DialFn,
  DialInfo,
  ProcessBatchFn,
  ProcessFn,
  RedisArgument,
  RedisCapabilities,
  RedisCommand,
  RedisDescription,
  RedisHook,
  RedisLike,
  RedisMessage,
  RedisMessageListener,
  RedisNode,
  RedisReply,
  RedisScript,
  RedisSubscriber,
  RedisTelemetryOptions,
  RedisTopology,
  SendOptions,
  TelemetryHandle,
  Unsubscribe,
} from './types.js';
export { VERSION } from './version.js';
