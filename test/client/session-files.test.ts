import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { account, sandbox, tempDir, testWorld } from './helpers.ts';
import { nextEvent, waitFor } from '../helpers/wait-for.ts';

const read = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

test('stable-id table in its own file (0600), written when it changes, not with every session save; resume keeps it', async () => {
  const sb = await sandbox({ world: testWorld(), autoLoginMs: 30 });
  const tmp = tempDir();
  const sessionPath = join(tmp.dir, 'session-default.json');
  const stablePath = join(tmp.dir, 'stable-ids-default.json');
  try {
    // SyncKey-only saves every 50 ms (default 5000), so each sync below is followed by a save soon
    const a = account(sb, tmp.dir, { sessionSaveIntervalMs: 50 });
    await a.run();
    assert.equal(statSync(stablePath).mode & 0o777, 0o600);
    assert.equal(read(sessionPath).stableIds, undefined, 'the session file no longer carries the table');
    const tableIno = statSync(stablePath).ino;
    // messages → syncs → session saves (debounced); the table did not change, so its file is not rewritten
    const friend = a.friends().find((f) => f.category === '好友' && f.id !== 'filehelper')!;
    for (let i = 0; i < 3; i++) {
      const savedAt = read(sessionPath).savedAt as number;
      const got = nextEvent(a, 'receive_message');
      sb.handle.inject({ type: 'text', from: friend.id, content: `hello ${i}` });
      await got;
      await waitFor(() => (read(sessionPath).savedAt as number) > savedAt, 'session saved after the sync');
    }
    assert.equal(statSync(stablePath).ino, tableIno, 'table file not replaced by the session saves');
    // a rename adds an alias: now the table is written
    await a.setRemark(friend.id, 'renamed-for-alias');
    await waitFor(() => statSync(stablePath).ino !== tableIno, 'table written after the rename');
    const aliases = read(stablePath).aliases as [string, string][];
    assert.ok(aliases.some(([, s]) => s === friend.stable_id), 'the rename is an alias of the first key');
    await a.stop();

    // restart: resumed without a scan, the same stable ids
    const b = account(sb, tmp.dir);
    await b.run();
    assert.equal(b.friend(friend.id)!.stable_id, friend.stable_id);
    assert.deepEqual(read(stablePath).aliases, aliases);
    await b.stop();
  } finally {
    await sb.close();
    tmp.cleanup();
  }
});

test('a session file of the earlier format (table inside) is read; the table moves to its own file', async () => {
  const sb = await sandbox({ world: testWorld(), autoLoginMs: 30 });
  const tmp = tempDir();
  const sessionPath = join(tmp.dir, 'session-default.json');
  const stablePath = join(tmp.dir, 'stable-ids-default.json');
  try {
    const a = account(sb, tmp.dir);
    await a.run();
    await a.stop();
    const legacy = { ...read(sessionPath), stableIds: { version: 1, aliases: [['old-key', 'first-key']] } };
    writeFileSync(sessionPath, JSON.stringify(legacy), { mode: 0o600 });
    rmSync(stablePath);
    const b = account(sb, tmp.dir);
    await b.run();
    assert.ok(existsSync(stablePath));
    assert.deepEqual(read(stablePath).aliases, [['old-key', 'first-key']]);
    assert.equal(read(sessionPath).stableIds, undefined);
    await b.stop();
  } finally {
    await sb.close();
    tmp.cleanup();
  }
});
