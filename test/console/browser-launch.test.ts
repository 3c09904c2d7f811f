/**
 * The browser the page tests use (test/helpers/browser.ts): which Chromium is chosen (OPENWX_CHROMIUM, then the
 * system's, then the npm package's), and that a missing or broken one fails fast instead of hanging a test file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findChromium, launchBrowser } from '../helpers/browser.ts';
import { waitFor } from '../helpers/wait-for.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** A folder with executable shell scripts `name` → body; removed after the test. */
function scripts(t: { after(fn: () => void): void }, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'owx-fake-chromium-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, body] of Object.entries(files)) {
    writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  }
  return dir;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('findChromium: OPENWX_CHROMIUM first, then the system one, then the npm package; a missing OPENWX_CHROMIUM is an error', async (t) => {
  const dir = scripts(t, { chromium: 'exit 0', 'google-chrome': 'exit 0', mine: 'exit 0' });
  const none = { systemPaths: [] as string[] };

  const chosen = await findChromium({ ...none, env: { OPENWX_CHROMIUM: join(dir, 'mine'), PATH: dir } });
  assert.deepEqual([chosen.source, chosen.path], ['OPENWX_CHROMIUM', join(dir, 'mine')]);

  const system = await findChromium({ ...none, env: { PATH: `/nonexistent:${dir}` } });
  assert.deepEqual([system.source, system.path], ['system', join(dir, 'chromium')], 'chromium before google-chrome');
  const listed = await findChromium({ systemPaths: [join(dir, 'google-chrome')], env: { PATH: dir } });
  assert.equal(listed.path, join(dir, 'google-chrome'), 'the fixed paths (/usr/bin/chromium) before the PATH');

  await assert.rejects(findChromium({ ...none, env: { OPENWX_CHROMIUM: join(dir, 'absent'), PATH: dir } }), (e: Error) => {
    assert.match(e.message, /OPENWX_CHROMIUM=.*absent is not an executable file/);
    assert.match(e.message, /apt-get install -y chromium/);
    return true;
  });

  // No system one (or OPENWX_CHROMIUM=npm): the devDependency's, unpacked into the temp folder, runs.
  for (const env of [{ PATH: '/nonexistent' }, { OPENWX_CHROMIUM: 'npm', PATH: dir }]) {
    const npm = await findChromium({ ...none, env });
    assert.equal(npm.source, 'npm');
    assert.match(npm.path, /openwx-chromium-[\d.]+\/chromium$/);
    const version = await new Promise<string>((resolve, reject) => {
      const c = spawn(npm.path, ['--version'], { env: { ...process.env, ...npm.env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      c.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      c.on('error', reject);
      c.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`--version exit ${code}`))));
    });
    assert.match(version, /^Chromium \d+\./);
  }
  // And playwright-core drives it (CI has a system Chromium: this is where the package's one is driven there).
  const b = await launchBrowser('browser-npm', { ...none, env: { OPENWX_CHROMIUM: 'npm', PATH: dir } });
  t.after(() => b.close());
  assert.equal(b.binary.source, 'npm');
  await b.page.setContent('<p id="p">openwx 你好</p>');
  assert.equal(await b.page.locator('#p').textContent(), 'openwx 你好');
  assert.ok((await b.page.evaluate(() => (globalThis as any).document.getElementById('p').getBoundingClientRect().width)) > 0, 'text laid out');
});

test('a browser that never starts is killed after launchTimeoutMs and the launch says which one and why', async (t) => {
  const dir = scripts(t, { hang: 'echo $$ > "$(dirname "$0")/pid"\nsleep 600', crash: 'echo "libnss3.so: cannot open shared object file" >&2\nexit 127' });

  const started = Date.now();
  await assert.rejects(
    launchBrowser('never', { binary: { path: join(dir, 'hang'), source: 'OPENWX_CHROMIUM', env: {} }, launchTimeoutMs: 1_500 }),
    (e: Error) => {
      assert.match(e.message, /Chromium \(OPENWX_CHROMIUM: .*\/hang\) could not be launched \(launch bounded to 1500 ms\)/);
      assert.match(e.message, /OPENWX_CHROMIUM=npm/);
      return true;
    },
  );
  assert.ok(Date.now() - started < 15_000, `rejected after ${Date.now() - started} ms`);
  const pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
  await waitFor(() => !alive(pid) && !alive(-pid), `the hung browser (pid ${pid}) and its group killed`, 10_000);

  await assert.rejects(
    launchBrowser('never', { binary: { path: join(dir, 'crash'), source: 'system', env: {} } }),
    (e: Error) => {
      assert.match(e.message, /Chromium \(system: .*\/crash\) could not be launched/);
      assert.match(e.message, /libnss3\.so: cannot open shared object file/, 'the browser\'s own words');
      return true;
    },
  );
});

test('a missing browser fails the console test file at once (no server left open, nothing cancelled after the timeout)', async () => {
  const env: NodeJS.ProcessEnv = { ...process.env, OPENWX_CHROMIUM: '/nonexistent/chromium', OPENWX_LOG_LEVEL: 'silent' };
  delete env['NODE_TEST_CONTEXT']; // a test run of its own, not a child of this one
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', 'test/console/console.test.ts'], {
    cwd: REPO,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  const DEADLINE_MS = 60_000; // the file fails in a few seconds; before, it stayed alive until the runner's 120 s
  const exit = await new Promise<number | string>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), DEADLINE_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? String(signal));
    });
  });
  assert.notEqual(exit, 'SIGKILL', `the test file was still running after ${DEADLINE_MS} ms:\n${out.slice(-3000)}`);
  assert.equal(exit, 1, out.slice(-3000));
  assert.match(out, /# fail 2/, out.slice(-3000));
  assert.match(out, /# cancelled 0/);
  assert.match(out, /OPENWX_CHROMIUM=\/nonexistent\/chromium is not an executable file/);
});
