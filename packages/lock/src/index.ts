export {
  LockLostError,
  type LockLostReason,
  LockNotAcquiredError,
  LockUnavailableError,
} from './errors.js';
export { createLock } from './lock.js';
export { createReadWriteLock } from './read-write-lock.js';
export { createSemaphore } from './semaphore.js';
export {
  type AcquireOutcome,
  ATTR_LOCK_ACQUIRED,
  ATTR_LOCK_ATTEMPTS,
  ATTR_LOCK_AUTO,
  ATTR_LOCK_EXTENDED,
  ATTR_LOCK_FENCING_TOKEN,
  ATTR_LOCK_KIND,
  ATTR_LOCK_LOST_REASON,
  ATTR_LOCK_NAME,
  ATTR_LOCK_OUTCOME,
  ATTR_LOCK_RELEASED,
  ATTR_LOCK_RESOURCE,
  ATTR_LOCK_TTL_MS,
  ATTR_LOCK_WAIT_MS,
  EVENT_LOCK_LOST,
  INSTRUMENTATION_SCOPE,
  type LockKind,
  METRIC_ACQUIRE_OUTCOMES,
  METRIC_ACQUIRE_WAIT,
  METRIC_HOLD_DURATION,
  METRIC_LOST,
} from './telemetry.js';
export type {
  AcquireOptions,
  Lease,
  LeaseOptions,
  Lock,
  LockedFunction,
  LockOptions,
  ReadWriteLock,
  Semaphore,
  SemaphoreOptions,
} from './types.js';
export { VERSION } from './version.js';
