import { packageProject } from '../../vitest.shared';

export default packageProject(import.meta.url, {
  globalSetup: ['./test/global-setup.ts'],
  provide: { redisotelTopologies: ['standalone', 'cluster'] },
  // Real servers and child processes: keep the load modest on shared machines.
  fileParallelism: false,
});
