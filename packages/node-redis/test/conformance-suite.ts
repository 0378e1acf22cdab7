// The lead's conformance suite, until @redisotel/testing exports it from its entry point (its
// index.ts still has the export commented out): then this becomes
// `export { describeRedisLikeConformance } from '@redisotel/testing';`.
export { describeRedisLikeConformance } from '../../testing/src/conformance.js';
