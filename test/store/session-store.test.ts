import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SessionStore } from '../../src/store/session-store.ts';

const snap = {
  pageHost: 'wx2.qq.com', uin: '176666155', sid: 's+/', skey: '@crypt_1_2', passTicket: 'a%2Bb', selfUserName: '@me',
  syncKey: { Count: 1, List: [{ Key: 1, Val: 2 }] }, syncCheckKey: null, cookies: { cookies: [] }, desktopMode: true,
};

test('saves atomically with mode 0600 and loads back', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'owx-store-'));
  try {
    const s = new SessionStore(join(dir, 'nested'), 'acc1');
    assert.equal(s.load(), null);
    await s.save({ session: snap, lastUin: '176666155', stableIds: { version: 1, aliases: [['a', 'b']] } });
    const st = statSync(s.path);
    assert.equal(st.mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(join(dir, 'nested')), ['session-acc1.json']);
    const f = s.load()!;
    assert.deepEqual(f.session, snap);
    assert.equal(f.lastUin, '176666155');
    assert.equal(f.account, 'acc1');
    assert.deepEqual(f.stableIds, { version: 1, aliases: [['a', 'b']] });
    await s.save({ session: null, lastUin: '176666155' });
    assert.equal(s.load()!.session, null);
    s.clear();
    assert.equal(s.load(), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a corrupt or foreign file is moved aside and treated as no session', () => {
  const dir = mkdtempSync(join(tmpdir(), 'owx-store-'));
  try {
    const s = new SessionStore(dir, 'x');
    writeFileSync(s.path, '{"version":1,"sess');
    assert.equal(s.load(), null);
    assert.ok(readdirSync(dir).some((n) => n.startsWith('session-x.json.corrupt-')));
    writeFileSync(s.path, '{"version":99}');
    assert.equal(s.load(), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the stable-id table: its own file (0600, atomic), read back; a corrupt one is moved aside; clear() removes both', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'owx-store-'));
  try {
    const s = new SessionStore(dir, 'acc2');
    assert.equal(s.loadStableIds(), undefined);
    await s.saveStableIds({ version: 1, aliases: [['k', 'v']] });
    assert.equal(statSync(s.stableIdsPath).mode & 0o777, 0o600);
    assert.deepEqual(s.loadStableIds(), { version: 1, aliases: [['k', 'v']] });
    await s.save({ session: snap, lastUin: '1' });
    assert.deepEqual(readdirSync(dir).sort(), ['session-acc2.json', 'stable-ids-acc2.json']);
    writeFileSync(s.stableIdsPath, '{"version":1,"al');
    assert.equal(s.loadStableIds(), undefined);
    assert.ok(readdirSync(dir).some((n) => n.startsWith('stable-ids-acc2.json.corrupt-')));
    await s.saveStableIds({ version: 1, aliases: [] });
    s.clear();
    assert.equal(s.load(), null);
    assert.equal(s.loadStableIds(), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a save does not write inside the caller: the file appears only after the returned promise', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'owx-store-'));
  try {
    const s = new SessionStore(dir, 'async');
    const done = s.save({ session: snap, lastUin: '1' });
    assert.equal(existsSync(s.path), false, 'nothing written synchronously (the event loop is not blocked by the fsync)');
    assert.equal(s.writesDone, 0);
    await done;
    assert.equal(s.writesDone, 1);
    assert.deepEqual(s.load()!.session, snap);
    assert.equal(statSync(s.path).mode & 0o777, 0o600);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('overlapping saves coalesce: one write in flight, the newest state written once after it; the file is always whole', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'owx-store-'));
  try {
    const s = new SessionStore(dir, 'burst');
    // 50 saves in one tick: the first starts a write, the other 49 only replace the text waiting for it
    const burst = Array.from({ length: 50 }, (_, i) => s.save({ session: { ...snap, sid: `sid-${i}` }, lastUin: String(i) }));
    await Promise.all(burst);
    assert.equal(s.writesDone, 2, 'one write in flight + one for the newest of the rest');
    assert.equal(s.load()!.session!.sid, 'sid-49');

    // saves keep arriving while writes run: a reader never sees a partial file, and the last state wins
    const before = s.writesDone;
    const pending: Promise<void>[] = [];
    let reads = 0;
    for (let i = 0; i < 200; i++) {
      pending.push(s.save({ session: { ...snap, sid: `round-${i}` }, lastUin: String(i) }));
      if (i % 10 === 0) {
        await new Promise((r) => setImmediate(r));
        const f = JSON.parse(readFileSync(s.path, 'utf8')) as { session: { sid: string } };
        assert.match(f.session.sid, /^(sid-49|round-\d+)$/);
        reads++;
      }
    }
    await Promise.all(pending);
    assert.equal(reads, 20);
    assert.equal(s.load()!.session!.sid, 'round-199');
    assert.ok(s.writesDone - before <= 200, 'never more writes than saves');
    assert.deepEqual(readdirSync(dir), ['session-burst.json'], 'no temp file left behind');
    assert.equal(statSync(s.path).mode & 0o777, 0o600);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a failed write rejects the saves it carried; the next save writes again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'owx-store-'));
  try {
    // the data "folder" is a file: mkdir fails
    const blocker = join(dir, 'not-a-dir');
    writeFileSync(blocker, 'x');
    const s = new SessionStore(blocker, 'fail');
    await assert.rejects(s.save({ session: snap, lastUin: '1' }));
    rmSync(blocker);
    await s.save({ session: snap, lastUin: '2' });
    assert.equal(s.load()!.lastUin, '2');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
