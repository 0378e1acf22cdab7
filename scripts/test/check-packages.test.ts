import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without declarations
import { checkPackage } from '../check-packages.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const template = JSON.parse(readFileSync(join(root, 'packages/core-hooks/package.json'), 'utf8'));
const dir = join(root, 'packages/core-hooks');
const check = (pkg: unknown, options = { dist: false }) => checkPackage(dir, pkg, options) as string[];

describe('check-packages', () => {
  it('accepts the template package', () => {
    expect(check(template)).toEqual([]);
  });

  it.each([
    ['sideEffects', (p: Record<string, unknown>) => delete p.sideEffects, /sideEffects/],
    ['engines', (p: Record<string, unknown>) => (p.engines = { node: '>=18' }), /engines\.node/],
    ['files', (p: Record<string, unknown>) => (p.files = ['dist']), /"files" must include "README.md"/],
    ['peer', (p: Record<string, unknown>) => (p.peerDependencies = {}), /peerDependency/],
    [
      'api as dependency',
      (p: Record<string, unknown>) => (p.dependencies = { '@opentelemetry/api': '1.9.0' }),
      /runtime dependency/,
    ],
    [
      'package.json export',
      (p: Record<string, unknown>) => delete (p.exports as Record<string, unknown>)['./package.json'],
      /package\.json/,
    ],
    [
      'repository.directory',
      (p: Record<string, unknown>) => (p.repository = { type: 'git' }),
      /repository\.directory/,
    ],
  ])('reports a missing or wrong %s', (_name, mutate, message) => {
    const pkg = structuredClone(template);
    mutate(pkg);
    const problems = check(pkg);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join('\n')).toMatch(message);
  });

  it('reports an exports map that shares one types between import and require', () => {
    const pkg = structuredClone(template);
    pkg.exports['.'].require.types = pkg.exports['.'].import.types;
    expect(check(pkg).join('\n')).toMatch(/shares one "types"/);
  });

  it('reports types that do not come first in a condition', () => {
    const pkg = structuredClone(template);
    pkg.exports['.'].import = { default: './dist/index.js', types: './dist/index.d.ts' };
    expect(check(pkg).join('\n')).toMatch(/types must come first/);
  });

  const scratch = mkdtempSync(join(tmpdir(), 'check-packages-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('reports exports targets missing from dist after a build', () => {
    mkdirSync(join(scratch, 'dist'));
    writeFileSync(join(scratch, 'dist/index.js'), '');
    const pkg = { ...structuredClone(template), repository: { ...template.repository, directory: scratch } };
    const problems = checkPackage(scratch, pkg, { dist: true }) as string[];
    expect(problems.join('\n')).toMatch(
      /exports\["\."\]\.require\.default points at \.\/dist\/index\.cjs, which is missing/,
    );
    expect(problems.join('\n')).not.toMatch(/import\.default/);
  });

  it('ignores private packages', () => {
    expect(check({ name: 'x', private: true })).toEqual([]);
  });
});
