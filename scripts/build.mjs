#!/usr/bin/env node
// `npm run build` (also run by `prepare`, so `npm ci` builds): compiles src/ to dist/ with tsc (tsconfig.build.json:
// `.ts` import specifiers rewritten to `.js`, declarations, source maps) and copies the non-TypeScript assets the
// code loads relative to itself (src/console/static/*). The production entry points (bin/openwx.js, npm
// start/demo/sandbox, the package exports) run dist/; tests and the bench runner keep running src/ through tsx.
//
// The build goes to a fresh sibling folder (`dist.build-<pid>`) that then replaces dist/ with two renames, so no
// file of a deleted source survives and dist/ is never missing or half-written while tsc runs (only for the instant
// between the two renames: Node has no atomic exchange of two folders) (tsc takes 10–25 s:
// an `openwx` started meanwhile, or a test spawning bin/openwx.js while another checkout user builds, used to find
// no dist/ and exit 1). `--out <dir>` builds somewhere else (the build test uses it).
import { spawnSync } from 'node:child_process';
import { cpSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outArg = process.argv.indexOf('--out');
const dist = outArg > 0 && process.argv[outArg + 1] ? resolve(process.argv[outArg + 1]) : join(root, 'dist');
const stage = join(dirname(dist), `${basename(dist)}.build-${process.pid}`);
const old = join(dirname(dist), `${basename(dist)}.old-${process.pid}`);
rmSync(stage, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', stage], { stdio: 'inherit', cwd: root });
if (r.status !== 0) {
  rmSync(stage, { recursive: true, force: true });
  console.error('build: tsc failed');
  process.exit(r.status ?? 1);
}
cpSync(join(root, 'src/console/static'), join(stage, 'console/static'), { recursive: true });

// dist → dist.old-<pid>, stage → dist. Another build finishing at the same moment can put its dist/ back in
// between (ENOTEMPTY/EEXIST on the second rename): move that one aside too and try again.
for (let attempt = 0; ; attempt++) {
  try {
    renameSync(dist, old);
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
  }
  try {
    renameSync(stage, dist);
    break;
  } catch (err) {
    if (!['ENOTEMPTY', 'EEXIST'].includes(err.code) || attempt >= 10) throw err;
    rmSync(old, { recursive: true, force: true });
  }
}
rmSync(old, { recursive: true, force: true });
