declare const __PACKAGE_VERSION__: string | undefined;

/** This package's version, injected at build time (tsup `define`) and in tests (vitest `define`). */
export const VERSION: string = typeof __PACKAGE_VERSION__ === 'string' ? __PACKAGE_VERSION__ : '0.0.0-test';
