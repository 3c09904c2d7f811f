/**
 * A stop asked for while the command is still starting (src/cli/signals.ts): a service manager or a script may signal
 * as soon as it sees a first line. The commands used to listen for SIGINT/SIGTERM only after their ready lines, so
 * such a signal killed them half-started (exit by signal, nothing closed). Now it is kept and acted on once the start
 * is over: a clean stop, exit 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { startCommand, tmp } from './real-command.ts';

test('openwx: SIGTERM at its first line (the embedded sandbox up, the API not yet) is a clean stop, exit 0', async () => {
  const dir = tmp();
  const cmd = startCommand(['--sandbox', '--sandbox-port', '0', '--port', '0', '--data-dir', dir, '--log-level', 'warn', '--quiet']);
  try {
    await cmd.waitForOutput(/openwx: sandbox \(fake WeChat\) at /, 'the sandbox line');
    cmd.child.kill('SIGTERM');
    assert.equal(await cmd.exited, 0, `${cmd.out()}\n${cmd.err()}`);
    assert.match(cmd.out(), /openwx: stopped \(SIGTERM\)/);
  } finally {
    cmd.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('openwx controller: SIGTERM to the launcher at the first line (the embedded sandbox up, the controller not yet) is a clean stop, exit 0', async () => {
  const dir = tmp();
  const cmd = startCommand(['controller', '--sandbox', '--sandbox-users', '1', '--sandbox-port', '0', '--port', '0', '--data-dir', dir, '--log-level', 'warn']);
  try {
    await cmd.waitForOutput(/openwx controller: sandbox \(fake WeChat, 1 users\) at /, 'the sandbox line');
    cmd.child.kill('SIGTERM');
    assert.equal(await cmd.exited, 0, `${cmd.out()}\n${cmd.err()}`);
    assert.match(cmd.out(), /openwx controller: stopped \(SIGTERM\)/);
  } finally {
    cmd.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
