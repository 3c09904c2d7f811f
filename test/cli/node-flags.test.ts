import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const root = new URL('../../', import.meta.url);
const shebang = readFileSync(new URL('bin/openwx.js', root), 'utf8').split('\n', 1)[0]!;
// `#!/usr/bin/env -S [NAME=VALUE]… node <flags>`: env(1) sets the variables, then runs node with the flags.
const SHEBANG = /^#!\/usr\/bin\/env -S ((?:[A-Z_]+=\S+\s+)*)node\s+(.+)$/;

test('bin/openwx.js, npm start and npm run demo run node with the same V8 flags, and node accepts them', () => {
  const m = SHEBANG.exec(shebang);
  assert.ok(m, `shebang carries the flags: ${shebang}`);
  const flags = m[2]!.trim();
  assert.match(flags, /--max-semi-space-size=\d+/);
  const scripts = (JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string> }).scripts;
  assert.equal(scripts['start'], `node ${flags} dist/cli/main.js`);
  assert.equal(scripts['demo'], `node ${flags} dist/cli/main.js --sandbox`);
  const r = spawnSync(process.execPath, [...flags.split(/\s+/), '-e', 'process.exit(0)'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

test('the shebang sets glibc malloc arenas and mmap threshold, and env -S hands them to node with the flags', () => {
  const m = SHEBANG.exec(shebang)!;
  const vars = Object.fromEntries(m[1]!.trim().split(/\s+/).map((w) => w.split('=', 2) as [string, string]));
  assert.equal(vars['MALLOC_ARENA_MAX'], '2');
  assert.equal(vars['MALLOC_MMAP_THRESHOLD_'], '65536');
  // A script with the very same first line, run as an executable: the kernel runs env -S, which sets the variables
  // and starts the node found on PATH with the flags.
  const dir = mkdtempSync(join(tmpdir(), 'owx-shebang-'));
  try {
    const script = join(dir, 'probe.mjs');
    writeFileSync(script, `${shebang}\nconsole.log(JSON.stringify([process.env.MALLOC_ARENA_MAX, process.env.MALLOC_MMAP_THRESHOLD_, process.execArgv]));\n`);
    chmodSync(script, 0o755);
    const r = spawnSync(script, [], { encoding: 'utf8', env: { PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}` } });
    assert.equal(r.status, 0, r.stderr);
    const [arena, mmap, execArgv] = JSON.parse(r.stdout) as [string, string, string[]];
    assert.equal(arena, '2');
    assert.equal(mmap, '65536');
    assert.deepEqual(execArgv, m[2]!.trim().split(/\s+/));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
