/**
 * The real `openwx` command is SIGKILLed while post_api hangs on a report and more reports wait in the outbox;
 * started again on the same data folder it delivers every one of them, in order, with the same event ids, and
 * acts on the receiver's reply to a report written before the crash.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSandbox } from '../../src/sandbox/index.ts';
import { verify } from '../../src/delivery/sign.ts';
import { Receiver, type Received } from '../helpers/receiver.ts';
import { callApi } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait-for.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'src/cli/main.ts');
const SECRET = 'kill9-webhook-secret';

interface Running {
  child: ChildProcess;
  base: string;
  out: () => string;
}

async function startOpenwxCommand(args: string[]): Promise<Running> {
  const env = { ...process.env, OPENWX_LOG_LEVEL: undefined, OPENWX_PORT: undefined } as NodeJS.ProcessEnv;
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const base = await waitFor(() => /Openwx API at (http:\/\/[^/\s]+)\/openwx\//.exec(out)?.[1], 'API URL', 20_000).catch((e: Error) => {
    child.kill('SIGKILL');
    throw new Error(`${e.message}\n${out}`);
  });
  await waitFor(async () => (await callApi(base, 'get_client_info')).json?.state === 'running', 'logged in', 20_000);
  return { child, base, out: () => out };
}

test('kill -9 during delivery: after the restart every report arrives, in order, same event ids, reply acted on', async () => {
  const sb = await startSandbox({ port: 0, chatter: false, longPollMs: 300, autoLoginMs: 30 });
  const rx = await new Receiver().start();
  const dataDir = mkdtempSync(join(tmpdir(), 'owx-kill9-'));
  const args = [
    '--wechat-origin', sb.url, '--port', '0', '--data-dir', dataDir, '--post-api', rx.url, '--post-api-secret', SECRET,
    '--post-api-timeout-ms', '60000', '--post-api-backoff-base-ms', '20', '--post-api-backoff-max-ms', '200',
    '--log-level', 'warn', '--quiet', '--stop-delay-ms', '0',
  ];
  const attempts: Received[] = [];
  rx.on('request', (r) => attempts.push(r));
  // The receiver hangs on the first crash report: it is in flight when the process dies; the rest wait behind it.
  rx.answer = (r) => (String(r.json?.content).startsWith('崩溃 ') ? { hang: true } : { status: 200, text: 'ok' });
  let run: Running | null = null;
  try {
    run = await startOpenwxCommand(args);
    const N = 20;
    for (let i = 0; i < N; i++) sb.handle.inject({ type: 'text', from: '王芳', content: `崩溃 ${i}` });
    await waitFor(() => attempts.find((r) => r.json?.content === '崩溃 0'), 'first report in flight (hanging)');
    const base = run.base;
    await waitFor(async () => (await callApi(base, 'get_client_info')).json.outbox_depth >= N, 'all reports in the outbox', 15_000);
    run.child.kill('SIGKILL');
    await once(run.child, 'exit');
    const hungId = attempts.find((r) => r.json?.content === '崩溃 0')!.headers['x-openwx-event-id'];

    // Back up: the receiver accepts everything and replies to the report written before the crash.
    rx.answer = (r) => (r.json?.content === '崩溃 0' ? { json: { reply: '重启后回复' } } : { status: 200, text: 'ok' });
    run = await startOpenwxCommand(args);
    const got = await waitFor(() => {
      const ok = rx.received.filter((r) => String(r.json?.content).startsWith('崩溃 '));
      return ok.length >= N ? ok : null;
    }, 'every report delivered after the restart', 20_000);
    assert.deepEqual(got.map((r) => r.json.content), [...Array(N).keys()].map((i) => `崩溃 ${i}`), 'in order, none lost');
    assert.equal(new Set(got.map((r) => r.headers['x-openwx-event-id'])).size, N, 'one event id each');
    assert.equal(got[0]!.headers['x-openwx-event-id'], hungId, 'the report in flight kept its event id across the crash');
    for (const r of got) {
      assert.ok(verify(SECRET, { timestamp: String(r.headers['x-openwx-timestamp']), signature: String(r.headers['x-openwx-signature']) }, r.body));
    }
    const wang = got[0]!.json.sender_id as string;
    const reply = await waitFor(() => sb.handle.sent().find((x) => x.Content === '重启后回复'), 'reply to a pre-crash report');
    assert.equal(reply.ToUserName, wang);
    await waitFor(async () => (await callApi(run!.base, 'get_client_info')).json.outbox_depth === 0, 'outbox drained');
    const exited = once(run.child, 'exit');
    assert.equal((await callApi(run.base, 'stop_client')).json.code, 0);
    const [code] = await exited;
    assert.equal(code, 0, run.out());
  } finally {
    if (run && run.child.exitCode === null) run.child.kill('SIGKILL');
    await rx.stop();
    await sb.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
