import { createGlobalSetup } from '@redisotel/testing/global-setup';

// One standalone server and one cluster (3 masters + 3 replicas) for the whole project.
export default createGlobalSetup({ topologies: ['standalone', 'cluster'] });
