/**
 * What the outbox worker does when post_api fails (docs/delivery.md, "Failures and retries"): one overall deadline
 * per attempt (a receiver dripping its answer), the attempt counter across a kill -9, Basic auth from the URL, and
 * the retry classes: refused (a few retries, then a dead letter; the reports behind it go on after the hold),
 * "later" (503 + Retry-After: the line waits as asked), unreachable (the line waits, order kept), strict order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { openDatabase } from '../../src/store/db.ts';
import { Outbox, type OutboxRow } from '../../src/store/outbox.ts';
import { DeliveryWorker, type DeliveryWorkerOptions } from '../../src/delivery/worker.ts';
import { MemoryDelivery } from '../../src/delivery/memory-delivery.ts';
import { resolveOptions } from '../../src/api/options.ts';
import { loadSettings, openwxOptionsOf } from '../../src/cli/config.ts';
import { Receiver, type Received } from '../helpers/receiver.ts';
import { nextEvent, waitFor } from '../helpers/wait-for.ts';

const tmpDb = () => join(mkdtempSync(join(tmpdir(), 'owx-fail-')), 'openwx.db');

type T = { after(fn: () => unknown): void };

/** An outbox on a fresh database and a worker posting to `url`, both closed after the test. */
function workerFor(t: T, o: Omit<DeliveryWorkerOptions, 'account'>, account = 'f'): { ob: Outbox; w: DeliveryWorker } {
  const db = openDatabase(tmpDb());
  const ob = new Outbox(db);
  const w = new DeliveryWorker(ob, { account, backoffBaseMs: 5, backoffMaxMs: 40, ...o });
  t.after(async () => {
    await w.stop();
    db.close();
  });
  return { ob, w };
}

async function receiver(t: T): Promise<Receiver> {
  const rx = await new Receiver().start();
  t.after(() => rx.stop());
  return rx;
}

