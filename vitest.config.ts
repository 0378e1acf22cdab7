import { defineConfig } from 'vitest/config';

// The IDE / `vitest --project <name>` entry. CI runs each package's own `vitest run` through turbo.
export default defineConfig({
  test: { projects: ['packages/*/vitest.config.ts'] },
});
