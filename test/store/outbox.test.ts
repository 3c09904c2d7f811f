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
  ob.failed(h.seq, 'HTTP 500', Date.now() + 1000);
  assert.equal(ob.head('a')!.attempts, 1);
  assert.equal(ob.head('a')!.lastError, 'HTTP 500');
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
