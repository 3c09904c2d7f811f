/**
 * Durable post_api delivery end to end: sandbox → Account → reporter → SQLite outbox → DeliveryWorker → a real
 * receiver. The receiver goes down while messages arrive, reports are dead-lettered and replayed, the stack is
 * restarted on the same data folder (history, revoke, self-reply guard), WeChat re-deliveries are not reported twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox } from '../../src/sandbox/index.ts';
import { verify } from '../../src/delivery/sign.ts';
import type { OutboxDelivery } from '../../src/delivery/outbox-delivery.ts';
import type { Message } from '../../src/model/types.ts';
import { Receiver, type Received } from '../helpers/receiver.ts';
import { startStack } from '../helpers/stack.ts';
import { nextEvent, waitFor } from '../helpers/wait-for.ts';

const SECRET = 'whsec-outbox-test-1234';

type Stack = Awaited<ReturnType<typeof startStack>>;

/** Resolves once the login's own reports were delivered and the outbox is empty. */
function loginDelivered(s: Stack): Promise<unknown> {
  const outbox = s.api.store.outbox!;
  return waitFor(() => outbox.depth === 0 && s.receiver!.received.some((r) => r.json?.event === 'login'), 'login reports delivered');
}

/** The accepted reports whose content starts with `prefix`, in arrival order. */
function withPrefix(s: Stack, prefix: string): Received[] {
  return s.receiver!.received.filter((r) => String(r.json?.content).startsWith(prefix));
}

/** Waits until at least `n` reports with content starting with `prefix` were accepted; returns them. */
function nWithPrefix(s: Stack, prefix: string, n: number, what: string, ms?: number): Promise<Received[]> {
  return waitFor(() => {
    const got = withPrefix(s, prefix);
    return got.length >= n ? got : null;
  }, what, ms);
}

test('receiver down while messages arrive: the outbox holds them all, then delivers each once, in order, signed', async () => {
  const s = await startStack({ postApi: true, openwx: { postApiSecret: SECRET } });
  try {
    const rx = s.receiver!;
    const outbox = s.api.store.outbox!;
    assert.ok(outbox, 'a data folder makes the outbox the sink');
    await loginDelivered(s);
    const attempts: Received[] = [];
    rx.on('request', (r) => attempts.push(r));
    let down = true;
    rx.answer = () => (down ? { status: 503, text: 'down for maintenance' } : { status: 200, text: 'ok' });
    const N = 40;
    const seen: string[] = [];
    s.client.on('receive_message', (m) => seen.push(m.content));
    const firstFailure = nextEvent(outbox, 'failed');
    for (let i = 0; i < N; i++) s.sb.handle.inject({ type: 'text', from: '王芳', content: `停机 ${i}` });
    await firstFailure;
    // every message reached the client and sits in the outbox while the receiver is down
    await waitFor(() => seen.filter((c) => c.startsWith('停机 ')).length === N, 'all messages received by the client');
    await waitFor(() => outbox.depth >= N, 'all messages in the outbox');
    const info = await s.call('get_client_info');
    assert.ok(info.json.outbox_depth >= N, `outbox_depth ${info.json.outbox_depth}`);
    assert.equal(info.json.dead_letters, 0);
    assert.ok(!rx.received.some((r) => String(r.json?.content).startsWith('停机 ')), 'nothing accepted while down');
    assert.ok(attempts.length >= 1 && attempts.every((r) => r.json?.content === '停机 0'), 'the head blocks the rest while it fails');

    down = false;
    await nWithPrefix(s, '停机 ', N, 'all delivered after the outage', 20_000);
    await waitFor(() => outbox.depth === 0, 'outbox drained');
    const ok = withPrefix(s, '停机 ');
    assert.deepEqual(ok.map((r) => r.json.content), [...Array(N).keys()].map((i) => `停机 ${i}`), 'in order, none lost, none twice');
    const ids = ok.map((r) => String(r.headers['x-openwx-event-id']));
    assert.equal(new Set(ids).size, N, 'one event id per report');
    // retries of the head carried the same event id as its final delivery
    assert.ok(attempts.filter((r) => r.json?.content === '停机 0').every((r) => r.headers['x-openwx-event-id'] === ids[0]));
    for (const r of ok) {
      assert.equal(r.headers['x-openwx-account'], 'default');
      const sig = { timestamp: String(r.headers['x-openwx-timestamp']), signature: String(r.headers['x-openwx-signature']) };
      assert.ok(verify(SECRET, sig, r.body), 'signature verifies over the raw body');
      assert.equal(verify('another-secret', sig, r.body), false);
    }
    assert.equal((await s.call('get_client_info')).json.outbox_depth, 0);
  } finally {
    await s.close();
  }
});

