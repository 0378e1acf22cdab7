#!/usr/bin/env node
// Checks every published package under packages/ against the template (STYLE.md §2.2) and, after a
// build, that every file its package.json points at exists. Exits 1 with one line per problem.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const checkDist = !process.argv.includes('--no-dist');
const problems = [];

/** Collects every string target of an exports map, with the condition path that leads to it. */
function targets(node, path, out) {
  if (typeof node === 'string') out.push([path, node]);
  else if (node && typeof node === 'object')
    for (const [k, v] of Object.entries(node))
      targets(v, k.startsWith('.') ? `${path}["${k}"]` : `${path}.${k}`, out);
  return out;
}

export function checkPackage(dir, pkg, { dist = true } = {}) {
  const out = [];
  const say = (message) => out.push(`${pkg.name ?? dir}: ${message}`);
  if (pkg.private) return out;
  if (pkg.type !== 'module') say('"type" must be "module"');
  if (pkg.sideEffects !== false) say('"sideEffects" must be false');
  for (const f of ['dist', 'README.md', 'CHANGELOG.md'])
    if (!pkg.files?.includes(f)) say(`"files" must include "${f}"`);
  if (pkg.engines?.node !== '>=20') say('"engines.node" must be ">=20"');
  if (!pkg.description) say('"description" is missing');
  if (!Array.isArray(pkg.keywords) || pkg.keywords.length === 0) say('"keywords" is missing');
  if (pkg.publishConfig?.access !== 'public') say('"publishConfig.access" must be "public"');
  if (pkg.license !== 'MIT') say('"license" must be "MIT"');
  if (pkg.repository?.directory !== relative(root, dir))
    say(`"repository.directory" must be "${relative(root, dir)}"`);
  if (!pkg.peerDependencies?.['@opentelemetry/api']) say('"@opentelemetry/api" must be a peerDependency');
  if (pkg.dependencies?.['@opentelemetry/api']) say('"@opentelemetry/api" must not be a runtime dependency');
  if (pkg.peerDependencies?.['@opentelemetry/api'] && !pkg.devDependencies?.['@opentelemetry/api'])
    say('"@opentelemetry/api" must be mirrored in devDependencies');
  const exp = pkg.exports;
  if (!exp || typeof exp !== 'object') say('"exports" map is missing');
  else {
    if (exp['./package.json'] !== './package.json') say('"exports" must expose "./package.json"');
    for (const [sub, entry] of Object.entries(exp)) {
      if (sub === './package.json') continue;
      for (const cond of ['import', 'require']) {
        const c = entry?.[cond];
        if (!c || typeof c !== 'object') {
          say(`exports["${sub}"].${cond} must be an object with its own "types"`);
          continue;
        }
        const keys = Object.keys(c);
        if (keys[0] !== 'types') say(`exports["${sub}"].${cond}.types must come first`);
        if (!c.default) say(`exports["${sub}"].${cond}.default is missing`);
      }
      const it = entry?.import?.types;
      const rt = entry?.require?.types;
      if (it && rt && it === rt) say(`exports["${sub}"] shares one "types" between import and require`);
    }
  }
  if (dist) {
    const files = targets(exp ?? {}, 'exports', []);
    for (const field of ['main', 'module', 'types']) if (pkg[field]) files.push([field, pkg[field]]);
    for (const [where, file] of files) {
      if (file === './package.json') continue;
      if (!existsSync(join(dir, file)))
        say(`${where} points at ${file}, which is missing (did the build run?)`);
    }
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const pkgsDir = join(root, 'packages');
  let count = 0;
  for (const name of readdirSync(pkgsDir)) {
    const dir = join(pkgsDir, name);
    if (!existsSync(join(dir, 'package.json'))) continue;
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    problems.push(...checkPackage(dir, pkg, { dist: checkDist }));
    count++;
  }
  if (problems.length > 0) {
    for (const p of problems) console.error(`✗ ${p}`);
    console.error(`check-packages: ${problems.length} problem(s) in ${count} package(s)`);
    process.exit(1);
  }
  console.log(
    `check-packages: ${count} package(s) match the template${checkDist ? ' and their dist files exist' : ''}`,
  );
}
