/**
 * /metrics (Prometheus text) after a real login, received messages of several formats, API sends (one failing at
 * WeChat), post_api deliveries and a relogin forced by the sandbox: every family is present with values that
 * match what happened. /metrics follows the token unless metricsPublic.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, type Stack } from '../helpers/stack.ts';
import { nextEvent, waitFor } from '../helpers/wait-for.ts';

const TOKEN = 'metrics-token-123';
const auth = { authorization: `Bearer ${TOKEN}` };

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A small parser of the text exposition format: TYPE lines and samples. */
function parse(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const t = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (t) types.set(t[1]!, t[2]!);
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { types, samples };
}

async function scrape(s: Stack, headers: Record<string, string> = auth) {
  const r = await s.call('/metrics', {}, 'query', headers);
  assert.equal(r.status, 200, r.text);
  assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  const p = parse(r.text);
  const value = (name: string, labels: Record<string, string> = {}) =>
    p.samples.filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v)).reduce((a, x) => a + x.value, 0);
  const has = (name: string, labels: Record<string, string> = {}) =>
    p.samples.some((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  return { ...p, value, has, text: r.text };
}

test('metrics: state, messages by format, sends by result, post_api deliveries and depth, relogins, sync latency', async (t) => {
  const s = await startStack({ postApi: true, openwx: { token: TOKEN } });
  try {
    const account = s.client.account;
    assert.equal((await s.call('/metrics')).status, 401, 'behind the token by default');

    const before = await scrape(s);
    assert.equal(before.value('openwx_state', { account, state: 'running' }), 1);
    assert.equal(before.value('openwx_state', { account, state: 'scaning' }), 0);
    assert.equal(before.value('openwx_relogins_total', { account }), 0);
    assert.equal(before.value('openwx_sends_total', { account, result: 'ok' }), 0);

    // Received: two texts and an image from friends, a text in a group.
    const got = waitFor(() => s.receiver!.received.filter((r) => r.json?.post_type === 'receive_message').length >= 4, 'four reports');
    s.sb.handle.inject({ type: 'text', from: '张伟', content: 'm1' });
    s.sb.handle.inject({ type: 'text', from: '王芳', content: 'm2' });
    s.sb.handle.inject({ type: 'image', from: '张伟' });
    s.sb.handle.inject({ type: 'text', from: '张伟', group: '相亲相爱一家人', content: 'm3' });
    await got;

    // Sent: one ok (echo answers it: one more received text), one refused by WeChat.
    const echoed = nextEvent(s.client, 'receive_message', (m: { content: string }) => m.content === 'metrics ping');
    assert.equal((await s.call('send_friend_message', { displayname: 'echo', content: 'metrics ping' }, 'query', auth)).json.code, 0);
    await echoed;
    s.sb.handle.fault({ endpoint: 'webwxsendmsg', ret: 1, times: 1 });
    const refused = await s.call('send_friend_message', { id: s.friendId('张伟'), content: 'refused' }, 'query', auth);
    assert.notEqual(refused.json.code, 0);
    // Not a send: the route refuses an unknown friend before the client is asked.
    assert.equal((await s.call('send_friend_message', { id: '@nobody', content: 'x' }, 'query', auth)).json.code, 100);

    await waitFor(async () => (await scrape(s)).value('openwx_webhook_deliveries_total', { account, result: 'delivered' }) >= 6, 'deliveries counted');
    const m = await scrape(s);
    for (const family of [
      'openwx_build_info',
      'openwx_state',
      'openwx_messages_total',
      'openwx_sends_total',
      'openwx_webhook_deliveries_total',
      'openwx_webhook_queue_depth',
      'openwx_relogins_total',
      'openwx_last_sync_timestamp_seconds',
      'openwx_wechat_request_duration_seconds',
      'openwx_wechat_request_errors_total',
      'process_cpu_user_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      assert.ok(m.types.has(family), `family ${family}`);
    }
    assert.equal(m.types.get('openwx_wechat_request_duration_seconds'), 'histogram');
    assert.equal(m.types.get('openwx_sends_total'), 'counter');
    assert.equal(m.value('openwx_build_info', { version: '0.1.0' }), 1);
    assert.equal(m.value('openwx_messages_total', { account, direction: 'in', format: 'text' }), 4, 'm1, m2, m3 and the echo');
    assert.equal(m.value('openwx_messages_total', { account, direction: 'in', format: 'media' }), 1);
    assert.equal(m.value('openwx_messages_total', { account, direction: 'out', format: 'text' }), 1, 'the one that WeChat accepted');
    assert.equal(m.value('openwx_sends_total', { account, result: 'ok' }), 1);
    const failed = m.samples.filter((x) => x.name === 'openwx_sends_total' && x.labels['result'] !== 'ok');
    assert.equal(failed.length, 1, JSON.stringify(failed));
    assert.match(failed[0]!.labels['result']!, /^(OWX_ERR_\w+|ret_\d+)$/);
    assert.equal(failed[0]!.value, 1);
    // Each report delivered once (4 received + 2 sent messages + events); the queue is empty again.
    const reports = s.receiver!.received.length;
    await waitFor(async () => (await scrape(s)).value('openwx_webhook_deliveries_total', { account, result: 'delivered' }) === s.receiver!.received.length, 'every delivery counted');
    assert.ok(reports >= 6);
    await waitFor(async () => (await scrape(s)).value('openwx_webhook_queue_depth', { account }) === 0, 'queue drained');
    const lastSync = m.value('openwx_last_sync_timestamp_seconds', { account });
    assert.ok(lastSync > Date.now() / 1000 - 60 && lastSync <= Date.now() / 1000 + 1, `last sync ${lastSync}`);

    // WeChat ends the session; the sandbox confirms the new QR by itself: one relogin.
    const relogin = nextEvent(s.client, 'relogin', () => true, 15_000);
    s.sb.handle.logout();
    await relogin;
    await waitFor(() => s.client.state === 'running', 'running again');
    const after = await scrape(s);
    assert.equal(after.value('openwx_relogins_total', { account }), 1);
    assert.equal(after.value('openwx_state', { account, state: 'running' }), 1);

    if (!after.has('openwx_wechat_request_duration_seconds_count', { account, name: 'webwxsync' })) {
      t.todo('the client transport does not publish openwx:wire:request yet (src/client/transport.ts): no sync latency');
      return;
    }
    assert.ok(after.value('openwx_wechat_request_duration_seconds_count', { account, name: 'webwxsync' }) >= 2);
    assert.ok(after.value('openwx_wechat_request_duration_seconds_count', { account, name: 'synccheck' }) >= 1);
    assert.ok(after.value('openwx_wechat_request_duration_seconds_sum', { account, name: 'webwxsync' }) > 0);
    assert.equal(
      after.value('openwx_wechat_request_duration_seconds_bucket', { account, name: 'webwxsync', le: '+Inf' }),
      after.value('openwx_wechat_request_duration_seconds_count', { account, name: 'webwxsync' }),
    );
  } finally {
    await s.close();
  }
});

test('post_api through the durable outbox: failed attempts, dead letters and deliveries are counted', async () => {
  // Every report fails twice; with two attempts allowed, the first report is given up, the later ones get through.
  const s = await startStack({ postApi: true, noLogin: true, openwx: { token: TOKEN, postMaxAttempts: 2 } });
  try {
    const account = s.client.account;
    let failures = 0;
    s.receiver!.answer = () => (failures++ < 2 ? { status: 500, text: 'down' } : { status: 200, text: 'ok' });
    void s.client.run().catch(() => undefined);
    await waitFor(() => s.client.state === 'running', 'logged in');
    await s.receiver!.waitFor(1);
    await waitFor(async () => {
      const m = await scrape(s);
      return m.value('openwx_webhook_deliveries_total', { account, result: 'delivered' }) === s.receiver!.received.length &&
        m.value('openwx_webhook_queue_depth', { account }) === 0;
    }, 'deliveries counted, queue drained');
    const m = await scrape(s);
    assert.equal(m.value('openwx_webhook_deliveries_total', { account, result: 'failed' }), 1, 'the first attempt, retried');
    assert.equal(m.value('openwx_webhook_deliveries_total', { account, result: 'dead' }), 1, 'the second attempt gave up');
    assert.equal((await s.call('get_dead_letters', {}, 'query', auth)).json.total, 1);
  } finally {
    await s.close();
  }
});

test('metrics_public: /metrics without the token, the API still behind it', async () => {
  const s = await startStack({ openwx: { token: TOKEN, metricsPublic: true } });
  try {
    const m = await scrape(s, {});
    assert.equal(m.value('openwx_state', { state: 'running' }), 1);
    assert.equal((await s.call('get_user_info')).status, 401);
  } finally {
    await s.close();
  }
});
