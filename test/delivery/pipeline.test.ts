/**
 * Pipelined post_api delivery (docs/delivery.md, "Order"): several reports in flight on one connection, answers
 * acted on in outbox order, and what a receiver can see when some requests fail: a report overtakes a failed one
 * only if it was already in flight with it (fewer than `concurrency` reports later), and repeats carry the same
 * event id. `concurrency: 1` keeps the strict one-at-a-time order under the same faults.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/store/db.ts';
import { Outbox, type OutboxRow } from '../../src/store/outbox.ts';
import { DeliveryWorker } from '../../src/delivery/worker.ts';
import { FILE_STEP_BYTES } from '../../src/delivery/media-body.ts';
import { mimeBase64 } from '../../src/model/post-json.ts';
import { Receiver, type Received } from '../helpers/receiver.ts';

const tmpDb = () => join(mkdtempSync(join(tmpdir(), 'owx-pipe-')), 'openwx.db');

/** Listens `server` on a free loopback port and starts nothing yet: an outbox and a worker posting to it, both closed after `t`. */
async function workerFor(
  t: { after(fn: () => unknown): void },
  server: Server,
  o: Omit<ConstructorParameters<typeof DeliveryWorker>[1], 'url'>,
): Promise<{ ob: Outbox; w: DeliveryWorker }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/post_api`;
  const db = openDatabase(tmpDb());
  const ob = new Outbox(db);
  const w = new DeliveryWorker(ob, { ...o, url });
  t.after(async () => {
    await w.stop();
    db.close();
  });
  return { ob, w };
}

interface FaultRun {
  requests: Received[];
  accepted: Received[];
  delivered: number[];
  failedFirst: Set<number>;
}

/**
 * N reports through a receiver that answers 500 to the first attempt of some reports and never answers the first
 * attempt of one (lost answer: the worker's timeout). Resolves once every report was delivered.
 */
async function runWithFaults(concurrency: number, n: number): Promise<FaultRun> {
  const rx = await new Receiver().start();
  const fail500 = new Set([5, 23, 24, 60, 61, 62, 97]);
  const hang = new Set([41]);
  const seen = new Map<number, number>();
  const requests: Received[] = [];
  rx.on('request', (r) => requests.push(r));
  rx.answer = (r) => {
    const i = r.json.i as number;
    const k = (seen.get(i) ?? 0) + 1;
    seen.set(i, k);
    if (k === 1 && hang.has(i)) return { hang: true };
    if (k === 1 && fail500.has(i)) return { status: 500, text: 'try again' };
    return { status: 200, json: { ok: i } };
  };
  const db = openDatabase(tmpDb());
  const ob = new Outbox(db);
  const w = new DeliveryWorker(ob, { account: 'p', url: rx.url, concurrency, timeoutMs: 1000, backoffBaseMs: 5, backoffMaxMs: 20 });
  const delivered: number[] = [];
  const failedFirst = new Set<number>();
  const all = new Promise<void>((resolve) =>
    w.on('delivered', (row: OutboxRow) => {
      delivered.push((JSON.parse(row.body) as { i: number }).i);
      if (delivered.length === n) resolve();
    }),
  );
  w.on('failed', (row) => failedFirst.add((JSON.parse(row.body) as { i: number }).i));
  w.on('dead', () => assert.fail('nothing may die here'));
  for (let i = 0; i < n; i++) ob.enqueue('p', 'receive_message', JSON.stringify({ i }));
  w.start();
  try {
    await all;
    assert.equal(w.depth, 0);
  } finally {
    await w.stop();
    db.close();
    await rx.stop();
  }
  return { requests, accepted: rx.received, delivered, failedFirst };
}

test('pipelined (8): a receiver failing some requests gets everything; answers acted on in order; overtaking bounded by the window; repeats keep the event id', async () => {
  const C = 8;
  const N = 120;
  const r = await runWithFaults(C, N);
  // openwx acts on the answers (delivered events, replies) strictly in outbox order
  assert.deepEqual(r.delivered, [...Array(N).keys()]);
  assert.ok(r.failedFirst.has(5) && r.failedFirst.has(41), 'the faults happened');
  // every report reached the receiver; each report always carried one event id, and the ids differ
  const ids = new Map<number, Set<string>>();
  for (const q of r.requests) {
    const i = q.json.i as number;
    (ids.get(i) ?? ids.set(i, new Set()).get(i)!).add(String(q.headers['x-openwx-event-id']));
  }
  assert.equal(ids.size, N);
  for (const [i, s] of ids) assert.equal(s.size, 1, `report ${i}: one event id across its repeats`);
  assert.equal(new Set([...ids.values()].map((s) => [...s][0])).size, N);
  // order at the receiver (first accepted receipt of each report): a report j may come before an earlier report i
  // only if i failed and j was in the same window (j - i < C)
  const firstAt = new Map<number, number>();
  r.accepted.forEach((q, pos) => {
    const i = q.json.i as number;
    if (!firstAt.has(i)) firstAt.set(i, pos);
  });
  assert.equal(firstAt.size, N, 'none lost');
  const order = [...firstAt.entries()].sort((a, b) => a[1] - b[1]).map(([i]) => i);
  let maxBefore = -1;
  let inversions = 0;
  for (const i of order) {
    if (maxBefore > i) {
      inversions++;
      assert.ok(r.failedFirst.has(i), `report ${i} was overtaken by ${maxBefore} although it never failed`);
      assert.ok(maxBefore - i < C, `report ${i} was overtaken by ${maxBefore}, beyond the window of ${C}`);
    }
    maxBefore = Math.max(maxBefore, i);
  }
  // a report is accepted more than once only when openwx did not get its answer: near a failed report
  const acceptedCount = new Map<number, number>();
  for (const q of r.accepted) acceptedCount.set(q.json.i, (acceptedCount.get(q.json.i) ?? 0) + 1);
  for (const [i, k] of acceptedCount) {
    if (k === 1) continue;
    assert.ok([...r.failedFirst].some((f) => i - f >= 0 && i - f < C), `report ${i} accepted ${k} times far from any failure`);
  }
  // the 500s of one report are retried with X-Openwx-Attempt counting up
  const five = r.requests.filter((q) => q.json.i === 5).map((q) => Number(q.headers['x-openwx-attempt']));
  assert.deepEqual(five.slice(0, 2), [1, 2]);
  // with this fault pattern some reports did overtake a failed one (the documented trade-off of pipelining)
  assert.ok(inversions > 0, 'no overtaking seen: was the delivery pipelined at all?');
});

test('strict (concurrency 1): the same faults keep the exact order at the receiver, one request at a time, each report accepted once', async () => {
  const N = 70;
  const r = await runWithFaults(1, N);
  assert.deepEqual(r.delivered, [...Array(N).keys()]);
  assert.deepEqual(r.accepted.map((q) => q.json.i), [...Array(N).keys()], 'in order, none twice');
  // one at a time, the head blocking the rest: every request is for the oldest report not yet accepted
  let head = 0;
  for (const q of r.requests) {
    assert.equal(q.json.i, head, `a request for ${q.json.i} while ${head} was the head`);
    if (r.accepted.includes(q)) head++;
  }
  assert.equal(head, N);
});

test('pipelining really keeps the configured number of reports in flight, and never more', async (t) => {
  // The receiver answers request k only once request k+C-1 has arrived (the first C-1 at once, to let the window
  // open): only a worker with C reports in flight can make progress.
  const C = 8;
  const N = 60;
  const open: { i: number; res: ServerResponse }[] = [];
  let maxOpen = 0;
  const order: number[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const i = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { i: number }).i;
      order.push(i);
      open.push({ i, res });
      maxOpen = Math.max(maxOpen, open.length);
      const last = order[order.length - 1]!;
      while (open.length > 0 && (open[0]!.i < C - 1 || last - open[0]!.i >= C - 1 || last === N - 1)) {
        open.shift()!.res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      }
    });
  });
  const { ob, w } = await workerFor(t, server, { account: 'd', concurrency: C });
  let delivered = 0;
  const all = new Promise<void>((resolve) => w.on('delivered', () => ++delivered === N && resolve()));
  for (let i = 0; i < N; i++) ob.enqueue('d', 'receive_message', JSON.stringify({ i }));
  w.start();
  await all;
  assert.deepEqual(order, [...Array(N).keys()], 'sent and received in order');
  assert.equal(maxOpen, C, `${C} in flight at once`);
});

test('a media report (streamed body) between text reports: exact order, nothing in flight before it, the reports behind it pipelined while its answer is pending', async (t) => {
  const C = 8;
  const N = 41;
  const M = 20; // the media report's index
  const dir = mkdtempSync(join(tmpdir(), 'owx-pipe-media-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const data = Buffer.alloc(3 * FILE_STEP_BYTES + 1000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + 3) & 0xff;
  const path = join(dir, 'doc.bin');
  writeFileSync(path, data);
  const order: number[] = [];
  const open = new Set<number>();
  let openAtMedia = -1;
  let heldMedia: ServerResponse | null = null;
  let arrivedWhileHeld = 0;
  let mediaBody = '';
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const i = (JSON.parse(text) as { i: number }).i;
      order.push(i);
      const answer = (r: ServerResponse, k: number) => r.writeHead(200, { 'content-type': 'text/plain' }).end('ok', () => open.delete(k));
      open.add(i);
      if (i === M) {
        openAtMedia = open.size - 1;
        mediaBody = text;
        // held until the reports behind it arrived: only a pipelined connection gets them here
        heldMedia = res;
        return;
      }
      if (heldMedia) arrivedWhileHeld++;
      answer(res, i);
      if (heldMedia && (arrivedWhileHeld === C - 1 || i === N - 1)) {
        answer(heldMedia, M);
        heldMedia = null;
      }
    });
  });
  const { ob, w } = await workerFor(t, server, { account: 'm', concurrency: C, secret: 'pipeline-secret-123' });
  const delivered: number[] = [];
  const all = new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`${delivered.length}/${N} delivered after 20 s; received ${order.join(',')}`)), 20_000);
    w.on('delivered', (row: OutboxRow) => {
      delivered.push((JSON.parse(row.body) as { i: number }).i);
      if (delivered.length === N) {
        clearTimeout(deadline);
        resolve();
      }
    });
  });
  for (let i = 0; i < N; i++) {
    if (i === M) ob.enqueue('m', 'send_message', JSON.stringify({ i, format: 'media' }), Date.now(), { path, size: data.length });
    else ob.enqueue('m', 'receive_message', JSON.stringify({ i }));
  }
  w.start();
  await all;
  assert.deepEqual(order, [...Array(N).keys()], 'received in outbox order');
  assert.deepEqual(delivered, [...Array(N).keys()], 'answers acted on in order');
  assert.equal(mediaBody, JSON.stringify({ i: M, format: 'media', media_data: mimeBase64(data) }));
  assert.equal(openAtMedia, 0, 'undici sends a stream body only when nothing else is in flight');
  assert.equal(arrivedWhileHeld, C - 1, 'the reports behind the media report were pipelined while its answer was held');
});
