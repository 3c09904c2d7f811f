#!/usr/bin/env node
// Runs node:test (through tsx) on an explicit list of test files: every test/**/*.test.ts, or the files given
// as arguments. Fails when the list is empty, so a broken glob can never pass as "no tests, all green".
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...collect(p));
    else if (name.endsWith('.test.ts')) out.push(relative(process.cwd(), p));
  }
  return out;
}

const args = process.argv.slice(2);
const files = args.length > 0 ? args : collect('test');
if (files.length === 0) {
  console.error('run-tests: no test files found; refusing to report success');
  process.exit(1);
}
console.error(`run-tests: ${files.length} files`);
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=120000', ...files],
  { stdio: 'inherit', env: { ...process.env, OPENWX_LOG_LEVEL: process.env.OPENWX_LOG_LEVEL ?? 'silent' } },
);
process.exit(r.status ?? 1);
