import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/store/db.ts';
import { Outbox } from '../../src/store/outbox.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'owx-outbox-'));

test('database and its WAL files are created 0600', () => {
  const p = join(tmp(), 'openwx.db');
  const db = openDatabase(p);
  for (const f of [p, `${p}-wal`, `${p}-shm`]) assert.equal(statSync(f).mode & 0o777, 0o600, f);
  db.close();
});

test('outbox keeps per-account order, survives reopening, dead-letters and replays', () => {
  const p = join(tmp(), 'openwx.db');
  let db = openDatabase(p);
  let ob = new Outbox(db);
  const a1 = ob.enqueue('a', 'receive_message', '{"n":1}');
  ob.enqueue('b', 'event', '{"n":"b1"}');
  ob.enqueue('a', 'receive_message', '{"n":2}');
  assert.equal(ob.depth('a'), 2);
  db.close();
  db = openDatabase(p);
  ob = new Outbox(db);
  assert.deepEqual(ob.pendingAccounts().sort(), ['a', 'b']);
  const h = ob.head('a')!;
  assert.equal(h.eventId, a1);
  assert.equal(h.body, '{"n":1}');
  // an attempt is counted when it starts; a failure records its error (and a refusal) without counting again
  ob.started([h.seq]);
  ob.failed(h.seq, 'HTTP 500', Date.now() + 1000, true);
  assert.equal(ob.head('a')!.attempts, 1);
  assert.equal(ob.head('a')!.rejections, 1);
  assert.equal(ob.head('a')!.lastError, 'HTTP 500');
  ob.started([h.seq]);
  ob.kill(h.seq, 'HTTP 500');
  assert.equal(ob.depth('a'), 1);
  assert.equal(ob.deadDepth('a'), 1);
  const [dead] = ob.deadLetters('a');
  assert.equal(dead!.eventId, a1);
  assert.equal(dead!.attempts, 2);
  assert.equal(ob.replay('a', ['nope']), 0);
  assert.equal(ob.replay('a'), 1);
  assert.equal(ob.deadDepth('a'), 0);
  // replayed rows go to the end and keep their event id
  const first = ob.head('a')!;
  assert.equal(first.body, '{"n":2}');
  ob.delivered(first.seq);
  assert.equal(ob.head('a')!.eventId, a1);
  db.close();
});

test('a media report keeps its file reference in the outbox, in dead letters and through a replay', () => {
  const p = join(tmp(), 'openwx.db');
  const db = openDatabase(p);
  const ob = new Outbox(db);
  const media = { path: '/data/media/a.bin', size: 12345 };
  const id = ob.enqueue('a', 'send_message', '{"format":"media"}', Date.now(), media);
  ob.enqueue('a', 'event', '{"n":2}');
  const [row, plain] = ob.pendingAfter('a', 0, 10);
  assert.deepEqual(row!.media, media);
  assert.equal(row!.body, '{"format":"media"}');
  assert.equal(plain!.media, null);
  ob.kill(row!.seq, 'HTTP 500');
  assert.deepEqual(ob.deadLetters('a')[0]!.media, media);
  assert.equal(ob.replay('a', [id]), 1);
  const back = ob.pendingAfter('a', 0, 10).find((r) => r.eventId === id)!;
  assert.deepEqual(back.media, media);
  // a reference that cannot be used (hand-edited, corrupt) is dropped, the report itself is kept
  db.prepare('UPDATE outbox SET media = ? WHERE event_id = ?').run('{"path":1}', id);
  assert.equal(ob.pendingAfter('a', 0, 10).find((r) => r.eventId === id)!.media, null);
  db.close();
});

