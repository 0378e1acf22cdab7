import { packageProject } from '../../vitest.shared';

export default packageProject(import.meta.url, {
  globalSetup: ['./test/global-setup.ts'],
  // The cluster and sentinel suites start their own deployments: one file at a time keeps the shared
  // 2-core machines from timing out.
  fileParallelism: false,
});
