import type {
  BatchResult,
  RedisDescription,
  RedisHook,
  RedisReply,
  RedisTelemetryOptions,
  TelemetryHandle,
} from '../types.js';
import {
  createOperationRecorder,
  type OperationOutcome,
  type OperationRecorder,
  type OperationToken,
} from './operation-recorder.js';
import { runWithoutChannelTracing } from './suppress.js';

export { INSTRUMENTATION_SCOPE } from './providers.js';

/** The telemetry of one RedisLike: the handle building blocks reuse, and the hook that records commands. */
export interface RedisTelemetry {
  readonly handle: TelemetryHandle;
  readonly hook: RedisHook;
  readonly recorder: OperationRecorder;
}

/**
 * The telemetry hook of a `RedisLike` (installed first by `createRedisLike`): a CLIENT span and a
 * `db.client.operation.duration` point per command, one of each per batch, and a `connect` span plus
 * `db.client.connection.create_time` per dial, all through one {@link OperationRecorder}, the same the
 * `diagnostics_channel` instrumentation uses. While a command it records is being sent, channel
 * instrumentation is told to skip it ({@link runWithoutChannelTracing}), so each command gets one span.
 * With no SDK registered the hook only checks that (a few property reads) and calls `next`.
 * @throws {TypeError | RangeError} when an option is invalid (naming the option and the value)
 */
/** End an operation from a promise reaction that must not reject (a broken exporter is not the caller's error). */
function endQuietly(recorder: OperationRecorder, token: OperationToken, outcome: OperationOutcome): void {
  try {
    recorder.end(token, outcome);
  } catch {
    // The SDK threw while ending the span or recording the point; the command's outcome stands.
  }
}

export function createRedisTelemetry(
  options: RedisTelemetryOptions,
  description: RedisDescription,
): RedisTelemetry {
  const recorder = createOperationRecorder(options, description);
  const hook: RedisHook = {
    process: (next) => (command, info) => {
      // Before any allocation: with no SDK registered this is the whole cost of the hook.
      if (!recorder.isRecording()) return next(command, info);
      const token = recorder.startCommand({
        operation: info.operation,
        args: command.args,
        keys: command.keys,
        script: info.script,
      });
      if (token === undefined) return next(command, info);
      let pending: Promise<RedisReply>;
      try {
        pending = runWithoutChannelTracing(() => next(command, info));
      } catch (error) {
        recorder.end(token, { error, peer: info.peer });
        throw error;
      }
      // The caller gets the command's own promise. Its first reaction, registered here before the
      // caller can await it, ends the span: recorded before the caller resumes, with no wrapper
      // promise in between. (The reaction's own promise never rejects: nothing to handle.)
      pending.then(
        (reply) => endQuietly(recorder, token, { reply, peer: info.peer }),
        (error: unknown) => endQuietly(recorder, token, { error, peer: info.peer }),
      );
      return pending;
    },
    processBatch: (next) => (commands, info) => {
      if (!recorder.isRecording()) return next(commands, info);
      const token = recorder.startBatch({ atomic: info.atomic, commands });
      if (token === undefined) return next(commands, info);
      let pending: Promise<BatchResult[]>;
      try {
        pending = runWithoutChannelTracing(() => next(commands, info));
      } catch (error) {
        recorder.end(token, { error, peer: info.peer });
        throw error;
      }
      return pending.then(
        (results) => {
          recorder.end(token, { results, peer: info.peer });
          return results;
        },
        (error: unknown) => {
          recorder.end(token, { error, peer: info.peer });
          throw error;
        },
      );
    },
    dial: (next) => (info) => {
      const token = recorder.startConnect(info);
      if (token === undefined) return next(info);
      let pending: Promise<void>;
      try {
        pending = next(info);
      } catch (error) {
        recorder.end(token, { error });
        throw error;
      }
      return pending.then(
        () => recorder.end(token),
        (error: unknown) => {
          recorder.end(token, { error });
          throw error;
        },
      );
    },
  };
  return { handle: recorder.handle, hook, recorder };
}
