// One standalone Redis for the whole core-hooks project (a free port, never the system's 6379), from
// @redisotel/testing: tests read it with useRedisDeployment('standalone').
import { createGlobalSetup } from '@redisotel/testing/global-setup';

export default createGlobalSetup({ topologies: ['standalone'] });
