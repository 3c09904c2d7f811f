#!/usr/bin/env node
// Entry point of the `openwx` command: runs the compiled CLI (dist/, built by `npm run build`, which `npm ci` runs
// through the `prepare` script). No TypeScript loader at run time: it costs ~60 MiB of RSS in every process.
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('openwx: dist/ is missing; run `npm run build` (or `npm ci`) in the openwx folder first\n');
  process.exit(1);
}
await import(main.href);
