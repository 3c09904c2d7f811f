// Regression: the in-memory post_api sink closed an over-long answer body without an error listener, so a receiver
// answering more than maxResponseBytes crashed the process with an uncaught "Request aborted". Both sinks now read
// answers through src/delivery/post.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryDelivery } from '../../src/delivery/memory-delivery.ts';
import { reportHeaders } from '../../src/delivery/post.ts';
import { verify } from '../../src/delivery/sign.ts';
import { Receiver } from '../helpers/receiver.ts';

test('an over-long answer is cut off quietly; the report counts as delivered with the readable prefix', async (t) => {
  const rx = await new Receiver().start();
  t.after(() => rx.stop());
  rx.answer = () => ({ status: 200, contentType: 'application/json', text: JSON.stringify({ reply: 'x'.repeat(200_000) }) });
  const d = new MemoryDelivery({ url: rx.url, account: 'a', maxResponseBytes: 1024 });
  t.after(() => d.close());
  const answered = new Promise<{ status: number; body: string }>((resolve) => d.onDelivered((_r, res) => resolve(res)));
  d.enqueue({ kind: 'event', body: '{"post_type":"event"}' } as never);
  const res = await answered;
  assert.equal(res.status, 200);
  assert.ok(res.body.length <= 1024 && res.body.startsWith('{"reply":"xx'), String(res.body.length));
});

test('report headers: event id, account, attempt, user agent; a verifiable signature only with a secret', () => {
  const plain = reportHeaders({ account: 'acc', eventId: 'e1', attempt: 2, userAgent: 'ua', body: '{}' });
  assert.deepEqual(plain, { 'content-type': 'application/json', 'x-openwx-event-id': 'e1', 'x-openwx-account': 'acc', 'x-openwx-attempt': '2', 'user-agent': 'ua' });
  const signed = reportHeaders({ account: 'acc', eventId: 'e1', attempt: 1, userAgent: 'ua', secret: 's', body: '{"a":1}' });
  assert.ok(verify('s', { timestamp: signed['x-openwx-timestamp'], signature: signed['x-openwx-signature'] }, '{"a":1}'));
});
