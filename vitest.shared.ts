import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineProject, type TestProjectInlineConfiguration } from 'vitest/config';

type ProjectTestOptions = NonNullable<TestProjectInlineConfiguration['test']>;

/**
 * The vitest project every package uses. `packageUrl` is the package's `import.meta.url` of its
 * `vitest.config.ts`. The package's `test` script adds the JSON reporter (`test-results.json`), which the
 * root `scripts/test-summary.mjs` adds up into the single `tests: N passed, N failed` line of CI.
 */
export function packageProject(packageUrl: string, test: ProjectTestOptions = {}) {
  const dir = fileURLToPath(new URL('.', packageUrl));
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
  };
  return defineProject({
    define: { __PACKAGE_VERSION__: JSON.stringify(pkg.version) },
    test: {
      name: pkg.name.replace(/^@redisotel\//, ''),
      root: dir,
      include: ['test/**/*.test.ts'],
      typecheck: { enabled: true, include: ['test/**/*.test-d.ts'] },
      testTimeout: 30_000,
      hookTimeout: 120_000,
      ...test,
    },
  });
}
