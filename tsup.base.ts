import type { Options } from 'tsup';

/** The fields of a package.json that the shared build reads. */
export interface PackageMeta {
  name: string;
  version: string;
}

/**
 * The one build configuration every published package uses: ESM + CJS + `.d.ts`/`.d.cts`,
 * Node 20 target, version injected as `__PACKAGE_VERSION__`.
 * A package with more entries passes them in `entry` (and adds the matching `exports` subpath).
 */
export function libraryConfig(pkg: PackageMeta, overrides: Partial<Options> = {}): Options {
  return {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    tsconfig: 'tsconfig.build.json',
    define: { __PACKAGE_VERSION__: JSON.stringify(pkg.version) },
    ...overrides,
  };
}
