/**
 * Secrets never reach the log: the real `openwx` command runs a whole cycle at log level trace (login, sync,
 * receive, a post_api report with a reply, API sends with the token, a media upload, stop) against a sandbox, and
 * none of the API token, the post_api secret, skey, sid, pass_ticket, webwx_data_ticket or any session cookie
 * value appears anywhere in what it printed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSandbox } from '../../src/sandbox/index.ts';
import { Receiver } from '../helpers/receiver.ts';
import { callApi } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait-for.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'src/cli/main.ts');
const TOKEN = 'log-test-token-7f3a9c';
const SECRET = 'log-test-webhook-secret-b81e';

/** Every secret value the saved session holds (keys, and the value of every cookie that carries one). */
function sessionSecrets(dataDir: string): Map<string, string> {
  const file = readdirSync(dataDir).find((f) => /^session-.*\.json$/.test(f));
  assert.ok(file, 'session file');
  const saved = JSON.parse(readFileSync(join(dataDir, file), 'utf8')) as {
    session: { sid: string; skey: string; passTicket: string; cookies: { cookies: { key: string; value: string }[] } };
  };
  const out = new Map<string, string>();
  const { sid, skey, passTicket, cookies } = saved.session;
  out.set('sid', sid);
  out.set('skey', skey);
  out.set('pass_ticket', passTicket);
  out.set('pass_ticket (decoded)', decodeURIComponent(passTicket));
  for (const c of cookies.cookies) {
    // Not secrets: the language, and the load time and plugin key (unix timestamps, which a log's time contains).
    if (c.key === 'mm_lang' || c.key === 'wxloadtime' || c.key === 'wxpluginkey' || c.value.length < 6) continue;
    out.set(`cookie ${c.key}`, c.value);
  }
  return out;
}

test('a full cycle at log level trace prints no secret', async () => {
  const sb = await startSandbox({ port: 0, chatter: false, longPollMs: 300, autoLoginMs: 30 });
  const rx = await new Receiver().start();
  rx.answer = (r) => (r.json?.content === '日志测试' ? { json: { reply: '日志回复' } } : { status: 200, text: 'ok' });
  const dataDir = mkdtempSync(join(tmpdir(), 'owx-logs-'));
  const env = { ...process.env, OPENWX_LOG_LEVEL: undefined, OPENWX_PORT: undefined } as NodeJS.ProcessEnv;
  const child = spawn(
    process.execPath,
    [
      '--import', 'tsx', MAIN, '--wechat-origin', sb.url, '--port', '0', '--data-dir', dataDir, '--post-api', `${rx.url}?key=${SECRET}`,
      '--post-api-secret', SECRET, '--token', TOKEN, '--log-level', 'trace', '--stop-delay-ms', '0',
    ],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exited = once(child, 'exit');
  try {
    const base = await waitFor(() => /Openwx API at (http:\/\/[^/\s]+)\/openwx\//.exec(log)?.[1], 'API URL', 20_000);
    const auth = { authorization: `Bearer ${TOKEN}` };
    await waitFor(async () => (await callApi(base, 'get_client_info', {}, 'query', auth)).json?.state === 'running', 'logged in', 20_000);
    assert.equal((await callApi(base, 'get_client_info', {}, 'query', { authorization: 'Bearer wrong-token-xyz' })).status, 401);
    sb.handle.inject({ type: 'text', from: '王芳', content: '日志测试' });
    sb.handle.inject({ type: 'image', from: '王芳' });
    await waitFor(() => sb.handle.sent().find((x) => x.Content === '日志回复'), 'post_api reply sent');
    const text = await callApi(base, 'send_friend_message', { displayname: '王芳', content: '日志发送' }, 'json', auth);
    assert.equal(text.json.code, 0);
    const media = await callApi(base, 'send_friend_message', { displayname: '王芳', media_data: Buffer.from('%PDF-1.4 log').toString('base64'), media_name: 'a.pdf' }, 'json', auth);
    assert.equal(media.json.code, 0, media.text);
    await waitFor(() => rx.received.find((r) => r.json?.content === '日志发送'), 'send reported');
    assert.equal((await callApi(base, 'stop_client', {}, 'query', auth)).json.code, 0);
    const [code] = await exited;
    assert.equal(code, 0);

    assert.ok(log.split('\n').filter((l) => l.startsWith('{')).length > 50, 'trace logging produced output');
    assert.match(log, /"level":10/, 'trace records present');
    const secrets = sessionSecrets(dataDir);
    secrets.set('API token', TOKEN);
    secrets.set('post_api secret', SECRET);
    for (const k of ['sid', 'skey', 'pass_ticket', 'cookie wxsid', 'cookie wxuin', 'cookie webwx_data_ticket', 'cookie webwx_auth_ticket']) {
      assert.ok(secrets.has(k), `${k} among ${[...secrets.keys()].join(', ')}`);
    }
    const leaks = [...secrets].filter(([, v]) => log.includes(v)).map(([k]) => k);
    assert.deepEqual(leaks, [], `secrets in the log output:\n${leaks.map((k) => `${k}: …${log.slice(Math.max(0, log.indexOf(secrets.get(k)!) - 200), log.indexOf(secrets.get(k)!) + 40)}`).join('\n')}`);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await rx.stop();
    await sb.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