// Strict mode (post_api_concurrency 1, one report at a time): the exact order survives lost answers.
test('strict delivery: receiver process gone (connection refused), then answers lost (timeouts): nothing lost, in order, repeats only under the same event id', async () => {
  const s = await startStack({ postApi: true, openwx: { postTimeoutMs: 250, postConcurrency: 1 } });
  let rx2: Receiver | null = null;
  try {
    const outbox = s.api.store.outbox!;
    await waitFor(() => outbox.depth === 0 && s.receiver!.received.some((r) => r.json?.event === 'login'), 'login reports delivered');
    const port = s.receiver!.port;
    await s.receiver!.stop();
    const M = 8;
    const refused = nextEvent<[unknown, string]>(outbox, 'failed', (_row, error) => /ECONNREFUSED|connect/i.test(error));
    for (let i = 0; i < M; i++) s.sb.handle.inject({ type: 'text', from: '李娜🌸', content: `断线 ${i}` });
    await refused;
    await waitFor(() => outbox.depth >= M, 'all messages in the outbox while nothing listens');
    // The receiver comes back; it processes every report, but its answers to the first attempts of three are lost.
    rx2 = new Receiver();
    const requests: Received[] = [];
    const answered = new Set<string>();
    rx2.on('request', (r) => requests.push(r));
    rx2.answer = (r) => {
      const c = String(r.json?.content);
      if (!['断线 0', '断线 3', '断线 7'].includes(c) || answered.has(c)) return { status: 200, text: 'ok' };
      answered.add(c);
      return { hang: true };
    };
    await rx2.start(port);
    const ok = await waitFor(() => {
      const got = rx2!.received.filter((r) => String(r.json?.content).startsWith('断线 '));
      return got.length >= M ? got : null;
    }, 'all delivered after the receiver came back', 30_000);
    assert.deepEqual(ok.map((r) => r.json.content), [...Array(M).keys()].map((i) => `断线 ${i}`), 'in order, none lost');
    const mine = requests.filter((r) => String(r.json?.content).startsWith('断线 '));
    for (const c of ['断线 0', '断线 3', '断线 7']) assert.ok(mine.filter((r) => r.json.content === c).length >= 2, `${c} seen again after its answer was lost`);
    for (let i = 0; i < M; i++) {
      const ids = new Set(mine.filter((r) => r.json.content === `断线 ${i}`).map((r) => r.headers['x-openwx-event-id']));
      assert.equal(ids.size, 1, `断线 ${i}: every repeat carries the same event id`);
    }
    assert.equal(new Set(ok.map((r) => r.headers['x-openwx-event-id'])).size, M);
    assert.ok(mine.some((r) => Number(r.headers['x-openwx-attempt']) > 1), 'X-Openwx-Attempt counts the retries');
  } finally {
    await rx2?.stop();
    await s.close();
  }
});

