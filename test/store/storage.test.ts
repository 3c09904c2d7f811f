/**
 * The host's SQLite storage (src/store/sqlite-storage.ts): every call of one event-loop turn, of every account, in
 * one transaction; a failing job rolled back alone; order and read-your-writes; the contract of src/store/storage.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/store/db.ts';
import { Outbox } from '../../src/store/outbox.ts';
import { MessageHistory } from '../../src/store/history.ts';
import { SqliteStorage } from '../../src/store/sqlite-storage.ts';
import type { ReportJob } from '../../src/store/storage.ts';

const tmpDb = () => join(mkdtempSync(join(tmpdir(), 'owx-storage-')), 'openwx.db');

const msg = (msgId: string, body: unknown = { content: msgId }) => ({
  msgId,
  peer: '@friend',
  localId: null,
  class: 'recv' as const,
  time: 1_700_000_000,
  body,
});

const job = (msgId: string, now = 1000): ReportJob => ({
  message: { record: msg(msgId), ifNew: true },
  report: { kind: 'receive_message', body: JSON.stringify({ id: msgId }), createdAt: now },
});

test('two accounts: their reports of one event-loop turn are committed in ONE transaction, in call order', async (t) => {
  const db = openDatabase(tmpDb());
  const s = new SqliteStorage(db);
  t.after(async () => {
    await s.close();
    db.close();
  });
  const a = s.forAccount('a');
  const b = s.forAccount('b');
  assert.equal(s.forAccount('a'), a, 'one handle per account');
  const before = s.stats.transactions;
  // One turn: both accounts commit (as two reporters would for one sync answer each).
  const [ra, rb, ra2] = await Promise.all([a.commitReports([job('1')]), b.commitReports([job('1'), job('2')]), a.commitReports([job('2')])]);
  assert.equal(s.stats.transactions - before, 1, 'one transaction for both accounts');
  for (const out of [...ra, ...rb, ...ra2]) assert.ok(out.ok && !out.duplicate && out.row);
  const seqs = [ra[0], rb[0], rb[1], ra2[0]].map((o) => (o!.ok ? o!.row!.seq : -1));
  assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), 'rows get seqs in call order');
  // Both accounts' rows and history records are there, keyed by account.
  const ob = new Outbox(db);
  assert.deepEqual(ob.pendingAfter('a', 0, 10).map((r) => JSON.parse(r.body).id), ['1', '2']);
  assert.deepEqual(ob.pendingAfter('b', 0, 10).map((r) => JSON.parse(r.body).id), ['1', '2']);
  assert.equal(new MessageHistory(db, 'a').count(), 2);
  assert.equal(new MessageHistory(db, 'b').count(), 2);
  // The event id given by the caller is kept; one is made when absent.
  const [given] = await a.commitReports([{ report: { kind: 'event:x', body: '{}', createdAt: 1, eventId: 'ev-1' } }]);
  assert.ok(given?.ok && given.row?.eventId === 'ev-1');
  assert.ok(ra[0]?.ok && /^[0-9a-f-]{36}$/.test(ra[0].row!.eventId));
});

test('a job that cannot be stored is dropped alone: the others of the same transaction are kept', async (t) => {
  const db = openDatabase(tmpDb());
  const s = new SqliteStorage(db);
  t.after(async () => {
    await s.close();
    db.close();
  });
  const a = s.forAccount('a');
  const b = s.forAccount('b');
  const before = s.stats.transactions;
  // The bad job's history record goes in, then its outbox insert fails (body NOT NULL): the record must go too.
  const bad: ReportJob = { message: { record: msg('bad'), ifNew: true }, report: { kind: 'receive_message', body: null as unknown as string, createdAt: 1 } };
  const [outs, outsB] = await Promise.all([a.commitReports([job('1'), bad, job('2')]), b.commitReports([job('1')])]);
  assert.equal(s.stats.transactions - before, 1, 'still one transaction');
  assert.ok(outs[0]?.ok && outs[2]?.ok && outsB[0]?.ok);
  assert.equal(outs[1]?.ok, false);
  assert.match(String(!outs[1]!.ok && outs[1]!.error.message), /NOT NULL/);
  const ob = new Outbox(db);
  assert.deepEqual(ob.pendingAfter('a', 0, 10).map((r) => JSON.parse(r.body).id), ['1', '2']);
  assert.equal(ob.depth('b'), 1);
  const history = new MessageHistory(db, 'a');
  assert.equal(history.has('bad'), false, 'the bad job is atomic: its history record was rolled back with it');
  assert.equal(history.count(), 2);
});

test('a message already in the history is a duplicate: nothing stored, no report row', async (t) => {
  const db = openDatabase(tmpDb());
  const s = new SqliteStorage(db);
  t.after(async () => {
    await s.close();
    db.close();
  });
  const a = s.forAccount('a');
  const [first] = await a.commitReports([job('m1')]);
  // WeChat delivers m1 again (in the same turn as a new message).
  const [again, next] = await a.commitReports([job('m1'), job('m2')]);
  assert.ok(first?.ok && !first.duplicate && first.row);
  assert.deepEqual(again, { ok: true, duplicate: true, row: null });
  assert.ok(next?.ok && !next.duplicate && next.row);
  assert.equal(await a.outboxDepth(), 2);
  // A local send is an upsert (ifNew false): never a duplicate.
  const [local] = await a.commitReports([{ message: { record: { ...msg('m1'), class: 'send' }, ifNew: false } }]);
  assert.deepEqual(local, { ok: true, duplicate: false, row: null });
  assert.equal((await a.message('m1'))?.class, 'send');
});

test('reads see the writes called before them; the outbox life cycle through the asynchronous interface', async (t) => {
  const db = openDatabase(tmpDb());
  const s = new SqliteStorage(db);
  t.after(async () => {
    await s.close();
    db.close();
  });
  const a = s.forAccount('a');
  const outs = await a.commitReports([job('1'), job('2'), job('3')]);
  const [r1, r2, r3] = outs.map((o) => (o.ok ? o.row! : assert.fail('stored')));
  // Called in one turn, without awaiting: each read sees what was called before it.
  const started = a.markStarted([r1!.seq, r2!.seq]);
  const pending = a.pendingReports(0, 10);
  const delivered = a.markDelivered([r1!.seq]);
  const failed = a.markFailed(r2!.seq, 'HTTP 500', 5000, true);
  const dead = a.markDead(r3!.seq, 'too old', 6000);
  const depth = a.outboxDepth();
  const deadDepth = a.deadDepth();
  await Promise.all([started, delivered, failed, dead]);
  assert.deepEqual((await pending).map((r) => [r.seq, r.attempts]), [[r1!.seq, 1], [r2!.seq, 1], [r3!.seq, 0]]);
  assert.equal(await depth, 1);
  assert.equal(await deadDepth, 1);
  const [row] = await a.pendingReports(0, 10);
  assert.deepEqual([row?.seq, row?.nextAt, row?.lastError, row?.rejections], [r2!.seq, 5000, 'HTTP 500', 1]);
  const letters = await a.deadLetters(-1);
  assert.deepEqual(letters.map((l) => [l.eventId, l.lastError]), [[r3!.eventId, 'too old']]);
  assert.equal(await a.replayDead([r3!.eventId], 7000), 1);
  const after = await a.pendingReports(0, 10);
  assert.deepEqual(after.map((r) => r.eventId), [r2!.eventId, r3!.eventId], 'replayed at the end, same event id');
  assert.ok(after[1]!.seq > r3!.seq);
  // Answers: claimed once.
  assert.equal(await a.claimAnswer(r1!.eventId, 100), true);
  assert.equal(await a.claimAnswer(r1!.eventId, 200), false);
  assert.equal(await a.purgeAnswered(150), 1);
  // History: noteSent, message, purge by time.
  await a.noteSent({ msgId: 's1', peer: '@p', localId: 'L1', replyTo: 'm0', time: 1_600_000_000 });
  assert.deepEqual([(await a.message('s1'))?.localId, (await a.message('s1'))?.replyTo], ['L1', 'm0']);
  assert.equal(await a.purgeMessages(1_650_000_000), 1);
  assert.equal(await a.message('s1'), undefined);
});

test('a call made in reaction to a commit is committed in the same turn (a follow-up), later calls in the next turn', async (t) => {
  const db = openDatabase(tmpDb());
  const s = new SqliteStorage(db);
  t.after(async () => {
    await s.close();
    db.close();
  });
  const a = s.forAccount('a');
  const b = s.forAccount('b');
  let nextTurn = false;
  const before = s.stats.transactions;
  // As the delivery worker does: rows handed over by the commit, their attempts counted before they are sent; two
  // accounts, several continuations deep.
  const started = await Promise.all(
    [a, b].map(async (st) => {
      const [out] = await st.commitReports([job('1')]);
      setImmediate(() => (nextTurn = true));
      await Promise.resolve();
      await st.markStarted([out!.ok ? out!.row!.seq : -1]);
      return nextTurn;
    }),
  );
  assert.deepEqual(started, [false, false], 'the attempts were committed before the next turn');
  assert.equal(s.stats.transactions - before, 2, 'the commit, then one follow-up for both accounts');
  // A call made after the follow-up's continuations is batched with the next turn again.
  const [late] = await a.commitReports([job('2')]);
  assert.ok(late?.ok);
  await new Promise((r) => setImmediate(r));
  const t0 = s.stats.transactions;
  await Promise.all([a.outboxDepth(), b.outboxDepth()]);
  assert.equal(s.stats.transactions - t0, 1);
});

test('close commits what is queued, then refuses further calls', async () => {
  const db = openDatabase(tmpDb());
  const s = new SqliteStorage(db);
  const a = s.forAccount('a');
  const queued = a.commitReports([job('1')]);
  await s.close();
  const [out] = await queued;
  assert.ok(out?.ok && out.row);
  assert.equal(new Outbox(db).depth('a'), 1, 'committed by close');
  await assert.rejects(a.outboxDepth(), /storage closed/);
  const [late] = await a.commitReports([job('2')]);
  assert.equal(late?.ok, false);
  db.close();
});
