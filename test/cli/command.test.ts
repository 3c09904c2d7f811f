/**
 * The real `openwx` command (bin/openwx.js on dist/): `openwx sandbox` takes its own --port/--host; the exit code
 * says whether a stop was asked for (0) or the client could not work (non-zero, so systemd's Restart=on-failure
 * restarts it); a --host that only looks like loopback needs a token; settings errors never print a secret.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callApi } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { cleanEnv, freePort, startCommand, type RunningCommand } from './real-command.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'owx-command-'));

/** `openwx sandbox --host 127.0.0.2 --port <free port>`, answering fast; resolves with its base URL. */
async function startSandboxCommand(): Promise<{ cmd: RunningCommand; url: string }> {
  const port = await freePort('127.0.0.2');
  const cmd = startCommand(['sandbox', '--host', '127.0.0.2', '--port', String(port), '--auto-login', '0', '--chatter', 'off', '--long-poll-ms', '300']);
  const m = await cmd.waitForOutput(/^openwx sandbox listening on (\S+)$/m, 'the sandbox URL line').catch((e: Error) => {
    cmd.kill();
    throw e;
  });
  assert.equal(m[1], `http://127.0.0.2:${port}`, 'the URL of the given host and port');
  return { cmd, url: m[1]! };
}

/** `openwx` on 127.0.0.3 against the sandbox, logged in; resolves with its API base URL. */
async function startBridge(sandboxUrl: string, dir: string, extra: string[] = []): Promise<{ cmd: RunningCommand; base: string }> {
  const port = await freePort('127.0.0.3');
  const cmd = startCommand(['--host', '127.0.0.3', '--port', String(port), '--wechat-origin', sandboxUrl, '--data-dir', dir, '--stop-delay-ms', '0', '--log-level', 'warn', '--log-format', 'json', '--quiet', ...extra]);
  try {
    const m = await cmd.waitForOutput(/Openwx API at (http:\/\/\S+)\/openwx\//, 'the API URL line');
    assert.equal(m[1], `http://127.0.0.3:${port}`);
    await waitFor(async () => (await callApi(m[1]!, 'get_client_info')).json?.state === 'running', 'logged in to the sandbox', 20_000);
    return { cmd, base: m[1]! };
  } catch (e) {
    cmd.kill();
    throw e;
  }
}

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
      assert.match(b.cmd.out(), /openwx: stopped \(logged out by WeChat \(synccheck retcode 1101\)\)/);
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

test('a --host name that starts with "127." is not loopback: without a token it is refused (exit 2)', async () => {
  const dir = tmp();
  try {
    for (const host of ['127.evil.example', '127.0.0.1.nip.io']) {
      const cmd = startCommand(['--host', host, '--port', '0', '--data-dir', dir, '--log-level', 'silent']);
      assert.equal(await cmd.exited, 2, `${host}: ${cmd.err()}`);
      assert.equal(cmd.err(), `openwx: cannot start: invalid setting: host ${host} is reachable from other machines: set a token (--token) or --insecure-no-auth\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad secret setting is refused in one line that never prints its value (flag, env, config file)', async () => {
  const dir = tmp();
  try {
    const cases: { args: string[]; env?: Record<string, string>; secret: string; line: string }[] = [
      { args: ['--token', ' padded-token-value '], secret: 'padded-token-value', line: 'invalid setting token: expected no spaces or line breaks at either end, got a value of 20 characters' },
      { args: [], env: { OPENWX_TOKEN: 'shorty' }, secret: 'shorty', line: 'invalid setting token: expected a string of at least 8 characters, got a value of 6 characters' },
      { args: ['--post-api-secret', 'too-short-sec'], secret: 'too-short-sec', line: 'invalid setting post_api_secret: expected a string of at least 16 characters, got a value of 13 characters' },
      { args: [], env: { OPENWX_POST_API_SECRET: 'signing-secret-from-env\n' }, secret: 'signing-secret-from-env', line: 'invalid setting post_api_secret: expected no spaces or line breaks at either end, got a value of 24 characters' },
    ];
    const json = join(dir, 'openwx.json');
    writeFileSync(json, JSON.stringify({ token: 'file-token-value\t' }));
    cases.push({ args: ['--config', json], secret: 'file-token-value', line: 'invalid setting token: expected no spaces or line breaks at either end, got a value of 17 characters' });
    const yaml = join(dir, 'openwx.yaml');
    writeFileSync(yaml, 'post_api_secret: short-yaml-sec\n');
    cases.push({ args: [], env: { OPENWX_CONFIG: yaml }, secret: 'short-yaml-sec', line: 'invalid setting post_api_secret: expected a string of at least 16 characters, got a value of 14 characters' });
    for (const c of cases) {
      const cmd = startCommand([...c.args, '--port', '0', '--data-dir', dir], cleanEnv(c.env));
      assert.equal(await cmd.exited, 2, cmd.err());
      assert.equal(cmd.err(), `openwx: ${c.line}\n`);
      assert.ok(!cmd.err().includes(c.secret) && !cmd.out().includes(c.secret), 'the value is not printed');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