test('a database of the earlier format gets the media columns; its pending rows are kept (without media)', async () => {
  const { default: Database } = await import('better-sqlite3');
  const p = join(tmp(), 'openwx.db');
  const old = new Database(p);
  // The schema as shipped before the media reference (user_version 2).
  old.exec(`CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE, account TEXT NOT NULL,
      kind TEXT NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL, last_error TEXT);
    CREATE INDEX outbox_account_seq ON outbox(account, seq);
    CREATE TABLE dead_letters (seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, account TEXT NOT NULL, kind TEXT NOT NULL,
      body TEXT NOT NULL, created_at INTEGER NOT NULL, attempts INTEGER NOT NULL, last_error TEXT, died_at INTEGER NOT NULL);
    CREATE INDEX dead_letters_account ON dead_letters(account, seq);
    CREATE TABLE messages (account TEXT NOT NULL, msg_id TEXT NOT NULL, peer TEXT NOT NULL, local_id TEXT, class TEXT NOT NULL,
      time INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (account, msg_id));
    CREATE INDEX messages_time ON messages(account, time);
    ALTER TABLE messages ADD COLUMN reply_to TEXT;
    INSERT INTO outbox (event_id, account, kind, body, created_at, next_at) VALUES ('old-1', 'a', 'send_message', '{"media_data":"AAAA\\n"}', 1, 1);
    INSERT INTO dead_letters (seq, event_id, account, kind, body, created_at, attempts, died_at) VALUES (7, 'dead-1', 'a', 'event', '{}', 1, 3, 2);
    PRAGMA user_version = 2;`);
  // A column already there (a half-applied upgrade) is not added twice.
  old.exec('ALTER TABLE dead_letters ADD COLUMN media TEXT');
  old.close();
  const db = openDatabase(p);
  const ob = new Outbox(db);
  const [row] = ob.pendingAfter('a', 0, 10);
  assert.equal(row!.eventId, 'old-1');
  assert.equal(row!.body, '{"media_data":"AAAA\\n"}', 'an old row still carries its media_data inline');
  assert.equal(row!.media, null);
  assert.equal(ob.deadLetters('a')[0]!.media, null);
  const id = ob.enqueue('a', 'send_message', '{}', Date.now(), { path: '/x', size: 1 });
  assert.deepEqual(ob.pendingAfter('a', 0, 10).find((r) => r.eventId === id)!.media, { path: '/x', size: 1 });
  db.close();
  // reopening runs no migration again
  openDatabase(p).close();
});

test('attempts are counted when they start and survive reopening (a crash mid-attempt still counts it)', () => {
  const p = join(tmp(), 'openwx.db');
  let db = openDatabase(p);
  let ob = new Outbox(db);
  ob.enqueue('a', 'event', '{"n":1}');
  ob.enqueue('a', 'event', '{"n":2}');
  const [r1, r2] = ob.pendingAfter('a', 0, 10);
  ob.started([r1!.seq, r2!.seq]);
  ob.started([r1!.seq]);
  // no failure recorded: the process died with both attempts in flight
  db.close();
  db = openDatabase(p);
  ob = new Outbox(db);
  assert.deepEqual(ob.pendingAfter('a', 0, 10).map((r) => [r.attempts, r.rejections]), [[2, 0], [1, 0]]);
  db.close();
});

test('an acted-on answer is claimed once per account and event id, after reopening too; old claims are purged', () => {
  const p = join(tmp(), 'openwx.db');
  let db = openDatabase(p);
  let ob = new Outbox(db);
  const now = Date.now();
  assert.equal(ob.claimAnswer('a', 'ev-1', now - 10_000), true);
  assert.equal(ob.claimAnswer('a', 'ev-1', now), false);
  assert.equal(ob.claimAnswer('b', 'ev-1', now), true, 'per account');
  db.close();
  db = openDatabase(p);
  ob = new Outbox(db);
  assert.equal(ob.claimAnswer('a', 'ev-1', now), false, 'remembered across a restart');
  assert.equal(ob.purgeAnswered('a', now - 5_000), 1);
  assert.equal(ob.claimAnswer('a', 'ev-1', now), true, 'forgotten once purged');
  db.close();
});
