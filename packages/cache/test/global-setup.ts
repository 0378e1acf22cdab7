// One standalone server and one cluster for the whole cache project (free ports, never the system's
// 6379), from @redisotel/testing; tests read them with useRedisDeployment(). Fault tests start their own.
import { createGlobalSetup } from '@redisotel/testing/global-setup';

export default createGlobalSetup({ topologies: ['standalone', 'cluster'] });