// Pipelined (the default, 8 in flight): the reports in flight behind one whose answer is lost can reach the receiver
// before its retry (docs/delivery.md, "Order"); nothing is lost, repeats keep their event id, openwx acts on the
// answers in order.
test('pipelined delivery: connection refused, then answers lost: nothing lost, overtaking only within the window of a failed report, same event ids', async () => {
  const s = await startStack({ postApi: true, openwx: { postTimeoutMs: 250 } });
  let rx2: Receiver | null = null;
  try {
    const outbox = s.api.store.outbox!;
    await waitFor(() => outbox.depth === 0 && s.receiver!.received.some((r) => r.json?.event === 'login'), 'login reports delivered');
    const port = s.receiver!.port;
    await s.receiver!.stop();
    const M = 24;
    const failedFirst = new Set<string>();
    const deliveredOrder: string[] = [];
    outbox.on('failed', (row) => failedFirst.add(String((JSON.parse(row.body) as { content?: string }).content)));
    outbox.on('delivered', (row) => deliveredOrder.push(String((JSON.parse(row.body) as { content?: string }).content)));
    const refused = nextEvent<[unknown, string]>(outbox, 'failed', (_row, error) => /ECONNREFUSED|connect/i.test(error));
    for (let i = 0; i < M; i++) s.sb.handle.inject({ type: 'text', from: '李娜🌸', content: `管线 ${i}` });
    await refused;
    await waitFor(() => outbox.depth >= M, 'all messages in the outbox while nothing listens');
    rx2 = new Receiver();
    const requests: Received[] = [];
    const answered = new Set<string>();
    rx2.on('request', (r) => requests.push(r));
    const lost = ['管线 0', '管线 9', '管线 17'];
    rx2.answer = (r) => {
      const c = String(r.json?.content);
      if (!lost.includes(c) || answered.has(c)) return { status: 200, text: 'ok' };
      answered.add(c);
      return { hang: true };
    };
    await rx2.start(port);
    await waitFor(() => outbox.depth === 0, 'outbox drained after the receiver came back', 30_000);
    const mine = (list: Received[]) => list.filter((r) => String(r.json?.content).startsWith('管线 '));
    const idx = (r: Received) => Number(String(r.json.content).slice('管线 '.length));
    // openwx acted on the answers (delivered events, replies) in order
    assert.deepEqual(deliveredOrder.filter((c) => c.startsWith('管线 ')), [...Array(M).keys()].map((i) => `管线 ${i}`));
    // none lost; first receipts in order except reports overtaking a failed one within the window (8)
    const firsts: number[] = [];
    for (const r of mine(rx2.received)) if (!firsts.includes(idx(r))) firsts.push(idx(r));
    assert.deepEqual([...firsts].sort((a, b) => a - b), [...Array(M).keys()], 'none lost');
    let maxBefore = -1;
    for (const i of firsts) {
      if (maxBefore > i) {
        assert.ok(failedFirst.has(`管线 ${i}`), `管线 ${i} overtaken by 管线 ${maxBefore} although it never failed`);
        assert.ok(maxBefore - i < 8, `管线 ${i} overtaken by 管线 ${maxBefore}, beyond the window`);
      }
      maxBefore = Math.max(maxBefore, i);
    }
    for (const c of lost) assert.ok(mine(requests).filter((r) => r.json.content === c).length >= 2, `${c} sent again after its answer was lost`);
    for (let i = 0; i < M; i++) {
      const ids = new Set(mine(requests).filter((r) => idx(r) === i).map((r) => r.headers['x-openwx-event-id']));
      assert.equal(ids.size, 1, `管线 ${i}: every repeat carries the same event id`);
    }
    assert.equal(new Set(mine(rx2.received).map((r) => r.headers['x-openwx-event-id'])).size, M);
  } finally {
    await rx2?.stop();
    await s.close();
  }
});

test('a report the receiver keeps refusing becomes a dead letter; it can be listed and replayed with its event id', async () => {
  const s = await startStack({ postApi: true, openwx: { postMaxAttempts: 2 } });
  try {
    const rx = s.receiver!;
    const outbox = s.api.store.outbox as OutboxDelivery;
    rx.answer = (r) => (r.json?.content === '毒丸' ? { status: 400, text: 'no' } : { status: 200, text: 'ok' });
    const dead = nextEvent(outbox, 'dead');
    s.sb.handle.inject({ type: 'text', from: '赵磊', content: '毒丸' });
    s.sb.handle.inject({ type: 'text', from: '赵磊', content: '后面的' });
    await dead;
    await waitFor(() => rx.received.find((r) => r.json?.content === '后面的'), 'the queue moved on');
    const info = (await s.call('get_client_info')).json;
    assert.equal(info.dead_letters, 1);
    const list = (await s.call('get_dead_letters')).json;
    assert.equal(list.code, 0);
    assert.equal(list.total, 1);
    const [d] = list.dead_letters;
    assert.equal(d.kind, 'receive_message');
    assert.equal(d.report.content, '毒丸');
    assert.equal(d.attempts, 2);
    assert.equal(d.last_error, 'HTTP 400');
    assert.ok(d.died_at >= d.created_at);
    assert.equal((await s.call('get_dead_letters', { limit: '0' })).status, 400);
    const unknown = (await s.call('replay_dead_letters', { event_id: 'no-such-event' })).json;
    assert.deepEqual(unknown, { code: 100, status: 'dead letter no-such-event not found', replayed: 0, not_found: ['no-such-event'] });
    assert.equal((await s.call('replay_dead_letters', { event_id: '' })).status, 400);

    rx.answer = () => ({ status: 200, text: 'ok' });
    const replay = (await s.call('replay_dead_letters', { event_id: `${d.event_id},nope` }, 'json')).json;
    assert.deepEqual(replay, { code: 0, status: 'success', replayed: 1, not_found: ['nope'] });
    const again = await waitFor(() => rx.received.find((r) => r.json?.content === '毒丸'), 'replayed report delivered');
    assert.equal(again.headers['x-openwx-event-id'], d.event_id, 'a replayed report keeps its event id');
    assert.equal((await s.call('get_dead_letters')).json.total, 0);
    assert.deepEqual((await s.call('replay_dead_letters')).json, { code: 0, status: 'success', replayed: 0 });
  } finally {
    await s.close();
  }
});

