#!/usr/bin/env node
// After the test suite: fails if any redis-server / redis-sentinel that @redisotel/testing started is still
// running. Ours run with their working directory in a `redisotel-*` temporary directory (which is how they
// are told apart from the machine's own Redis on 6379).
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';

if (!existsSync('/proc')) {
  console.log('check-leftovers: no /proc on this system, nothing checked');
  process.exit(0);
}
const left = [];
for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
  try {
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    if (!comm.startsWith('redis-')) continue;
    const cwd = readlinkSync(`/proc/${pid}/cwd`);
    if (/\/redisotel-[^/]*/.test(cwd)) left.push(`${pid} ${comm} (cwd ${cwd})`);
  } catch {
    // the process ended while we looked
  }
}
if (left.length > 0) {
  console.error(`check-leftovers: ${left.length} Redis process(es) started by the suite are still running:`);
  for (const l of left) console.error(`  ${l}`);
  process.exit(1);
}
console.log('check-leftovers: no redis-server started by the suite is still running');
