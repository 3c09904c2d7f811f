/**
 * `openwx controller` runs in a process of its own with its V8 heap flags (src/cli/launch.ts): which flags, when not
 * to relaunch, and the real command: the controller process has the flags, signals reach it through the launcher,
 * a terminal's doubled Ctrl-C stops it cleanly, and it stops by itself when the launcher is killed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { CONTROLLER_SEMI_SPACE_MIB, controllerHeapFlags, relaunchFlags, semiSpaceOf } from '../../src/cli/launch.ts';
import { callApi } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { cleanEnv, startCommand, tmp, type RunningCommand } from './real-command.ts';

const shebang = ['--max-semi-space-size=4'];
const argv = (...rest: string[]) => ['/usr/bin/node', '/opt/openwx/bin/openwx.js', ...rest];

test('the controller is relaunched with its heap flags instead of the shebang\'s; other node flags are kept', () => {
  assert.deepEqual(relaunchFlags(argv('controller', '--port', '2000'), shebang, {}), controllerHeapFlags());
  assert.deepEqual(relaunchFlags(argv('controller'), ['--import', 'tsx', '--max-semi-space-size', '8', '--min_semi_space_size=2', '--heap-growing-percent=5', '--allocation-site-pretenuring', '--memory_reducer', '--trace-warnings'], {}), [
    '--import', 'tsx', '--trace-warnings', ...controllerHeapFlags(),
  ]);
  assert.deepEqual(relaunchFlags(argv('controller'), [], {}), controllerHeapFlags(), 'plain `node bin/openwx.js controller`');
  assert.ok(controllerHeapFlags().includes(`--max-semi-space-size=${CONTROLLER_SEMI_SPACE_MIB}`));
  assert.ok(controllerHeapFlags().includes('--no-memory-reducer'));
});

test('no relaunch: other commands, OPENWX_RELAUNCH=0, or a young generation already as large', () => {
  assert.equal(relaunchFlags(argv(), shebang, {}), null, 'openwx (one account)');
  assert.equal(relaunchFlags(argv('--post-api', 'http://x/', 'controller'), shebang, {}), null, 'controller is an option value here');
  assert.equal(relaunchFlags(argv('sandbox'), shebang, {}), null);
  assert.equal(relaunchFlags(argv('controller'), shebang, { OPENWX_RELAUNCH: '0' }), null);
  assert.equal(relaunchFlags(argv('controller'), ['--max-semi-space-size=64'], {}), null);
  assert.equal(relaunchFlags(argv('controller'), [], { NODE_OPTIONS: '--max_semi_space_size=32' }), null, 'NODE_OPTIONS');
  // the command line comes after NODE_OPTIONS, and the last flag wins: the shebang's 4 here
  assert.deepEqual(relaunchFlags(argv('controller'), shebang, { NODE_OPTIONS: '--max-semi-space-size=64' }), controllerHeapFlags());
});

test('semiSpaceOf reads both flag forms, dashes or underscores, the last one winning', () => {
  assert.equal(semiSpaceOf([]), undefined);
  assert.equal(semiSpaceOf(['--max-semi-space-size=4']), 4);
  assert.equal(semiSpaceOf(['--max_semi_space_size', '16']), 16);
  assert.equal(semiSpaceOf(['--max-semi-space-size=4', '--expose-gc', '--max-semi-space-size=32']), 32);
});

/** The pids of `pid`'s child processes (Linux). */
function childrenOf(pid: number): number[] {
  const f = `/proc/${pid}/task/${pid}/children`;
  return existsSync(f) ? readFileSync(f, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number) : [];
}

function cmdline(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

interface Started {
  cmd: RunningCommand;
  base: string;
  /** The controller process: the launcher's child, or the command itself when it did not relaunch. */
  controllerPid: number;
}

/**
 * Runs `f` with the real command (bin/openwx.js, the shebang's flags) as a controller with no account; afterwards
 * both processes are gone (SIGKILL if still running) and the data folder removed.
 */
async function withController(f: (s: Started) => Promise<void>, env?: NodeJS.ProcessEnv): Promise<void> {
  const dir = tmp();
  const cmd = startCommand(['controller', '--port', '0', '--data-dir', dir, '--log-level', 'silent'], env, shebang);
  let controllerPid = 0;
  try {
    const base = (await cmd.waitForOutput(/Controller API at (http:\/\/127\.0\.0\.1:\d+)\/openwx\//, 'the controller URL', 30_000))[1]!;
    const kids = childrenOf(cmd.child.pid!);
    controllerPid = kids.length === 1 ? kids[0]! : cmd.child.pid!;
    await f({ cmd, base, controllerPid });
  } finally {
    cmd.kill();
    if (controllerPid && alive(controllerPid)) process.kill(controllerPid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

const linux = process.platform === 'linux' ? {} : { skip: 'reads /proc' };

test('openwx controller: the controller runs in a child with the heap flags; SIGTERM to the launcher stops both with exit 0', linux, () =>
  withController(async ({ cmd, base, controllerPid }) => {
    assert.notEqual(controllerPid, cmd.child.pid, 'a child process runs the controller');
    const args = cmdline(controllerPid);
    for (const f of controllerHeapFlags()) assert.ok(args.includes(f), `${f} in ${args.join(' ')}`);
    assert.ok(!args.includes('--max-semi-space-size=4'), 'the shebang\'s young generation is replaced');
    assert.ok(args.includes('controller'));
    assert.equal((await callApi(base, 'check_client')).json.code, 0, 'the API answers');
    cmd.child.kill('SIGTERM');
    assert.equal(await cmd.exited, 0, cmd.err());
    await waitFor(() => !alive(controllerPid), 'the controller process gone', 10_000);
    assert.match(cmd.out(), /openwx controller: stopped \(SIGTERM\)/);
  }));

test('openwx controller: a terminal\'s Ctrl-C (SIGINT to both processes, forwarded once more) is one clean stop, exit 0', linux, () =>
  withController(async ({ cmd, controllerPid }) => {
    // what a terminal does: the signal goes to the whole foreground process group
    process.kill(controllerPid, 'SIGINT');
    cmd.child.kill('SIGINT');
    assert.equal(await cmd.exited, 0, `${cmd.out()}\n${cmd.err()}`);
    assert.match(cmd.out(), /openwx controller: stopped \(SIGINT\)/);
  }));

test('openwx controller: kill -9 of the launcher stops the controller too (nothing left running)', linux, () =>
  withController(async ({ cmd, controllerPid }) => {
    assert.notEqual(controllerPid, cmd.child.pid);
    cmd.child.kill('SIGKILL');
    await cmd.exited;
    // its stdout is still the pipe the test reads
    await waitFor(() => /openwx controller: stopped \(the launcher process is gone\)/.test(cmd.out()), 'the controller stopping', 20_000);
    await waitFor(() => !alive(controllerPid), 'the controller process gone', 20_000);
  }));

test('OPENWX_RELAUNCH=0: the command itself is the controller, with the flags it was given', linux, () =>
  withController(async ({ cmd, controllerPid }) => {
    assert.equal(controllerPid, cmd.child.pid);
    assert.ok(cmdline(controllerPid).includes('--max-semi-space-size=4'));
    cmd.child.kill('SIGTERM');
    assert.equal(await cmd.exited, 0, cmd.err());
  }, cleanEnv({ OPENWX_RELAUNCH: '0' })));
