// One standalone server and one cluster for the whole node-redis project (free ports, never the system's
// 6379), from @redisotel/testing: the test files that only need a healthy deployment read them with
// useRedisDeployment(). Files that kill, restart or fail over servers start their own (helpers.ts).
import { createGlobalSetup } from '@redisotel/testing/global-setup';

export default createGlobalSetup({ topologies: ['standalone', 'cluster'] });
