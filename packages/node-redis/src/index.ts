export { fromNodeRedis } from './from-node-redis.js';
export { instrumentNodeRedis } from './instrument.js';
export type { FromNodeRedisOptions, InstrumentNodeRedisOptions, NodeRedisInstrumentation } from './types.js';
export { VERSION } from './version.js';
