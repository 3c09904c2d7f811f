/**
 * The contract of src/store/storage.ts, as cases run against every implementation (storage-sqlite.test.ts,
 * storage-pg.test.ts): order, durable on resolve, failure isolation, duplicates, the outbox's bookkeeping, dead
 * letters and replay, answers claimed once, the history, purges, rows keyed by account, batching, close.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isOpenwxError } from '../../src/errors.ts';
import type { ReportJob, Storage, StoredMessage } from '../../src/store/storage.ts';

export interface StorageHarness {
  storage: Storage;
  /** Another Storage over the same database, on a connection of its own (the first one stays open). */
  reopen(): Promise<Storage>;
  /** Transactions committed by `storage` so far. */
  transactions(): number;
  close(): Promise<void>;
}

export const msg = (msgId: string, over: Partial<StoredMessage> = {}): StoredMessage => ({
  msgId,
  peer: 'friend-1',
  localId: null,
  class: 'recv',
  time: 1_700_000_000,
  body: { content: `text of ${msgId}`, post_type: 'receive_message' },
  ...over,
});

export const report = (n: number, over: Partial<NonNullable<ReportJob['report']>> = {}): NonNullable<ReportJob['report']> => ({
  kind: 'receive_message',
  body: JSON.stringify({ post_type: 'receive_message', content: `m${n}`, n }),
  createdAt: 1_000 + n,
  ...over,
});

