/**
 * When the session file is written (issue 12, inbound p99 at 100 accounts): a change that is only the SyncKey waits
 * for `sessionSaveIntervalMs`; login and stop() write at once (stop() resolves after the write); a session file whose
 * SyncKey lags (a crash between two saves) still resumes without a scan.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../../src/client/clock.ts';
import { Account } from '../../src/client/account.ts';
import { formatSyncKey } from '../../src/wire/synckey.ts';
import type { SyncKey } from '../../src/wire/types.ts';
import { account, sandbox, silent, tempDir, testWorld } from './helpers.ts';
import { nextEvent, recordEvents, waitFor } from '../helpers/wait-for.ts';

/** An unusual interval, so the clock can tell the save timer from every other timer. */
const INTERVAL_MS = 123_457;

/** Real timers, except those of exactly INTERVAL_MS: held until the test runs them. */
class HoldingClock implements Clock {
  #seq = 0;
  readonly held = new Map<number, () => void>();
  readonly delays: number[] = [];
  now(): number {
    return Date.now();
  }
  setTimeout(fn: () => void, ms: number): unknown {
    this.delays.push(ms);
    if (ms !== INTERVAL_MS) return setTimeout(fn, ms);
    const id = ++this.#seq;
    this.held.set(id, fn);
    return { held: id };
  }
  clearTimeout(h: unknown): void {
    if (h && typeof h === 'object' && 'held' in h) this.held.delete((h as { held: number }).held);
    else clearTimeout(h as ReturnType<typeof setTimeout>);
  }
  runHeld(): number {
    const due = [...this.held.values()];
    this.held.clear();
    for (const fn of due) fn();
    return due.length;
  }
}

const savedKey = (path: string): string => {
  const f = JSON.parse(readFileSync(path, 'utf8')) as { session: { syncKey: SyncKey } | null };
  return formatSyncKey(f.session!.syncKey);
};

test('a SyncKey-only change waits for sessionSaveIntervalMs; stop() writes the newest state before it resolves', async () => {
  const sb = await sandbox({ world: testWorld(), autoLoginMs: 30 });
  const tmp = tempDir();
  const sessionPath = join(tmp.dir, 'session-default.json');
  const clock = new HoldingClock();
  let a: Account | null = null;
  try {
    a = new Account(
      {
        wechatOrigin: sb.url, dataDir: tmp.dir, showQrInTerminal: false, backoffBaseMs: 20, backoffMaxMs: 200,
        loginPollTimeoutMs: 5000, syncCheckTimeoutMs: 5000, requestTimeoutMs: 5000, sessionSaveIntervalMs: INTERVAL_MS,
      },
      { logger: silent, output: null, clock },
    );
    await a.run();
    // login saved at once (run() resolved after the write)
    const atLogin = readFileSync(sessionPath, 'utf8');
    const loginKey = savedKey(sessionPath);
    const friend = a.friends().find((f) => f.category === '好友' && f.id !== 'filehelper')!;
    for (let i = 0; i < 3; i++) {
      const got = nextEvent(a, 'receive_message');
      sb.handle.inject({ type: 'text', from: friend.id, content: `save-interval ${i}` });
      await got;
    }
    // the sync that delivered them was acknowledged: its save is scheduled after the interval, not written
    await waitFor(() => clock.held.size === 1, 'the SyncKey save waits for sessionSaveIntervalMs');
    assert.equal(readFileSync(sessionPath, 'utf8'), atLogin, 'the file is not rewritten after each sync');

    // the interval elapses: the newest SyncKey is written (asynchronously)
    assert.equal(clock.runHeld(), 1);
    await waitFor(() => savedKey(sessionPath) !== loginKey, 'the SyncKey saved when the interval elapsed');
    const afterInterval = savedKey(sessionPath);

    // more syncs, their save pending; stop() writes it and resolves only after the write
    const got = nextEvent(a, 'receive_message');
    sb.handle.inject({ type: 'text', from: friend.id, content: 'before stop' });
    await got;
    await waitFor(() => clock.held.size === 1, 'a save pending again');
    await a.stop();
    assert.equal(clock.held.size, 0, 'the pending timer is cancelled by stop()');
    assert.notEqual(savedKey(sessionPath), afterInterval, 'stop() left the newest SyncKey on disk');
  } finally {
    await a?.stop();
    await sb.close();
    tmp.cleanup();
  }
});

test('a session file whose SyncKey lags (a crash between two saves) resumes without a scan', async () => {
  const sb = await sandbox({ world: testWorld(), autoLoginMs: 30 });
  const tmp = tempDir();
  const sessionPath = join(tmp.dir, 'session-default.json');
  let b: Account | null = null;
  try {
    const a = account(sb, tmp.dir, { sessionSaveIntervalMs: INTERVAL_MS });
    await a.run();
    const lagging = readFileSync(sessionPath, 'utf8');
    const friend = a.friends().find((f) => f.category === '好友' && f.id !== 'filehelper')!;
    for (let i = 0; i < 3; i++) {
      const got = nextEvent(a, 'receive_message');
      sb.handle.inject({ type: 'text', from: friend.id, content: `lag ${i}` });
      await got;
    }
    await a.stop();
    assert.notEqual(readFileSync(sessionPath, 'utf8'), lagging);
    // what a kill -9 before the interval elapsed would have left: the file of the login
    writeFileSync(sessionPath, lagging, { mode: 0o600 });

    b = account(sb, tmp.dir, { sessionSaveIntervalMs: INTERVAL_MS });
    const log = recordEvents(b, ['input_qrcode', 'login', 'receive_message']);
    await b.run();
    assert.equal(log.filter((e) => e.name === 'input_qrcode').length, 0, 'no QR');
    assert.deepEqual(log.find((e) => e.name === 'login')!.args, [0], 'resumed');
    sb.handle.inject({ type: 'text', from: friend.id, content: 'after resume' });
    const contents = () => log.filter((e) => e.name === 'receive_message').map((e) => (e.args[0] as { content: string }).content);
    await waitFor(() => contents().includes('after resume'), 'a new message after the resume');
    // WeChat may deliver again what the lagging key had not acknowledged (the Openwx history drops those); nothing else
    for (const c of contents()) assert.match(c, /^(lag \d|after resume)$/);
  } finally {
    await b?.stop();
    await sb.close();
    tmp.cleanup();
  }
});
