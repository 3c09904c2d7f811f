import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, statSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SessionStore } from '../../src/store/session-store.ts';

const snap = {
  pageHost: 'wx2.qq.com', uin: '176666155', sid: 's+/', skey: '@crypt_1_2', passTicket: 'a%2Bb', selfUserName: '@me',
  syncKey: { Count: 1, List: [{ Key: 1, Val: 2 }] }, syncCheckKey: null, cookies: { cookies: [] }, desktopMode: true,
};

test('saves atomically with mode 0600 and loads back', () => {
  const dir = mkdtempSync(join(tmpdir(), 'owx-store-'));
  try {
    const s = new SessionStore(join(dir, 'nested'), 'acc1');
    assert.equal(s.load(), null);
    s.save({ session: snap, lastUin: '176666155', stableIds: { version: 1, aliases: [['a', 'b']] } });
    const st = statSync(s.path);
    assert.equal(st.mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(join(dir, 'nested')), ['session-acc1.json']);
    const f = s.load()!;
    assert.deepEqual(f.session, snap);
    assert.equal(f.lastUin, '176666155');
    assert.equal(f.account, 'acc1');
    assert.deepEqual(f.stableIds, { version: 1, aliases: [['a', 'b']] });
    s.save({ session: null, lastUin: '176666155' });
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

test('the stable-id table: its own file (0600, atomic), read back; a corrupt one is moved aside; clear() removes both', () => {
  const dir = mkdtempSync(join(tmpdir(), 'owx-store-'));
  try {
    const s = new SessionStore(dir, 'acc2');
    assert.equal(s.loadStableIds(), undefined);
    s.saveStableIds({ version: 1, aliases: [['k', 'v']] });
    assert.equal(statSync(s.stableIdsPath).mode & 0o777, 0o600);
    assert.deepEqual(s.loadStableIds(), { version: 1, aliases: [['k', 'v']] });
    s.save({ session: snap, lastUin: '1' });
    assert.deepEqual(readdirSync(dir).sort(), ['session-acc2.json', 'stable-ids-acc2.json']);
    writeFileSync(s.stableIdsPath, '{"version":1,"al');
    assert.equal(s.loadStableIds(), undefined);
    assert.ok(readdirSync(dir).some((n) => n.startsWith('stable-ids-acc2.json.corrupt-')));
    s.saveStableIds({ version: 1, aliases: [] });
    s.clear();
    assert.equal(s.load(), null);
    assert.equal(s.loadStableIds(), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