async function withHarness(make: () => Promise<StorageHarness>, fn: (h: StorageHarness) => Promise<void>): Promise<void> {
  const h = await make();
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

export function storageContract(label: string, make: () => Promise<StorageHarness>): void {
  const t = (name: string, fn: (h: StorageHarness) => Promise<void>) => test(`${label}: ${name}`, () => withHarness(make, fn));

  t('calls settle in call order; each report row gets a larger seq; pending rows come back in seq order', async ({ storage }) => {
    const a = storage.forAccount('alice');
    const settled: number[] = [];
    const calls: Promise<unknown>[] = [];
    const depths: Promise<number>[] = [];
    for (let i = 0; i < 20; i++) {
      calls.push(a.commitReports([{ report: report(i) }]).then(() => settled.push(i)));
      if (i % 5 === 4) depths.push(a.outboxDepth());
    }
    await Promise.all(calls);
    assert.deepEqual(settled, Array.from({ length: 20 }, (_, i) => i));
    assert.deepEqual(await Promise.all(depths), [5, 10, 15, 20], 'a read sees the writes called before it, and none after');
    const rows = await a.pendingReports(0, 100);
    assert.deepEqual(rows.map((r) => JSON.parse(r.body).n), Array.from({ length: 20 }, (_, i) => i));
    for (let i = 1; i < rows.length; i++) assert.ok(rows[i]!.seq > rows[i - 1]!.seq);
    const later = await a.pendingReports(rows[9]!.seq, 5);
    assert.deepEqual(later.map((r) => r.seq), rows.slice(10, 15).map((r) => r.seq));
  });

  t('the calls of one turn, of every account, commit in one transaction', async (h) => {
    await h.storage.forAccount('warm').outboxDepth();
    const before = h.transactions();
    const all: Promise<unknown>[] = [];
    for (let i = 0; i < 30; i++) all.push(h.storage.forAccount(`acct${i % 3}`).commitReports([{ report: report(i), message: { record: msg(`b${i}`), ifNew: true } }]));
    const outs = (await Promise.all(all)) as { ok: boolean }[][];
    assert.ok(outs.every((o) => o[0]!.ok));
    assert.equal(h.transactions() - before, 1);
  });

  t('durable on resolve: a new Storage on the same database sees every row whose promise resolved', async (h) => {
    const a = h.storage.forAccount('alice');
    const [out] = await a.commitReports([{ report: report(1, { eventId: 'ev-durable' }), message: { record: msg('M1'), ifNew: true } }]);
    assert.ok(out!.ok && out.row);
    await a.claimAnswer('ev-x', 5);
    await a.noteSent({ msgId: 'S1', peer: 'friend-2', localId: 'L1', replyTo: 'M1', time: 1_700_000_100 });
    const other = await h.reopen();
    try {
      const b = other.forAccount('alice');
      const rows = await b.pendingReports(0, 10);
      assert.deepEqual(rows.map((r) => [r.seq, r.eventId, r.body]), [[out.row.seq, 'ev-durable', report(1).body]]);
      assert.deepEqual((await b.message('M1'))?.body, msg('M1').body);
      assert.equal((await b.message('S1'))?.replyTo, 'M1');
      assert.equal(await b.claimAnswer('ev-x', 6), false, 'the claim is seen by the other storage');
    } finally {
      await other.close();
    }
  });

  t('a job that cannot be stored fails alone, atomically (its history record rolled back too); the others are kept', async ({ storage }) => {
    const a = storage.forAccount('alice');
    const b = storage.forAccount('bob');
    const [outsA, outsB] = await Promise.all([
      a.commitReports([
        { report: report(1, { eventId: 'same' }), message: { record: msg('A1'), ifNew: true } },
        // The same event id again: the outbox refuses it (event ids are unique).
        { report: report(2, { eventId: 'same' }), message: { record: msg('A2'), ifNew: true } },
        { report: report(3), message: { record: msg('A3'), ifNew: true } },
      ]),
      b.commitReports([{ report: report(4) }]),
    ]);
    assert.deepEqual(outsA.map((o) => o.ok), [true, false, true]);
    assert.ok(!outsA[1]!.ok && outsA[1]!.error instanceof Error);
    assert.ok(outsB[0]!.ok);
    assert.equal(await a.message('A2'), undefined, 'the failed job left no history record');
    assert.ok(await a.message('A3'));
    assert.deepEqual((await a.pendingReports(0, 10)).map((r) => JSON.parse(r.body).n), [1, 3]);
    assert.equal(await b.outboxDepth(), 1);
    // The storage still works after the failure.
    assert.ok((await a.commitReports([{ report: report(5) }]))[0]!.ok);
  });

  t('ifNew: a message already in the history is a duplicate and its report is not stored; otherwise it is updated', async ({ storage }) => {
    const a = storage.forAccount('alice');
    const [first] = await a.commitReports([{ message: { record: msg('D1'), ifNew: true }, report: report(1) }]);
    assert.ok(first!.ok && !first.duplicate && first.row);
    const [again] = await a.commitReports([{ message: { record: msg('D1', { body: { changed: true } }), ifNew: true }, report: report(2) }]);
    assert.deepEqual(again, { ok: true, duplicate: true, row: null });
    assert.equal(await a.outboxDepth(), 1);
    assert.deepEqual((await a.message('D1'))?.body, msg('D1').body, 'a duplicate changes nothing');
    const [upd] = await a.commitReports([{ message: { record: msg('D1', { body: { changed: true }, localId: 'L9' }), ifNew: false } }]);
    assert.deepEqual(upd, { ok: true, duplicate: false, row: null });
    const m = await a.message('D1');
    assert.deepEqual(m?.body, { changed: true });
    assert.equal(m?.localId, 'L9');
    // The same MsgID under another account is another message.
    const [other] = await storage.forAccount('bob').commitReports([{ message: { record: msg('D1'), ifNew: true } }]);
    assert.ok(other!.ok && !other.duplicate);
  });

  t('ifNew within one turn: the second job with the same MsgID is the duplicate; updates and plain reports mix in', async ({ storage }) => {
    const a = storage.forAccount('alice');
    const calls = [
      a.commitReports([{ message: { record: msg('T1'), ifNew: true }, report: report(1) }]),
      a.commitReports([{ message: { record: msg('T1'), ifNew: true }, report: report(2) }]),
      a.commitReports([{ message: { record: msg('T2', { class: 'send' }), ifNew: false }, report: report(3) }]),
      a.commitReports([{ report: report(4) }, { message: { record: msg('T3'), ifNew: true } }]),
      a.commitReports([{ message: { record: msg('T2', { localId: 'L2' }), ifNew: false } }]),
    ];
    const outs = (await Promise.all(calls)).flat();
    assert.deepEqual(outs.map((o) => (o.ok ? [o.duplicate, !!o.row] : 'failed')), [[false, true], [true, false], [false, true], [false, true], [false, false], [false, false]]);
    assert.deepEqual((await a.pendingReports(0, 10)).map((r) => JSON.parse(r.body).n), [1, 3, 4]);
    assert.equal((await a.message('T2'))?.localId, 'L2');
    assert.ok(await a.message('T3'));
  });

  t('attempts, failures and deliveries are recorded per row; media references kept', async ({ storage }) => {
    const a = storage.forAccount('alice');
    const outs = await a.commitReports([
      { report: report(1, { media: { path: '/tmp/x.jpg', size: 42 } }) },
      { report: report(2) },
      { report: report(3) },
    ]);
    const seqs = outs.map((o) => (o.ok ? o.row!.seq : -1));
    await a.markStarted([seqs[0]!, seqs[1]!]);
    await a.markStarted([seqs[0]!]);
    await a.markFailed(seqs[0]!, 'HTTP 500', 9_999, true);
    await a.markFailed(seqs[1]!, 'x'.repeat(5_000), 8_888, false);
    await a.markDelivered([seqs[2]!]);
    const rows = await a.pendingReports(0, 10);
    assert.equal(rows.length, 2);
    assert.deepEqual(
      rows.map((r) => ({ attempts: r.attempts, rejections: r.rejections, nextAt: r.nextAt, err: r.lastError?.length, media: r.media })),
      [
        { attempts: 2, rejections: 1, nextAt: 9_999, err: 8, media: { path: '/tmp/x.jpg', size: 42 } },
        { attempts: 1, rejections: 0, nextAt: 8_888, err: 1_000, media: null },
      ],
    );
    assert.equal(rows[0]!.createdAt, 1_001);
    assert.equal(await a.outboxDepth(), 2);
  });

  t('a report stored with its first attempt counted (started) has attempts 1, with or without its history record, in one statement or not', async ({ storage }) => {
    const a = storage.forAccount('alice');
    const outs = await a.commitReports([
      { report: report(1, { started: true }), message: { record: msg('S1'), ifNew: true } },
      { report: report(2) },
      { report: report(3, { started: true }) },
    ]);
    // An update of a history record (not a plain insert) takes the per-job path of a storage that batches.
    outs.push(...(await a.commitReports([{ report: report(4, { started: true }), message: { record: msg('S4', { class: 'send' }), ifNew: false } }])));
    assert.deepEqual(outs.map((o) => (o.ok ? o.row!.attempts : -1)), [1, 0, 1, 1]);
    await a.markStarted([outs[1]!.ok ? outs[1]!.row!.seq : -1]);
    assert.deepEqual((await a.pendingReports(0, 10)).map((r) => r.attempts), [1, 1, 1, 1]);
  });

  t('dead letters keep their event ids, media and order; replay moves them back to the end of the outbox', async ({ storage }) => {
    const a = storage.forAccount('alice');
    const outs = await a.commitReports([1, 2, 3, 4].map((n) => ({ report: report(n, n === 2 ? { media: { path: '/m/2.mp4', size: 7 } } : {}) })));
    const rows = outs.map((o) => (o.ok ? o.row! : null)!);
    await a.markStarted([rows[0]!.seq]);
    await a.markDead(rows[0]!.seq, 'gave up', 50_000);
    await a.markDead(rows[1]!.seq, 'too old', 50_001);
    await a.markDead(rows[2]!.seq, 'refused', 50_002);
    assert.equal(await a.outboxDepth(), 1);
    assert.equal(await a.deadDepth(), 3);
    const dead = await a.deadLetters(-1);
    assert.deepEqual(
      dead.map((d) => [d.eventId, d.attempts, d.lastError, d.diedAt, d.media]),
      [
        [rows[0]!.eventId, 1, 'gave up', 50_000, null],
        [rows[1]!.eventId, 0, 'too old', 50_001, { path: '/m/2.mp4', size: 7 }],
        [rows[2]!.eventId, 0, 'refused', 50_002, null],
      ],
    );
    assert.equal((await a.deadLetters(2)).length, 2);
    assert.equal(await storage.forAccount('bob').deadDepth(), 0, 'dead letters are the account\'s');
    assert.equal(await storage.forAccount('bob').replayDead(undefined, 1), 0);
    assert.equal(await a.replayDead([rows[2]!.eventId, 'unknown-id'], 60_000), 1);
    assert.equal(await a.replayDead(undefined, 61_000), 2);
    assert.equal(await a.deadDepth(), 0);
    const pending = await a.pendingReports(0, 10);
    assert.deepEqual(pending.map((r) => r.eventId), [rows[3]!.eventId, rows[2]!.eventId, rows[0]!.eventId, rows[1]!.eventId]);
    const back = pending.find((r) => r.eventId === rows[1]!.eventId)!;
    assert.deepEqual([back.attempts, back.createdAt, back.nextAt, back.media, back.body], [0, 61_000, 61_000, { path: '/m/2.mp4', size: 7 }, report(2).body]);
    assert.ok(pending.slice(1).every((r) => r.seq > rows[3]!.seq), 'replayed rows come after the pending ones');
  });

  t('an answer is claimed once per account and event id; purgeAnswered forgets old claims', async ({ storage }) => {
    const a = storage.forAccount('alice');
    const b = storage.forAccount('bob');
    const claims = await Promise.all([a.claimAnswer('e1', 100), a.claimAnswer('e1', 101), b.claimAnswer('e1', 102), a.claimAnswer('e2', 500)]);
    assert.deepEqual(claims, [true, false, true, true]);
    assert.ok((await a.purgeAnswered(200)) >= 1);
    assert.equal(await a.claimAnswer('e1', 600), true, 'purged: may be claimed again');
    assert.equal(await a.claimAnswer('e2', 601), false, 'a newer claim is kept');
  });

  t('purgeAnswered forgets only the account\'s own claims (accounts may keep answers for different times)', async ({ storage }) => {
    const a = storage.forAccount('alice');
    const b = storage.forAccount('bob');
    assert.deepEqual(await Promise.all([a.claimAnswer('e1', 100), b.claimAnswer('e1', 100), b.claimAnswer('e2', 100)]), [true, true, true]);
    assert.equal(await a.purgeAnswered(200), 1, 'one claim of alice');
    assert.equal(await b.claimAnswer('e1', 300), false, 'bob\'s claim is kept: his answer is not acted on twice');
    assert.equal(await b.claimAnswer('e2', 300), false);
    assert.equal(await a.claimAnswer('e1', 300), true);
  });

  t('replayDead with an event id given twice replays that dead letter once', async ({ storage }) => {
    const a = storage.forAccount('alice');
    const [out] = await a.commitReports([{ report: report(1) }]);
    const row = out!.ok ? out.row! : assert.fail('not stored');
    await a.markDead(row.seq, 'gave up', 5_000);
    assert.equal(await a.replayDead([row.eventId, row.eventId], 6_000), 1);
    assert.deepEqual((await a.pendingReports(0, 10)).map((r) => r.eventId), [row.eventId]);
    assert.equal(await a.deadDepth(), 0);
  });

  t('the history: noteSent keeps a recorded body, purgeMessages deletes only older messages of the account', async ({ storage }) => {
    const a = storage.forAccount('alice');
    const b = storage.forAccount('bob');
    await a.commitReports([{ message: { record: msg('S1', { class: 'send', time: 1_000 }), ifNew: false } }]);
    await a.noteSent({ msgId: 'S1', peer: 'friend-1', localId: 'L1', replyTo: 'R0' });
    await a.noteSent({ msgId: 'S2', peer: 'friend-3', time: 3_000 });
    await a.commitReports([{ message: { record: msg('R5', { time: 5_000 }), ifNew: true } }]);
    await b.commitReports([{ message: { record: msg('B1', { time: 1_000 }), ifNew: true } }]);
    const s1 = await a.message('S1');
    assert.deepEqual([s1?.body, s1?.localId, s1?.replyTo, s1?.class, s1?.time], [msg('S1').body, 'L1', 'R0', 'send', 1_000]);
    const s2 = await a.message('S2');
    assert.deepEqual([s2?.peer, s2?.class, s2?.time, s2?.localId, s2?.body], ['friend-3', 'send', 3_000, null, {}]);
    assert.equal(await b.message('S1'), undefined, 'rows are the account\'s');
    assert.equal(await a.purgeMessages(4_000), 2);
    assert.equal(await a.message('S1'), undefined);
    assert.ok(await a.message('R5'));
    assert.ok(await b.message('B1'), 'another account\'s history is untouched');
  });

  t('rows are keyed by account: one account never sees another\'s outbox', async ({ storage }) => {
    const a = storage.forAccount('alice');
    const b = storage.forAccount('bob');
    const [ra] = await a.commitReports([{ report: report(1) }]);
    await b.commitReports([{ report: report(2) }, { report: report(3) }]);
    assert.equal(await a.outboxDepth(), 1);
    assert.equal(await b.outboxDepth(), 2);
    assert.deepEqual((await b.pendingReports(0, 10)).map((r) => r.account), ['bob', 'bob']);
    assert.deepEqual((await a.pendingReports(0, 10)).map((r) => r.seq), [ra!.ok ? ra.row!.seq : -1]);
  });

  t('close commits what is queued, then refuses calls', async ({ storage }) => {
    const a = storage.forAccount('alice');
    const queued = a.commitReports([{ report: report(1) }]);
    await storage.close();
    assert.ok((await queued)[0]!.ok);
    await assert.rejects(a.outboxDepth(), (err: unknown) => isOpenwxError(err) && err.code === 'OWX_ERR_STORAGE_CLOSED' && /closed/.test(err.message));
    assert.ok(!(await a.commitReports([{ report: report(2) }]))[0]!.ok, 'a report after close is not stored');
  });
}
