#!/usr/bin/env -S MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=65536 node --max-semi-space-size=4
// Entry point of the `openwx` command: runs the compiled CLI (dist/, built by `npm run build`, which `npm ci` runs
// through the `prepare` script). No TypeScript loader at run time: it costs ~60 MiB of RSS in every process.
// The shebang above sets what the process runs with (the bench's openwx process reads it from this line; npm's
// Windows shims read it too; test/cli/node-flags.test.ts checks it; docs/benchmarks.md, "Memory"):
// - V8 flag --max-semi-space-size=4 caps the young generation at 2 × 4 MiB (Node 20 grows it to 2 × 16 MiB and keeps
//   it: ~30 MiB of RSS after the login's contact parsing). npm start/demo carry the same flag.
// - glibc malloc (Linux; ignored elsewhere): MALLOC_ARENA_MAX=2 instead of 8 per core for V8's and libuv's threads,
//   MALLOC_MMAP_THRESHOLD_=65536 so freed socket buffers and bodies go back to the kernel instead of pinning the
//   heap's top. Together ~14 MiB less RSS after the inbound benchmark. They must be in the environment before node
//   starts (no in-process lever), so `node bin/openwx.js`, npm start and npm run demo run without them: set them in
//   the service's environment (docs/operations.md).
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('openwx: dist/ is missing; run `npm run build` (or `npm ci`) in the openwx folder first\n');
  process.exit(1);
}
await import(main.href);
