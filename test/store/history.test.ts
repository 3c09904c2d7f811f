import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openDatabase } from '../../src/store/db.ts';
import { MessageHistory } from '../../src/store/history.ts';

test('history stores, updates, survives reopening, separates accounts and purges by age', () => {
  const p = join(mkdtempSync(join(tmpdir(), 'owx-hist-')), 'openwx.db');
  let db = openDatabase(p);
  let h = new MessageHistory(db, 'a');
  const now = Date.now();
  const sec = Math.floor(now / 1000);
  h.put({ msgId: '1', peer: '@f', localId: '17000000000000123', class: 'send', time: sec - 10 * 86400, body: { content: 'old' } });
  h.put({ msgId: '2', peer: '@@g', localId: null, class: 'recv', time: sec, body: { content: '新' } });
  h.put({ msgId: '2', peer: '@@g', localId: null, class: 'recv', time: sec, body: { content: '新2' } });
  new MessageHistory(db, 'b').put({ msgId: '1', peer: '@x', localId: null, class: 'recv', time: sec, body: {} });
  db.close();
  db = openDatabase(p);
  h = new MessageHistory(db, 'a');
  assert.equal(h.count(), 2);
  assert.equal(h.get('1')!.localId, '17000000000000123');
  assert.deepEqual(h.get('2')!.body, { content: '新2' });
  assert.deepEqual(h.recent(1).map((m) => m.msgId), ['2']);
  assert.equal(h.purge(7 * 86400_000, now), 1);
  assert.equal(h.get('1'), undefined);
  assert.equal(new MessageHistory(db, 'b').count(), 1);
  db.close();
});

test('send notes (LocalID, reply origin) merge with the recorded message in either order, and survive reopening', () => {
  const p = join(mkdtempSync(join(tmpdir(), 'owx-hist-')), 'openwx.db');
  let db = openDatabase(p);
  let h = new MessageHistory(db, 'a');
  const sec = Math.floor(Date.now() / 1000);
  // the send answer first (a fast path), then the send_message report's record
  h.noteSent({ msgId: '10', peer: '@f', localId: '1700', replyTo: '99' });
  assert.ok(h.has('10'));
  h.put({ msgId: '10', peer: '@f', localId: null, class: 'send', time: sec, body: { content: '答' } });
  // the record first, then the note
  h.put({ msgId: '11', peer: '@@g', localId: null, class: 'send', time: sec, body: { content: 'x' } });
  h.noteSent({ msgId: '11', peer: '@@g', localId: '1701' });
  db.close();
  db = openDatabase(p);
  h = new MessageHistory(db, 'a');
  assert.deepEqual(h.get('10'), { msgId: '10', peer: '@f', localId: '1700', class: 'send', time: sec, body: { content: '答' }, replyTo: '99' });
  assert.equal(h.get('11')!.localId, '1701');
  assert.deepEqual(h.get('11')!.body, { content: 'x' });
  assert.equal(h.isReply('10'), true);
  assert.equal(h.isReply('11'), false);
  assert.equal(h.isReply('nope'), false);
  assert.equal(h.has('nope'), false);
  db.close();
});

test('a database of the first schema version is migrated in place (messages kept, reply_to added)', () => {
  const p = join(mkdtempSync(join(tmpdir(), 'owx-hist-')), 'openwx.db');
  const raw = new Database(p);
  raw.exec(`CREATE TABLE messages (account TEXT NOT NULL, msg_id TEXT NOT NULL, peer TEXT NOT NULL, local_id TEXT,
    class TEXT NOT NULL, time INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (account, msg_id));
    CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE, account TEXT NOT NULL,
      kind TEXT NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
      next_at INTEGER NOT NULL, last_error TEXT);
    CREATE TABLE dead_letters (seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, account TEXT NOT NULL, kind TEXT NOT NULL,
      body TEXT NOT NULL, created_at INTEGER NOT NULL, attempts INTEGER NOT NULL, last_error TEXT, died_at INTEGER NOT NULL);
    INSERT INTO messages VALUES ('a', '5', '@f', NULL, 'send', 1, '{"content":"旧"}');`);
  raw.pragma('user_version = 1');
  raw.close();
  const db = openDatabase(p);
  const h = new MessageHistory(db, 'a');
  assert.deepEqual(h.get('5')!.body, { content: '旧' });
  assert.equal(h.get('5')!.replyTo, null);
  h.noteSent({ msgId: '5', peer: '@f', replyTo: '4' });
  assert.equal(h.isReply('5'), true);
  db.close();
});

test('putNew records a message once: a second one with the same MsgID changes nothing and answers false', () => {
  const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'owx-hist-')), 'openwx.db'));
  const h = new MessageHistory(db, 'a');
  const sec = Math.floor(Date.now() / 1000);
  assert.equal(h.putNew({ msgId: '7', peer: '@f', localId: null, class: 'recv', time: sec, body: { content: '一' } }), true);
  assert.equal(h.putNew({ msgId: '7', peer: '@g', localId: null, class: 'recv', time: sec, body: { content: '二' } }), false);
  assert.deepEqual(h.get('7')!.body, { content: '一' });
  assert.equal(h.get('7')!.peer, '@f');
  // another account's MsgID space is separate
  assert.equal(new MessageHistory(db, 'b').putNew({ msgId: '7', peer: '@x', localId: null, class: 'recv', time: sec, body: {} }), true);
  db.close();
});

test('a record given with its body text (bodyJson) stores that text as is: no second serialisation', () => {
  const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'owx-hist-')), 'openwx.db'));
  const h = new MessageHistory(db, 'a');
  const body = { post_type: 'receive_message', content: '你好 🌸' };
  const text = JSON.stringify(body);
  assert.equal(h.putNew({ msgId: '1', peer: '@f', localId: null, class: 'recv', time: 1, body, bodyJson: text }), true);
  h.put({ msgId: '2', peer: '@f', localId: null, class: 'recv', time: 2, body, bodyJson: text });
  const raw = db.prepare('SELECT msg_id, body FROM messages WHERE account = ? ORDER BY msg_id').all('a') as { msg_id: string; body: string }[];
  assert.deepEqual(raw.map((r) => r.body), [text, text]);
  assert.deepEqual(h.get('1')!.body, body);
  assert.equal(h.get('1')!.bodyJson, undefined, 'a record read back has no text of its own');
  db.close();
});
