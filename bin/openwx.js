#!/usr/bin/env -S node --max-semi-space-size=4
// Entry point of the `openwx` command: runs the compiled CLI (dist/, built by `npm run build`, which `npm ci` runs
// through the `prepare` script). No TypeScript loader at run time: it costs ~60 MiB of RSS in every process.
// V8 flags (the shebang above; npm start/demo carry the same, test/cli/node-flags.test.ts checks it, and the bench's
// openwx process reads them from this line): --max-semi-space-size=4 caps V8's young generation at 2 × 4 MiB
// (Node 20 grows it to 2 × 16 MiB and keeps it: ~30 MiB of RSS after the login's contact parsing, RSS after login
// 165 → 133–142 MiB in the bench world; docs/benchmarks.md, "Memory"). `node bin/openwx.js` runs without them.
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('openwx: dist/ is missing; run `npm run build` (or `npm ci`) in the openwx folder first\n');
  process.exit(1);
}
await import(main.href);