/** A receiver that answers the headers at once and then drips its body one byte every `everyMs`, never ending. */
async function dripping(t: T, everyMs: number, shouldDrip: (n: number) => boolean): Promise<{ url: string; requests: number[] }> {
  const timers = new Set<NodeJS.Timeout>();
  const requests: number[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const i = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { i: number }).i;
      requests.push(i);
      if (!shouldDrip(requests.length)) {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{');
      const timer = setInterval(() => res.write(' '), everyMs);
      timers.add(timer);
      res.on('close', () => {
        clearInterval(timer);
        timers.delete(timer);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const timer of timers) clearInterval(timer);
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/post_api`, requests };
}

const indexOf = (row: OutboxRow) => (JSON.parse(row.body) as { i: number }).i;

test('a receiver that sends its headers, then drips its body, fails the attempt at post_api_timeout_ms; the report is retried and the ones behind it are delivered', async (t) => {
  // One byte every 50 ms: undici's idle timeouts (headers, body) never trip; only an overall deadline does.
  const rx = await dripping(t, 50, (n) => n === 1);
  const { ob, w } = workerFor(t, { url: rx.url, timeoutMs: 600, holdMs: 100 });
  const delivered: number[] = [];
  w.on('delivered', (row) => delivered.push(indexOf(row)));
  for (let i = 0; i < 4; i++) ob.enqueue('f', 'receive_message', JSON.stringify({ i }));
  const t0 = Date.now();
  const failed = nextEvent<[OutboxRow, string]>(w, 'failed', () => true, 8_000);
  w.start();
  const [row, error] = await failed;
  const took = Date.now() - t0;
  assert.equal(indexOf(row), 0);
  assert.match(error, /post_api_timeout_ms \(600 ms\)/);
  assert.ok(took >= 550 && took < 5_000, `the attempt failed after ${took} ms`);
  await waitFor(() => delivered.length === 4, 'all delivered after the dripping attempt', 8_000);
  assert.deepEqual([...delivered].sort(), [0, 1, 2, 3]);
  assert.equal(ob.depth('f'), 0);
});

test('the in-memory sink (no data folder) has the same overall deadline: a dripping receiver does not hold it forever', async (t) => {
  const rx = await dripping(t, 50, () => true);
  const sink = new MemoryDelivery({ url: rx.url, account: 'm', timeoutMs: 400, attempts: 2, retryDelayMs: 10 });
  t.after(() => sink.close());
  sink.enqueue({ kind: 'receive_message', body: JSON.stringify({ i: 0 }) });
  const t0 = Date.now();
  await sink.flush(8_000);
  const took = Date.now() - t0;
  assert.equal(sink.depth, 0, `still holding the report after ${took} ms`);
  assert.equal(rx.requests.length, 2, 'two attempts, each cut at the deadline');
  assert.ok(took < 5_000);
});

test('X-Openwx-Attempt keeps counting after kill -9: attempts are stored before they are sent', async (t) => {
  const rx = await receiver(t);
  const dbPath = tmpDb();
  // 1st attempt refused (500), 2nd attempt hangs and the process is killed during it; after the restart the next
  // attempt is the 3rd.
  let n = 0;
  rx.answer = () => (++n === 1 ? { status: 500 } : n === 2 ? { hang: true } : { status: 200 });
  const attempts: string[] = [];
  rx.on('request', (r) => attempts.push(String(r.headers['x-openwx-attempt'])));
  const second = nextEvent(rx, 'request', () => attempts.length === 2, 15_000);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '-e', `
      import { openDatabase } from './src/store/db.ts';
      import { Outbox } from './src/store/outbox.ts';
      import { DeliveryWorker } from './src/delivery/worker.ts';
      const ob = new Outbox(openDatabase(${JSON.stringify(dbPath)}));
      ob.enqueue('k', 'receive_message', JSON.stringify({ i: 0 }));
      new DeliveryWorker(ob, { account: 'k', url: ${JSON.stringify(rx.url)}, backoffBaseMs: 5, backoffMaxMs: 10 }).start();
    `],
    { cwd: process.cwd(), stdio: ['ignore', 'ignore', 'inherit'] },
  );
  t.after(() => child.kill('SIGKILL'));
  await second;
  child.kill('SIGKILL');
  await once(child, 'exit');
  const db = openDatabase(dbPath);
  const ob = new Outbox(db);
  assert.equal(ob.head('k')!.attempts, 2, 'the attempt in flight at the kill was stored');
  const w = new DeliveryWorker(ob, { account: 'k', url: rx.url });
  t.after(async () => {
    await w.stop();
    db.close();
  });
  const delivered = nextEvent(w, 'delivered');
  w.start();
  await delivered;
  assert.deepEqual(attempts, ['1', '2', '3']);
});

test('user:password@ in the post_api URL is sent as Basic auth (both sinks), never in a log line', async (t) => {
  const rx = await receiver(t);
  const lines: string[] = [];
  const logger = pino(
    { level: 'trace' },
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString('utf8'));
        cb();
      },
    }),
  );
  let refuse = true;
  rx.answer = () => (refuse ? { status: 500, text: 'crashed' } : { status: 200 });
  const u = new URL(rx.url);
  u.username = 'bot%40home';
  u.password = 'pa%3Ass%20w%C3%B6rd';
  u.search = '?via=owx';
  const url = u.toString();
  const { ob, w } = workerFor(t, { url, logger, rejectedMaxAttempts: 5 });
  ob.enqueue('f', 'receive_message', JSON.stringify({ i: 0 }));
  const failed = nextEvent(w, 'failed');
  w.start();
  await failed;
  refuse = false;
  await rx.waitFor(1);
  const sink = new MemoryDelivery({ url, account: 'm', logger });
  t.after(() => sink.close());
  sink.enqueue({ kind: 'receive_message', body: JSON.stringify({ i: 1 }) });
  await rx.waitFor(2);
  const want = `Basic ${Buffer.from('bot@home:pa:ss wörd', 'utf8').toString('base64')}`;
  for (const r of rx.received) assert.equal(r.headers['authorization'], want);
  const logs = lines.join('');
  assert.ok(lines.some((l) => /post_api delivery failed/.test(l)), 'the failure was logged');
  for (const secret of ['pa:ss', 'pa%3Ass', 'wörd', 'w%C3%B6rd', want.slice('Basic '.length)]) {
    assert.ok(!logs.includes(secret), `a log line carries ${secret}`);
  }
});

test('the request goes to the URL without the credentials (path and query kept)', async (t) => {
  const seen: { url: string; auth: string }[] = [];
  const server = createServer((req, res) => {
    seen.push({ url: String(req.url), auth: String(req.headers.authorization) });
    req.resume();
    req.on('end', () => res.writeHead(200).end('ok'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const url = `http://u:p@127.0.0.1:${(server.address() as AddressInfo).port}/hook/in?token=abc`;
  const { ob, w } = workerFor(t, { url });
  ob.enqueue('f', 'event', '{}');
  const delivered = nextEvent(w, 'delivered');
  w.start();
  await delivered;
  assert.deepEqual(seen, [{ url: '/hook/in?token=abc', auth: `Basic ${Buffer.from('u:p').toString('base64')}` }]);
});

test('a report the receiver refuses (500) is tried post_api_rejected_max_attempts (3) times, then a dead letter; the reports behind it are delivered in order', async (t) => {
  const rx = await receiver(t);
  const requests: Received[] = [];
  rx.on('request', (r) => requests.push(r));
  rx.answer = (r) => (r.json.i === 0 ? { status: 500, text: 'Internal Server Error' } : { status: 200 });
  const { ob, w } = workerFor(t, { url: rx.url });
  const delivered: number[] = [];
  w.on('delivered', (row) => delivered.push(indexOf(row)));
  for (let i = 0; i < 6; i++) ob.enqueue('f', 'receive_message', JSON.stringify({ i }));
  const dead = nextEvent<[OutboxRow, string]>(w, 'dead');
  w.start();
  const [row, error] = await dead;
  assert.equal(indexOf(row), 0);
  assert.equal(error, 'HTTP 500');
  await waitFor(() => delivered.length === 5, 'the others delivered');
  assert.deepEqual(delivered, [1, 2, 3, 4, 5]);
  assert.deepEqual(requests.filter((r) => r.json.i === 0).map((r) => r.headers['x-openwx-attempt']), ['1', '2', '3']);
  assert.deepEqual(rx.received.map((r) => r.json.i), [1, 2, 3, 4, 5], 'in order');
  const [letter] = ob.deadLetters('f');
  assert.equal(letter!.attempts, 3);
  assert.equal(letter!.lastError, 'HTTP 500');
});

test('bounded order: a report refused longer than post_api_hold_ms is passed; the reports behind it go on in order while it is retried on its own connection; it is acted on once delivered', async (t) => {
  const HOLD = 300;
  const rx = await receiver(t);
  let healed = false;
  const requests: Received[] = [];
  rx.on('request', (r) => requests.push(r));
  rx.answer = (r) => (r.json.i === 0 && !healed ? { status: 500 } : { status: 200 });
  const { ob, w } = workerFor(t, { url: rx.url, holdMs: HOLD, rejectedMaxAttempts: 1000 });
  const delivered: number[] = [];
  w.on('delivered', (row) => delivered.push(indexOf(row)));
  let firstFailureAt = 0;
  w.once('failed', () => (firstFailureAt = Date.now()));
  let firstOtherAt = 0;
  rx.on('request', (r) => {
    if (r.json.i !== 0 && !firstOtherAt) firstOtherAt = Date.now();
  });
  for (let i = 0; i < 6; i++) ob.enqueue('f', 'receive_message', JSON.stringify({ i }));
  w.start();
  await waitFor(() => delivered.length === 5, 'the reports behind the refused one delivered');
  assert.deepEqual(delivered, [1, 2, 3, 4, 5], 'in order');
  assert.ok(firstOtherAt - firstFailureAt >= HOLD - 20, `held ${firstOtherAt - firstFailureAt} ms, at least the hold`);
  assert.equal(ob.depth('f'), 1, 'the refused report is still pending…');
  assert.ok(requests.filter((r) => r.json.i === 0).length >= 3, '…and retried');
  // a new report is not held back by it either
  ob.enqueue('f', 'receive_message', JSON.stringify({ i: 6 }));
  w.wake();
  await waitFor(() => delivered.includes(6), 'a later report delivered');
  healed = true;
  await waitFor(() => delivered.includes(0), 'the refused report delivered once the receiver accepts it');
  assert.deepEqual(delivered, [1, 2, 3, 4, 5, 6, 0]);
  assert.equal(ob.depth('f'), 0);
});

test('strict order: a refused report holds everything behind it until it is a dead letter', async (t) => {
  const rx = await receiver(t);
  const requests: Received[] = [];
  rx.on('request', (r) => requests.push(r));
  rx.answer = (r) => (r.json.i === 0 ? { status: 500 } : { status: 200 });
  const { ob, w } = workerFor(t, { url: rx.url, order: 'strict', holdMs: 10, rejectedMaxAttempts: 8 });
  for (let i = 0; i < 4; i++) ob.enqueue('f', 'receive_message', JSON.stringify({ i }));
  const dead = nextEvent(w, 'dead');
  w.start();
  await dead;
  assert.deepEqual(requests.map((r) => r.json.i), [0, 0, 0, 0, 0, 0, 0, 0], 'nothing behind it was sent while it was retried');
  await rx.waitFor(3);
  assert.deepEqual(rx.received.map((r) => r.json.i), [1, 2, 3]);
});

test('"later" (503 with Retry-After) holds the line past post_api_hold_ms and the retry waits as asked', async (t) => {
  const seen: { i: number; at: number }[] = [];
  let busy = 0;
  // A raw server: the Receiver helper cannot send a Retry-After header.
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const i = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { i: number }).i;
      seen.push({ i, at: Date.now() });
      if (i === 0 && busy++ === 0) res.writeHead(503, { 'retry-after': '1', 'content-type': 'text/plain' }).end('later');
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  // Retry-After is honoured up to the longest backoff step (post_api_backoff_max_ms).
  const { ob, w } = workerFor(t, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, holdMs: 50, backoffMaxMs: 2_000 });
  const delivered: number[] = [];
  w.on('delivered', (row) => delivered.push(indexOf(row)));
  for (let i = 0; i < 3; i++) ob.enqueue('f', 'receive_message', JSON.stringify({ i }));
  w.start();
  await waitFor(() => delivered.length === 3, 'all delivered', 8_000);
  assert.deepEqual(delivered, [0, 1, 2]);
  assert.deepEqual(seen.map((s) => s.i), [0, 0, 1, 2], 'nothing passed the busy report');
  const wait = seen[1]!.at - seen[0]!.at;
  assert.ok(wait >= 950, `retried after ${wait} ms; Retry-After asked for 1 s`);
});

