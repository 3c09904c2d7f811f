#!/usr/bin/env node
// `npm run build` (also run by `prepare`, so `npm ci` builds): compiles src/ to dist/ with tsc (tsconfig.build.json:
// `.ts` import specifiers rewritten to `.js`, declarations, source maps) and copies the non-TypeScript assets the
// code loads relative to itself (src/console/static/*). dist/ is removed first so no file of a deleted source
// survives. The production entry points (bin/openwx.js, npm start/demo/sandbox, the package exports) run dist/;
// tests and the bench runner keep running src/ through tsx.
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
if (r.status !== 0) {
  console.error('build: tsc failed');
  process.exit(r.status ?? 1);
}
cpSync(join(root, 'src/console/static'), join(dist, 'console/static'), { recursive: true });
