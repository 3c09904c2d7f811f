/**
 * The API layer's timers run on the injected clock (src/client/clock.ts), so tests drive them: the check_event
 * poll timeout, a post_api reply waiting for the login, and the history purge.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Account } from '../../src/client/account.ts';
import { EventQueue } from '../../src/api/check-event.ts';
import { openDurableStore } from '../../src/api/durable.ts';
import { resolveOptions } from '../../src/api/options.ts';
import { Reporter, type PostJson } from '../../src/api/reporter.ts';
import { MemoryDelivery } from '../../src/delivery/memory-delivery.ts';
import { messagePostJson } from '../../src/model/post-json.ts';
import type { Message } from '../../src/model/types.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { Receiver } from '../helpers/receiver.ts';
import { waitFor } from '../helpers/wait-for.ts';

const silent = pino({ level: 'silent' });
const tmp = () => mkdtempSync(join(tmpdir(), 'owx-report-clock-'));

test('check_event: a poll with nothing queued times out when the injected clock says so', async () => {
  const clock = new FakeClock(Date.now());
  const q = new EventQueue<PostJson>(20, 30_000, { clock });
  let got: PostJson[] | null = null;
  void q.poll().then((items) => (got = items));
  await clock.advance(29_999);
  assert.equal(got, null, 'still waiting one fake millisecond before its timeout');
  await clock.advance(1);
  assert.deepEqual(got, []);
  assert.equal(q.waiting, 0);
  assert.equal(clock.pending, 0);
});

test('reporter: a reply waiting for the login gives up after replyLoginWaitMs on the injected clock; stop() ends a wait and clears its timer', async (t) => {
  const rx = await new Receiver().start();
  t.after(() => rx.stop());
  rx.answer = () => ({ status: 200, json: { reply: 'pong' } });
  const clock = new FakeClock(Date.now());
  // A real account that was never started: it is not running, so a reply has to wait for its login.
  const client = new Account({ dataDir: tmp(), showQrInTerminal: false }, { logger: silent, output: null });
  assert.equal(client.state, 'init');
  const options = resolveOptions({ post_api: rx.url });
  const delivery = new MemoryDelivery({ url: rx.url, account: client.account }); // its own timers: the system clock
  t.after(() => delivery.close());
  const reporter = new Reporter(client, {
    options, events: new EventQueue<PostJson>(), delivery, logger: silent, clock, replyLoginWaitMs: 60_000,
    toJson: (m: Message) => messagePostJson(m, client),
  });
  const report = (id: string) =>
    delivery.enqueue({ kind: 'receive_message', body: JSON.stringify({ id, type: 'friend_message', format: 'text', class: 'recv', sender_id: 'u1', content: 'ping' }) });

  report('m1');
  await waitFor(() => rx.received.length === 1 && clock.pending === 1, 'the reply waiting on the fake clock');
  assert.equal(clock.nextAt(), clock.now() + 60_000);
  await clock.advance(59_999);
  assert.equal(reporter.stats.replyFailures, 0, 'still waiting');
  await clock.advance(1);
  await waitFor(() => reporter.stats.replyFailures === 1, 'the reply given up');
  assert.equal(reporter.stats.replies, 0);

  report('m2');
  await waitFor(() => rx.received.length === 2 && clock.pending === 1, 'a second reply waiting');
  reporter.stop();
  assert.equal(clock.pending, 0, 'stop() cleared the wait timer');
  await waitFor(() => reporter.stats.replyFailures === 2, 'the waiting reply ended by stop()');
});

test('durable store: the history purge runs every historyPurgeIntervalMs of the injected clock, against its time', async (t) => {
  const clock = new FakeClock(Date.now());
  const hourMs = 3600_000;
  const options = resolveOptions({ dataDir: tmp(), historyRetentionDays: 1, historyPurgeIntervalMs: hourMs });
  const store = openDurableStore({ account: 'a', options, logger: silent, clock });
  t.after(() => store.close());
  const history = store.history!;
  history.put({ msgId: 'old', peer: 'p', localId: null, class: 'recv', time: Math.floor(clock.now() / 1000), body: {} });
  assert.equal(clock.pending, 1, 'the purge timer is on the clock');
  // one fake day later the message is past the retention; the purge at the next interval removes it
  await clock.advance(24 * hourMs - 1);
  assert.ok(history.get('old'), 'kept while within the retention');
  await clock.advance(hourMs + 1);
  assert.equal(history.get('old'), undefined, 'purged on the clock');
  assert.equal(clock.pending, 1, 'the purge timer re-armed');
  await store.close();
  assert.equal(clock.pending, 0, 'close() cleared it');
});
