// Starts one standalone server and one cluster (3 masters + 3 replicas) for the whole project.
export { setup, teardown } from '@redisotel/testing/global-setup';