test('a restart on the same data folder: pending reports delivered, revoke by bare MsgID, self-reply guard and reply context kept', async () => {
  const sb = await startSandbox({ port: 0, chatter: false, longPollMs: 300, autoLoginMs: 30 });
  const rx = await new Receiver().start();
  const dataDir = mkdtempSync(join(tmpdir(), 'owx-restart-'));
  try {
    // Reports the receiver refuses stay in the outbox (no dead-lettering during this test).
    const openwx = { postMaxAttempts: 100_000 };
    let s = await startStack({ sandboxInstance: sb, receiverInstance: rx, dataDir, openwx });
    const sent = (await s.call('send_friend_message', { markname: '老张', content: '待撤回' })).json;
    assert.equal(sent.code, 0);
    // The receiver replies to 请回复; the send_message report of that reply (and a question) stay in the outbox.
    rx.answer = (r) =>
      r.json?.content === '请回复'
        ? { json: { reply: '自动回复' } }
        : r.json?.content === '自动回复' || r.json?.content === '重启后再答'
          ? { status: 503 }
          : { status: 200, text: 'ok' };
    s.sb.handle.inject({ type: 'text', from: '陈静', content: '请回复' });
    await waitFor(() => sb.handle.sent().find((x) => x.Content === '自动回复'), 'reply sent');
    const outbox = s.api.store.outbox!;
    await nextEvent<[{ body: string }]>(outbox, 'failed', (row) => row.body.includes('自动回复'));
    const depth = outbox.depth;
    s.sb.handle.inject({ type: 'text', from: '陈静', content: '重启后再答' });
    await waitFor(() => outbox.depth > depth, 'the question queued behind the failing report');
    const recvId = s.client.searchFriends({ name: '陈静' })[0]!.id;
    await s.close();
    assert.equal(statSync(join(dataDir, 'openwx.db')).mode & 0o777, 0o600);

    // Restart: the receiver now answers every report with a reply.
    rx.answer = (r) => (r.json?.post_type === 'receive_message' || r.json?.post_type === 'send_message' ? { json: { reply: '重启后的回复' } } : { status: 200, text: 'ok' });
    // The outbox resumes before the login: the pending reports are delivered (and answered) while logging in.
    s = await startStack({ sandboxInstance: sb, receiverInstance: rx, dataDir, openwx, noLogin: true });
    try {
      await waitFor(() => rx.received.find((r) => r.json?.content === '自动回复'), 'pending send_message report delivered after restart');
      await waitFor(() => rx.received.find((r) => r.json?.content === '重启后再答'), 'pending question delivered after restart');
      assert.equal(s.client.state, 'init');
      void s.client.run();
      await waitFor(() => s.client.state === 'running', 'resumed');
      assert.equal(s.client.searchFriends({ name: '陈静' })[0]!.id, recvId, 'session resumed: same ids');
      // the question's reply goes to the chat stored in the report (reply context survived the restart)…
      const replies = await waitFor(() => {
        const r = sb.handle.sent().filter((x) => x.Content === '重启后的回复');
        return r.length >= 1 ? r : null;
      }, 'reply to the question after restart');
      assert.equal(replies[0]!.ToUserName, recvId);
      // …while our own earlier reply (known from the history) triggers nothing
      await waitFor(() => s.api.reporter.stats.ownRepliesIgnored >= 1, 'own reply recognised after restart');
      await waitFor(() => s.api.store.outbox!.depth === 0, 'outbox drained');
      assert.equal(sb.handle.sent().filter((x) => x.Content === '重启后的回复').length, 1, 'exactly one reply: none to our own reply');

      rx.answer = () => ({ status: 200, text: 'ok' });
      // revoke_message with the bare MsgID after the restart: the history knows the chat
      const r = (await s.call('revoke_message', { id: sent.msg_id })).json;
      assert.deepEqual(r, { id: sent.msg_id, code: 0, status: 'revoke success' });
      const revoked = sb.handle.sent().find((x) => x.MsgID === sent.msg_id)!;
      assert.equal(revoked.revoked, true);
      // the revoke carries the send's original LocalID (from the history), not a fresh one
      assert.equal(revoked.revokeClientMsgId, revoked.LocalID);
      const question = rx.received.find((x) => x.json?.content === '重启后再答')!.json;
      const notMine = (await s.call('revoke_message', { id: question.id })).json;
      assert.equal(notMine.code, 201);
      assert.equal(notMine.reason, 'only messages this account sent can be revoked');
      const unknown = (await s.call('revoke_message', { id: '12345' })).json;
      assert.equal(unknown.code, 201);
      assert.match(unknown.reason, /not in the history/);
      const history = s.api.store.history!;
      assert.equal(history.get(sent.msg_id)!.peer, s.friendId('张伟'));
      assert.equal(history.get(msgIdOfJson(question))!.class, 'recv');
    } finally {
      await s.close();
    }
  } finally {
    await rx.stop();
    await sb.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

function msgIdOfJson(j: { id: string }): string {
  return j.id.split(':')[0]!;
}

test('a message WeChat delivers again (same MsgID) is recorded and reported once; history is purged by age', async () => {
  const s = await startStack({ postApi: true, openwx: { historyPurgeIntervalMs: 20 } });
  try {
    const got = nextEvent<[Message]>(s.client, 'receive_message', (m) => m.content === '只报一次');
    s.sb.handle.inject({ type: 'text', from: '李娜🌸', content: '只报一次' });
    const [m] = await got;
    await waitFor(() => s.receiver!.received.find((r) => r.json?.content === '只报一次'), 'reported');
    // what the client emits when WeChat re-sends a message the saved SyncKey had not acknowledged
    s.client.emit('receive_message', { ...m });
    await waitFor(() => s.api.reporter.stats.duplicates >= 1, 'duplicate recognised');
    s.sb.handle.inject({ type: 'text', from: '李娜🌸', content: '之后的' });
    await waitFor(() => s.receiver!.received.find((r) => r.json?.content === '之后的'), 'later message reported');
    assert.equal(s.receiver!.received.filter((r) => r.json?.content === '只报一次').length, 1);
    const events = (await s.call('check_event')).json as { content?: string }[];
    assert.equal(events.filter((e) => e.content === '只报一次').length, 1, 'check_event queued it once');
    const history = s.api.store.history!;
    assert.equal(history.get(m.id)!.peer, s.friendId('李娜🌸'));
    // retention: a message older than history_retention_days (30) disappears at the next purge
    history.put({ msgId: 'ancient', peer: '@x', localId: null, class: 'recv', time: Math.floor(Date.now() / 1000) - 31 * 86400, body: {} });
    await waitFor(() => !history.has('ancient'), 'old message purged');
    assert.ok(history.has(m.id));
  } finally {
    await s.close();
  }
});

test('without a data folder the in-memory sink is used, and it sends the same headers (event id, signature)', async () => {
  const s = await startStack({ postApi: true, openwx: { dataDir: undefined, postApiSecret: SECRET } });
  try {
    assert.equal(s.api.store.outbox, null);
    assert.equal(s.api.store.history, null);
    s.sb.handle.inject({ type: 'text', from: '王芳', content: '内存投递' });
    const r = await waitFor(() => s.receiver!.received.find((x) => x.json?.content === '内存投递'), 'delivered');
    assert.match(String(r.headers['x-openwx-event-id']), /^[0-9a-f-]{36}$/);
    assert.equal(r.headers['x-openwx-attempt'], '1');
    assert.ok(verify(SECRET, { timestamp: String(r.headers['x-openwx-timestamp']), signature: String(r.headers['x-openwx-signature']) }, r.body));
    const info = (await s.call('get_client_info')).json;
    assert.equal(info.dead_letters, 0);
    assert.equal(typeof info.outbox_depth, 'number');
    assert.deepEqual((await s.call('get_dead_letters')).json, { code: 0, status: 'success', total: 0, dead_letters: [] });
  } finally {
    await s.close();
  }
});

test('the reports of one sync answer are stored in one transaction, before any of them is sent', async () => {
  const s = await startStack({ postApi: true });
  try {
    const rx = s.receiver!;
    await loginDelivered(s);
    const db = s.api.store.db!;
    // Count the outermost transactions (nested ones are savepoints) and check, at every POST, that the report was
    // committed: it is in the outbox and its message in the history, and no transaction is open.
    const transaction = db.transaction.bind(db);
    let outer = 0;
    (db as { transaction: typeof db.transaction }).transaction = ((fn: (...a: unknown[]) => unknown) => {
      const t = transaction(fn);
      return (...a: unknown[]) => {
        if (!db.inTransaction) outer++;
        return t(...a);
      };
    }) as typeof db.transaction;
    const uncommitted: string[] = [];
    rx.on('request', (r) => {
      const c = String(r.json?.content);
      if (!c.startsWith('批量 ')) return;
      const row = db.prepare('SELECT 1 FROM outbox WHERE event_id = ?').get(String(r.headers['x-openwx-event-id']));
      if (!row || !s.api.store.history!.has(String(r.json.id).split(':')[0]!)) uncommitted.push(c);
    });
    const N = 30;
    for (let i = 0; i < N; i++) s.sb.handle.inject({ type: 'text', from: '王芳', content: `批量 ${i}` });
    const got = await nWithPrefix(s, '批量 ', N, 'all delivered');
    assert.deepEqual(got.map((r) => r.json.content), [...Array(N).keys()].map((i) => `批量 ${i}`));
    assert.deepEqual(uncommitted, [], 'every report was committed (outbox row and history record) before its POST');
    // one webwxsync answer carried the 30 messages: a handful of transactions (the batch, the delivered-row
    // deletions), not one or two per message
    assert.ok(outer <= 12, `${outer} transactions for ${N} reports`);
  } finally {
    await s.close();
  }
});

test('a report that cannot be stored is dropped alone: the rest of its sync batch is stored and delivered in order', async () => {
  const s = await startStack({ postApi: true });
  try {
    const outbox = s.api.store.outbox!;
    await loginDelivered(s);
    const db = s.api.store.db!;
    // SQLite refuses one report's outbox row (as a full disk or a constraint would), in the middle of a batch.
    db.exec(`CREATE TEMP TRIGGER refuse BEFORE INSERT ON outbox WHEN NEW.body LIKE '%坏批 2%'
             BEGIN SELECT RAISE(ABORT, 'refused for the test'); END`);
    const seen: Message[] = [];
    s.client.on('receive_message', (m) => seen.push(m));
    for (let i = 0; i < 5; i++) s.sb.handle.inject({ type: 'text', from: '王芳', content: `坏批 ${i}` });
    const got = await nWithPrefix(s, '坏批 ', 4, 'the other four delivered');
    assert.deepEqual(got.map((r) => r.json.content), ['坏批 0', '坏批 1', '坏批 3', '坏批 4']);
    await waitFor(() => outbox.depth === 0, 'outbox drained');
    const history = s.api.store.history!;
    const id = (c: string) => String(seen.find((m) => m.content === c)!.id);
    for (const c of ['坏批 0', '坏批 1', '坏批 3', '坏批 4']) assert.ok(history.has(id(c)), `${c} in the history`);
    // its history record rolled back with its outbox row: never one without the other
    assert.equal(history.has(id('坏批 2')), false);
  } finally {
    await s.close();
  }
});
