/**
 * v12 webhook and v11 http_post go through the durable post_api machinery: the spec's headers, every event in
 * order, and a refused POST retried until delivered (nothing lost).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, type Stack } from '../helpers/stack.ts';
import { Receiver, type Received } from '../helpers/receiver.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { TOKEN } from './helpers.ts';

let s: Stack;
let r12: Receiver;
let r11: Receiver;

before(async () => {
  r12 = await new Receiver().start();
  r11 = await new Receiver().start();
  s = await startStack({
    openwx: {
      onebot: {
        accessToken: TOKEN,
        v12: { http: false, ws: false, webhook: [r12.url], ws_reverse: [], heartbeat_ms: 0 },
        v11: { http: false, ws: false, http_post: [r11.url], ws_reverse: [], heartbeat_ms: 0, message_format: 'array' },
      },
    },
  });
});
after(async () => {
  await s.close();
  await r12.stop();
  await r11.stop();
});

const messages = (r: Receiver, v: '12' | '11') =>
  r.received.filter((x: Received) => (v === '12' ? x.json?.type === 'message' : x.json?.post_type === 'message'));

test('webhook (v12) and http_post (v11): headers, events in order, refusals retried until delivered', async () => {
  let refuse = 2;
  const refused: Received[] = [];
  r12.answer = (r) => {
    if (refuse-- > 0) {
      refused.push(r);
      return { status: 503, text: 'busy' };
    }
    return { status: 204 };
  };
  for (let i = 1; i <= 5; i++) s.sb.handle.inject({ type: 'text', from: '张伟', content: `hook ${i}` });
  await waitFor(() => messages(r11, '11').length >= 5, 'v11 got five');
  await waitFor(() => messages(r12, '12').length >= 5, 'v12 got five despite the refusals');
  const first12 = messages(r12, '12')[0]!;
  assert.equal(first12.headers['authorization'], `Bearer ${TOKEN}`);
  assert.equal(first12.headers['x-onebot-version'], '12');
  assert.match(String(first12.headers['user-agent']), /^OneBot\/12 \(wechat\) openwx\//);
  assert.deepEqual(first12.json.self, { platform: 'wechat', user_id: s.client.user()!.stable_id });
  const first11 = messages(r11, '11')[0]!;
  assert.equal(first11.headers['x-self-id'], String(first11.json.self_id));
  // in order, each delivered (a refused one delivered again: the same event id)
  const order = (r: Receiver, f: (x: Received) => string) => [...new Set(r.received.map(f))].filter((t) => t.startsWith('hook'));
  assert.deepEqual(order(r12, (x) => x.json?.alt_message ?? ''), ['hook 1', 'hook 2', 'hook 3', 'hook 4', 'hook 5']);
  assert.deepEqual(order(r11, (x) => x.json?.raw_message ?? ''), ['hook 1', 'hook 2', 'hook 3', 'hook 4', 'hook 5']);
  assert.equal(refused.length, 2);
  for (const x of refused) {
    const again = r12.received.find((y) => y.headers['x-openwx-event-id'] === x.headers['x-openwx-event-id']);
    assert.ok(again, 'a refused event is delivered later as the same event');
    assert.equal(again.body, x.body);
  }
});
