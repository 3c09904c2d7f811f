/**
 * The real `openwx` command (bin/openwx.js on dist/): `openwx sandbox` takes its own --port/--host;
 * bridge options before it are refused
 * (split from one file so that each stays well inside the runner's per-file time limit on a loaded machine.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCommand, startSandboxCommand } from './real-command.ts';

test('openwx sandbox --host H --port N listens on H:N (the bridge\'s own --host/--port do not take them)', async () => {
  const { cmd, url } = await startSandboxCommand();
  try {
    const state = (await (await fetch(`${url}/__sandbox/state`)).json()) as { login: string; friends: number };
    assert.equal(state.login, 'offline');
    assert.ok(state.friends > 0);
    cmd.child.kill('SIGTERM');
    assert.equal(await cmd.exited, 0);
  } finally {
    cmd.kill();
  }
});

test('bridge options given before "sandbox" are refused with a hint, not silently dropped', async () => {
  const cmd = startCommand(['--port', '5031', 'sandbox', '--port', '0']);
  assert.equal(await cmd.exited, 1);
  assert.match(cmd.err(), /--port given before "sandbox": options there belong to the bridge; put sandbox options after it/);
  assert.equal(cmd.out(), '');
});