test('an unreachable receiver (connection refused) holds the line past post_api_hold_ms: once it is back, every report arrives once, in order', async (t) => {
  const probe = await new Receiver().start();
  const port = probe.port;
  const url = probe.url;
  await probe.stop();
  const { ob, w } = workerFor(t, { url, holdMs: 20, backoffBaseMs: 10, backoffMaxMs: 30 });
  let refused = 0;
  w.on('failed', (_row, error) => {
    if (/ECONNREFUSED|connect/i.test(error)) refused++;
  });
  for (let i = 0; i < 5; i++) ob.enqueue('f', 'receive_message', JSON.stringify({ i }));
  w.start();
  await waitFor(() => refused >= 5, 'several refused attempts (longer than the hold)');
  const rx = new Receiver();
  const requests: Received[] = [];
  rx.on('request', (r) => requests.push(r));
  await rx.start(port);
  t.after(() => rx.stop());
  await rx.waitFor(5);
  assert.deepEqual(requests.map((r) => r.json.i), [0, 1, 2, 3, 4], 'in order, each once');
});

test('defaults: the attempt timeout covers a handler that runs a consult (30 s); bounded order; a bad order is a clear settings error', () => {
  const s = loadSettings({ env: {} });
  assert.ok(s.post_api_timeout_ms >= 35_000, `post_api_timeout_ms ${s.post_api_timeout_ms}`);
  assert.equal(s.post_api_order, 'bounded');
  assert.equal(s.post_api_rejected_max_attempts, 3);
  assert.ok(s.post_api_hold_ms > 0 && s.post_api_hold_ms <= 10_000);
  const o = resolveOptions(openwxOptionsOf(s));
  assert.equal(o.postTimeoutMs, s.post_api_timeout_ms);
  assert.equal(o.postOrder, 'bounded');
  assert.ok(resolveOptions({}).postTimeoutMs >= 35_000, 'the library default too');
  assert.equal(resolveOptions(openwxOptionsOf(loadSettings({ env: { OPENWX_POST_API_ORDER: 'strict' } }))).postOrder, 'strict');
  assert.throws(() => loadSettings({ env: { OPENWX_POST_API_ORDER: 'fifo' } }), /invalid setting post_api_order: expected bounded or strict/);
});
