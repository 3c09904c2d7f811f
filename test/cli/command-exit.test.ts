/**
 * The real `openwx` command (bin/openwx.js on dist/): the exit code says whether a stop was asked for (0) or the
 * client could not work (non-zero, so systemd's Restart=on-failure restarts it).
 * (Split from one file so that each stays well inside the runner's per-file time limit on a loaded machine.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { callApi } from '../helpers/stack.ts';
import { freePort, startBridge, startCommand, startSandboxCommand, tmp } from './real-command.ts';

test('exit codes: stop_client → 0; SIGTERM → 0; a logout by WeChat with relogin=stop → 1', async () => {
  const sandbox = await startSandboxCommand();
  const dirs = [tmp(), tmp(), tmp()];
  try {
    // asked for: stop_client
    const a = await startBridge(sandbox.url, dirs[0]!);
    try {
      assert.equal((await callApi(a.base, 'stop_client')).json.code, 0);
      assert.equal(await a.cmd.exited, 0, a.cmd.err());
      assert.match(a.cmd.out(), /openwx: stopped \(stop_client\)/);
    } finally {
      a.cmd.kill();
    }
    // asked for: SIGTERM (systemctl stop)
    const t = await startBridge(sandbox.url, dirs[2]!);
    try {
      t.cmd.child.kill('SIGTERM');
      assert.equal(await t.cmd.exited, 0, t.cmd.err());
      assert.match(t.cmd.out(), /openwx: stopped \(SIGTERM\)/);
    } finally {
      t.cmd.kill();
    }
    // not asked for: WeChat ends the session and the policy is to stop
    const b = await startBridge(sandbox.url, dirs[1]!, ['--relogin', 'stop']);
    try {
      assert.equal((await fetch(`${sandbox.url}/__sandbox/logout`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status, 200);
      assert.equal(await b.cmd.exited, 1, b.cmd.err());
      // Seen by the synccheck, or by a webwxsync already on its way when the session ended (both are WeChat's answers).
      assert.match(b.cmd.out(), /openwx: stopped \(logged out by WeChat \((synccheck|webwxsync) retcode 1101\)\)/);
    } finally {
      b.cmd.kill();
    }
  } finally {
    sandbox.cmd.kill();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
});

test('exit code: WeChat unreachable at start → 1, with the reason on stderr', async () => {
  const dir = tmp();
  const closed = await freePort();
  const cmd = startCommand(['--port', '0', '--wechat-origin', `http://127.0.0.1:${closed}`, '--data-dir', dir, '--log-level', 'silent', '--quiet']);
  try {
    assert.equal(await cmd.exited, 1, `${cmd.out()}\n${cmd.err()}`);
    assert.match(cmd.err(), /^openwx: network error on jslogin: ECONNREFUSED/m);
    assert.match(cmd.out(), /openwx: stopped \(login failed: network error on jslogin/);
  } finally {
    cmd.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
