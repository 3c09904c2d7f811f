import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../../scripts/build.mjs', import.meta.url));

test('the build replaces its output folder at the end: never missing while tsc runs, nothing stale survives', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'owx-build-'));
  try {
    const out = join(tmp, 'dist');
    mkdirSync(join(out, 'cli'), { recursive: true });
    writeFileSync(join(out, 'cli', 'main.js'), '// previous build\n');
    writeFileSync(join(out, 'gone.js'), '// output of a deleted source\n');
    const p = spawn(process.execPath, [script, '--out', out], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // bin/openwx.js and `npm start` may start at any moment of a build (another user of the checkout building)
    // The swap itself is two renames (dist → dist.old-<pid>, stage → dist; Node has no atomic exchange): a check that
    // lands between them (the old folder present, and the new dist there a moment later) is the swap's instant, not a
    // missing dist/. On a loaded machine the process can be descheduled between the renames.
    let checks = 0;
    let missing = 0;
    let inSwap = 0;
    const main = join(out, 'cli', 'main.js');
    const watch = setInterval(() => {
      checks++;
      if (existsSync(main)) return;
      if (readdirSync(tmp).some((n) => n.startsWith('dist.old-')) || existsSync(main)) inSwap++;
      else missing++;
    }, 2);
    const [code] = await once(p, 'exit');
    clearInterval(watch);
    assert.equal(code, 0, stderr);
    assert.ok(checks > 10, `watched during the build (${checks} checks)`);
    assert.equal(missing, 0, `${out}/cli/main.js was missing in ${missing} of ${checks} checks (and in ${inSwap} during the swap)`);
    assert.notEqual(readFileSync(join(out, 'cli', 'main.js'), 'utf8'), '// previous build\n');
    assert.ok(!existsSync(join(out, 'gone.js')), 'a stale file of the previous build survived');
    assert.ok(existsSync(join(out, 'console', 'static')), 'static console assets copied');
    assert.deepEqual(readdirSync(tmp), ['dist'], 'no staging folder left behind');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
