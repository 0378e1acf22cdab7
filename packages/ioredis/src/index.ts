export { fromIoredis } from './from-ioredis.js';
export { instrumentIoredis } from './instrument.js';
export type {
  FromIoredisOptions,
  InstrumentIoredisOptions,
  IoredisClient,
  IoredisInstrumentation,
} from './types.js';
export { VERSION } from './version.js';
