import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Receiver } from '../helpers/receiver.ts';
import { callApi } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait-for.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'src/cli/main.ts');
const env = { ...process.env, OPENWX_LOG_LEVEL: undefined, OPENWX_PORT: undefined } as NodeJS.ProcessEnv;

function run(args: string[], extraEnv: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, env: { ...env, ...extraEnv }, encoding: 'utf8', timeout: 30_000 });
}

test('openwx --help documents every option', () => {
  const r = run(['--help']);
  assert.equal(r.status, 0);
  for (const flag of [
    '--host', '--port', '--post-api', '--data-dir', '--config', '--token', '--insecure-no-auth', '--wechat-origin', '--sandbox',
    '--sandbox-port', '--log-level', '--quiet', '--account', '--no-desktop-mode', '--send-interval-ms', '--media-dir',
    '--post-event-list', '--no-post-media-data', '--post-message-filter', '--broadcast-max', '--stop-delay-ms',
    '--post-api-secret', '--post-api-max-attempts', '--post-api-max-age-hours', '--post-api-backoff-base-ms', '--post-api-backoff-max-ms',
    '--post-api-timeout-ms', '--history-retention-days', '--access-token-param', '--cors-origin', '--jsonp', '--body-limit-bytes', '--relogin',
  ]) {
    assert.ok(r.stdout.includes(flag), flag);
  }
  assert.match(r.stdout, /OPENWX_/);
});

test('a bad setting is one line naming it, exit code 2', () => {
  const a = run(['--port', 'abc']);
  assert.equal(a.status, 2);
  assert.equal(a.stderr, 'openwx: invalid setting port: expected integer 0-65535, got "abc"\n');
  const b = run([], { OPENWX_POST_API: 'not a url' });
  assert.equal(b.status, 2);
  assert.equal(b.stderr, 'openwx: invalid setting post_api: expected an http(s) URL, got "not a url"\n');
  const c = run(['--host', '0.0.0.0', '--port', '0', '--data-dir', mkdtempSync(join(tmpdir(), 'owx-cli-'))]);
  assert.equal(c.status, 2);
  assert.match(c.stderr, /^openwx: cannot start: invalid setting: host 0\.0\.0\.0 is reachable from other machines: set a token/);
});

test('openwx --sandbox: logs in to the embedded sandbox, serves the API, and stop_client exits 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'owx-cli-'));
  const receiver = await new Receiver().start();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', MAIN, '--sandbox', '--port', '0', '--sandbox-port', '0', '--data-dir', dir, '--stop-delay-ms', '100', '--log-level', 'warn', '--post-api', receiver.url],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const base = await waitFor(() => /Openwx API at (http:\/\/[^/\s]+)\/openwx\//.exec(out)?.[1], `API URL in output:\n${out}\n${err}`, 20_000);
    assert.match(out, /sandbox \(fake WeChat\) at http:\/\/127\.0\.0\.1:\d+, control API http:\/\/127\.0\.0\.1:\d+\/__sandbox\//);
    await waitFor(async () => (await callApi(base, 'get_client_info')).json.state === 'running', 'login to the sandbox', 20_000);
    const user = (await callApi(base, 'get_user_info')).json;
    assert.equal(user.name, '小明同学');
    const sent = await callApi(base, 'send_friend_message', { displayname: 'echo', content: '演示' });
    assert.equal(sent.json.code, 0);
    await receiver.waitFor(1);
    const stop = await callApi(base, 'stop_client');
    assert.match(stop.json.status, /^success, client\(\d+\) will stop in 0 seconds$/);
    assert.equal(await exited, 0, `exit code; stderr:\n${err}`);
    assert.match(out, /openwx: stopped \(stop_client\)/);
    assert.ok(receiver.received.some((r) => r.json?.event === 'stop'), 'stop event reported before exit');
    assert.ok(receiver.received.some((r) => r.json?.post_type === 'receive_message' && r.json.content === '演示'), 'echo reply reported');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await receiver.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--insecure-no-auth starts beyond loopback without a token, with a warning in the log', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'owx-cli-'));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', MAIN, '--host', '0.0.0.0', '--insecure-no-auth', '--port', '0', '--sandbox', '--sandbox-port', '0', '--data-dir', dir, '--log-level', 'warn', '--quiet'],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await waitFor(() => /Openwx API at http:\/\/0\.0\.0\.0:\d+\/openwx\//.test(out), `API URL in output:\n${out}`, 20_000);
    await waitFor(() => out.includes('WITHOUT a token'), `warning in output:\n${out}`);
    const warning = out.split('\n').find((l) => l.includes('WITHOUT a token'))!;
    assert.equal(JSON.parse(warning).level, 40);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--log-format: pretty gives readable lines and plain ShowMsg lines; json (the default off a terminal) gives JSON lines', async () => {
  for (const format of ['pretty', 'json'] as const) {
    const dir = mkdtempSync(join(tmpdir(), 'owx-cli-fmt-'));
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', MAIN, '--sandbox', '--port', '0', '--sandbox-port', '0', '--data-dir', dir, '--stop-delay-ms', '0', ...(format === 'pretty' ? ['--log-format', 'pretty'] : [])],
      { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const base = await waitFor(() => /Openwx API at (http:\/\/[^/\s]+)\/openwx\//.exec(out)?.[1], `API URL in output:\n${out}`, 20_000);
      await waitFor(async () => (await callApi(base, 'get_client_info')).json.state === 'running', 'login', 20_000);
      assert.equal((await callApi(base, 'send_friend_message', { displayname: 'echo', content: 'fmt-check' })).json.code, 0);
      await waitFor(() => /echo → 我 : fmt-check/.test(out), `ShowMsg line for the echo reply:\n${out}`, 20_000);
      await callApi(base, 'stop_client');
      assert.equal(await exited, 0);
      const showLine = out.split('\n').find((l) => l.includes('echo → 我 : fmt-check'))!;
      const loginLine = out.split('\n').find((l) => l.includes('logged in as'))!;
      if (format === 'pretty') {
        assert.match(showLine, /^\[好友消息\] echo → 我 : fmt-check$/);
        assert.match(loginLine, /INFO.*logged in as 小明同学/);
        assert.ok(!loginLine.trimStart().startsWith('{'), loginLine);
      } else {
        assert.equal(JSON.parse(showLine).msg, '[好友消息] echo → 我 : fmt-check');
        assert.equal(JSON.parse(loginLine).level, 30);
      }
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }
});
