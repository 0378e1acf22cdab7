/**
 * The OpenTelemetry semantic-convention names core-hooks records, and the few redisotel-specific ones.
 *
 * Stable names are the same strings `@opentelemetry/semantic-conventions` exports from its stable
 * entry; incubating ones (`db.client.connection.*`, the `redis` value of `db.system.name`) are
 * copied here rather than imported from `/incubating` at runtime, as that package's README advises.
 * Spec: https://github.com/open-telemetry/semantic-conventions/blob/main/docs/db/redis.md,
 * https://github.com/open-telemetry/semantic-conventions/blob/main/docs/db/database-spans.md and
 * https://github.com/open-telemetry/semantic-conventions/blob/main/docs/db/database-metrics.md
 * @module
 */

// ---- Stable attributes --------------------------------------------------------------------------

/** `db.system.name` (stable). Always {@link DB_SYSTEM_NAME_VALUE_REDIS} here. */
export const ATTR_DB_SYSTEM_NAME = 'db.system.name';
/** `db.operation.name` (stable): `GET`, `MULTI`, `PIPELINE GET`, `EVALSHA`. */
export const ATTR_DB_OPERATION_NAME = 'db.operation.name';
/** `db.namespace` (stable): the database index, as a string. */
export const ATTR_DB_NAMESPACE = 'db.namespace';
/** `db.query.text` (stable): the sanitized command in Redis-CLI syntax. */
export const ATTR_DB_QUERY_TEXT = 'db.query.text';
/** `db.operation.batch.size` (stable): number of commands of a pipeline or transaction (≥ 2, or 0). */
export const ATTR_DB_OPERATION_BATCH_SIZE = 'db.operation.batch.size';
/** `db.response.status_code` (stable): the Redis error prefix (`ERR`, `WRONGTYPE`…). */
export const ATTR_DB_RESPONSE_STATUS_CODE = 'db.response.status_code';
/** `db.stored_procedure.name` (stable): the name of a Lua script or function. */
export const ATTR_DB_STORED_PROCEDURE_NAME = 'db.stored_procedure.name';
/** `server.address` (stable): the configured endpoint. */
export const ATTR_SERVER_ADDRESS = 'server.address';
/** `server.port` (stable): the configured endpoint's port, an integer. */
export const ATTR_SERVER_PORT = 'server.port';
/** `network.peer.address` (stable): the node that actually served the command. */
export const ATTR_NETWORK_PEER_ADDRESS = 'network.peer.address';
/** `network.peer.port` (stable). */
export const ATTR_NETWORK_PEER_PORT = 'network.peer.port';
/** `error.type` (stable): the Redis error prefix, a connection error code, `timeout` or `_OTHER`. */
export const ATTR_ERROR_TYPE = 'error.type';
/** The `error.type` fallback value the conventions define. */
export const ERROR_TYPE_VALUE_OTHER = '_OTHER';

/** `db.client.operation.duration` (stable): histogram, seconds. */
export const METRIC_DB_CLIENT_OPERATION_DURATION = 'db.client.operation.duration';

/** The conventions' advisory bucket boundaries for `db.client.operation.duration`, in seconds. */
export const DB_CLIENT_OPERATION_DURATION_BUCKETS: readonly number[] = [
  0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10,
];

// ---- Incubating (Development) names, copied ------------------------------------------------------

/** `redis`, the well-known value of `db.system.name` (incubating in the JS package). */
export const DB_SYSTEM_NAME_VALUE_REDIS = 'redis';
/** `db.client.connection.pool.name` (development): `server.address:server.port/db.namespace` by default. */
export const ATTR_DB_CLIENT_CONNECTION_POOL_NAME = 'db.client.connection.pool.name';
/** `db.client.connection.state` (development): `idle` or `used`. */
export const ATTR_DB_CLIENT_CONNECTION_STATE = 'db.client.connection.state';
/** `db.client.connection.count` (development): UpDownCounter, `{connection}`. */
export const METRIC_DB_CLIENT_CONNECTION_COUNT = 'db.client.connection.count';
/** `db.client.connection.create_time` (development): histogram, seconds. */
export const METRIC_DB_CLIENT_CONNECTION_CREATE_TIME = 'db.client.connection.create_time';

// ---- redisotel-specific names --------------------------------------------------------------------

/**
 * `redis.batch.errors`: on a batch span, how many of its commands got an error reply. The batch
 * itself succeeded (its span status stays unset); only set when at least one command failed.
 */
export const ATTR_REDIS_BATCH_ERRORS = 'redis.batch.errors';
/** `redis.connection.purpose`: `command` or `subscriber`, on connect spans. */
export const ATTR_REDIS_CONNECTION_PURPOSE = 'redis.connection.purpose';
/** `redis.client.connection.errors`: counter of failed connection attempts, `{error}`. */
export const METRIC_REDIS_CLIENT_CONNECTION_ERRORS = 'redis.client.connection.errors';
/** The name of the span a dial hook records around a new connection. */
export const SPAN_NAME_CONNECT = 'connect';
