/**
 * OneBot 11 http_post against a real sandbox: `X-Signature` over each body with `v11.secret`, quick operations (the
 * receiver's JSON answer acts: reply with auto_escape / at_sender, kick; delete and ban logged as unsupported,
 * nothing faked; a friend request approved with a remark), an answer acted on once per event even when the event
 * is delivered again after a restart, and `message_sent` for the account's own messages (report_self_message).
 * The secret is in no log line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { startStack, type Stack } from '../helpers/stack.ts';
import { Receiver, type Received } from '../helpers/receiver.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { startSandbox } from '../../src/sandbox/index.ts';
import { openDatabase } from '../../src/store/db.ts';
import { TOKEN } from './helpers.ts';

const SECRET = 'ob11-sign-secret-77ab';

function logSink() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, logger: pino({ level: 'debug' }, stream) };
}

const v11 = (url: string) => ({
  http: false,
  ws: false,
  http_post: [url],
  ws_reverse: [],
  heartbeat_ms: 0,
  message_format: 'string' as const,
  secret: SECRET,
  report_self_message: true,
});

const byText = (r: Receiver, text: string) => r.received.filter((x: Received) => x.json?.post_type === 'message' && x.json.raw_message === text);

test('http_post: X-Signature, quick reply / at_sender / kick, delete and ban unsupported, message_sent, friend request approved with a remark', async () => {
  const hook = await new Receiver().start();
  const log = logSink();
  const s: Stack = await startStack({ openwx: { logger: log.logger, onebot: { accessToken: TOKEN, v11: v11(hook.url) } } });
  try {
    hook.answer = (r) => {
      const ev = r.json ?? {};
      if (ev.raw_message === 'ping') return { json: { reply: '[CQ:at,qq=1] & pong', auto_escape: true } };
      if (ev.raw_message === 'group ping') return { json: { reply: [{ type: 'text', data: { text: '收到' } }] } };
      if (ev.raw_message === 'no at') return { json: { reply: '好的', at_sender: false, delete: true, ban: true, ban_duration: 60 } };
      if (ev.raw_message === 'kick me') return { json: { kick: true } };
      if (ev.raw_message === 'bad reply') return { json: { reply: { no: 'type' } } };
      if (ev.raw_message === 'bad json') return { text: '{"reply": "x"', contentType: 'application/json' };
      if (ev.post_type === 'request') return { json: { approve: true, remark: '林同学' } };
      return { json: {} };
    };
    // X-Signature: sha1 HMAC of the exact body bytes.
    s.sb.handle.inject({ type: 'text', from: '张伟', content: 'ping' });
    await waitFor(() => byText(hook, 'ping').length === 1, 'ping posted');
    const ping = byText(hook, 'ping')[0]!;
    assert.equal(ping.headers['x-signature'], `sha1=${createHmac('sha1', SECRET).update(ping.body).digest('hex')}`);
    assert.equal(ping.headers['x-self-id'], String(ping.json.self_id));
    // Private reply, auto_escape: the CQ code is sent as text. No @ in a private chat.
    await waitFor(() => s.sb.handle.sent().some((x) => x.Content === '[CQ:at,qq=1] & pong'), 'private quick reply sent');
    assert.equal(s.sb.handle.sent().find((x) => x.Content === '[CQ:at,qq=1] & pong')!.ToUserName, s.friendId('张伟'));

    // message_sent: the reply comes back as the account's own message, with target_id = the friend.
    await waitFor(() => hook.received.some((x) => x.json?.post_type === 'message_sent' && x.json.raw_message === '&#91;CQ:at,qq=1&#93; &amp; pong'), 'message_sent of the reply');
    const sent = hook.received.find((x) => x.json?.post_type === 'message_sent')!.json;
    assert.equal(sent.user_id, ping.json.self_id);
    assert.equal(sent.target_id, ping.json.user_id);
    assert.equal(sent.message_type, 'private');
    assert.equal(typeof sent.message_id, 'number');

    // A message the account sent from the phone is a message_sent too.
    s.sb.handle.inject({ type: 'text', from: s.client.user()!.name, to: '张伟', content: 'from my phone' });
    await waitFor(() => hook.received.some((x) => x.json?.post_type === 'message_sent' && x.json.raw_message === 'from my phone'), 'message_sent from the phone');
    const phone = hook.received.find((x) => x.json?.raw_message === 'from my phone')!.json;
    assert.deepEqual([phone.user_id, phone.target_id, phone.sender.user_id], [ping.json.self_id, ping.json.user_id, ping.json.self_id]);

    // Bad answers: a reply that is no message, and JSON that does not parse: a warning each, nothing sent, no crash.
    s.sb.handle.inject({ type: 'text', from: '张伟', content: 'bad reply' });
    s.sb.handle.inject({ type: 'text', from: '张伟', content: 'bad json' });
    await waitFor(() => log.lines.some((l) => /reply is not a message/.test(l)) && log.lines.some((l) => /answered invalid JSON/.test(l)), 'bad answers logged');

    // Group: at_sender by default; segments array.
    s.sb.handle.inject({ type: 'text', group: '技术交流群🚀', from: '赵磊', content: 'group ping' });
    await waitFor(() => s.sb.handle.sent().some((x) => /^@赵磊\u2005收到$/.test(x.Content)), 'group reply with @ of the sender');
    // at_sender false; delete and ban are unsupported: logged, nothing faked (the message is not revoked).
    s.sb.handle.inject({ type: 'text', group: '技术交流群🚀', from: '赵磊', content: 'no at' });
    await waitFor(() => s.sb.handle.sent().some((x) => x.Content === '好的'), 'reply without @');
    await waitFor(() => log.lines.some((l) => /quick operation delete is unsupported/.test(l)) && log.lines.some((l) => /quick operation ban is unsupported/.test(l)), 'delete and ban logged as unsupported');
    // kick: the account owns this group, so WeChat lets it remove the sender.
    const groupId = s.groupId('技术交流群🚀');
    const hasHejie = () => s.client.group(groupId)!.member.some((m) => (m.displayname || m.name) === '何杰');
    assert.ok(hasHejie());
    s.sb.handle.inject({ type: 'text', group: '技术交流群🚀', from: '何杰', content: 'kick me' });
    await waitFor(() => !hasHejie(), 'the sender was kicked');

    // A friend request answered with approve + remark: accepted, and the remark set.
    s.sb.handle.inject({ type: 'friend_request', from: '林悦', content: '你好' });
    await waitFor(() => s.client.friends().some((f) => f.name === '林悦' && f.markname === '林同学'), 'friend accepted with the remark', 15_000);
    // Every body is signed; the secret is in no log line.
    for (const r of hook.received) assert.equal(r.headers['x-signature'], `sha1=${createHmac('sha1', SECRET).update(r.body).digest('hex')}`);
  } finally {
    await s.close();
    await hook.stop();
  }
  assert.ok(log.lines.length > 0);
  for (const l of log.lines) assert.ok(!l.includes(SECRET), `secret in a log line: ${l.slice(0, 200)}`);
});

test('a quick reply is acted on once per event: the same event delivered again after a restart is not replied to again', async () => {
  const sb = await startSandbox({ port: 0, chatter: false, longPollMs: 300, autoLoginMs: 30 });
  const dataDir = mkdtempSync(join(tmpdir(), 'owx-ob-quick-'));
  const hook = await new Receiver().start();
  hook.answer = (r) => (r.json?.raw_message === 'once please' ? { json: { reply: 'only once' } } : { status: 204 });
  const replies = () => sb.handle.sent().filter((x) => x.Content === 'only once');
  const opts = { sandboxInstance: sb, dataDir, openwx: { onebot: { accessToken: TOKEN, v11: v11(hook.url) } } };
  let s = await startStack(opts);
  try {
    s.sb.handle.inject({ type: 'text', from: '王芳', content: 'once please' });
    await waitFor(() => replies().length === 1, 'replied');
    const first = byText(hook, 'once please')[0]!;
    await s.close();
    // The same event again with its event id (a power loss that lost the delivery's commit leaves it so).
    const db = openDatabase(join(dataDir, 'openwx.db'));
    db.prepare('INSERT INTO outbox (event_id, account, kind, body, created_at, next_at) VALUES (?, ?, ?, ?, ?, ?)').run(
      String(first.headers['x-openwx-event-id']), String(first.headers['x-openwx-account']), 'onebot11:message', first.body, Date.now(), Date.now(),
    );
    db.close();
    const log = logSink();
    s = await startStack({ ...opts, openwx: { ...opts.openwx, logger: log.logger } });
    // The http_post sink starts with the account's first event after the restart.
    s.sb.handle.inject({ type: 'text', from: '王芳', content: 'after restart' });
    await waitFor(() => byText(hook, 'once please').length === 2 && byText(hook, 'after restart').length === 1, 'the event came again');
    assert.equal(byText(hook, 'once please')[1]!.headers['x-openwx-event-id'], first.headers['x-openwx-event-id']);
    // The repeated answer was recognised (its claim refused), and nothing was sent for it.
    await waitFor(() => log.lines.some((l) => /quick operation already acted on for this event/.test(l)), 'the repeated answer recognised');
    assert.equal(replies().length, 1, 'the reply reached WeChat exactly once');
  } finally {
    await s.close();
    await hook.stop();
    await sb.close();
  }
});
