/**
 * Issue 11 §7: WeChat is never told a batch was received before its reports are committed. A webwxsync answer is
 * acknowledged by the next synccheck/webwxsync carrying its SyncKey (WeChat then drops what it held), and by the
 * session file (a restart resumes from its SyncKey). A kill -9 between an acknowledgement and the commit of the
 * batch's outbox rows loses the batch. This test watches both from outside: a proxy in front of the sandbox checks,
 * when a request arrives, that every injected message its SyncKey acknowledges is in the outbox table (a second,
 * read-only SQLite connection); and the account's session save is run at the worst moments (as each message is
 * emitted, and on every acknowledging request) to check that the saved SyncKey is never ahead of the outbox either.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Account, type SessionStoreLike } from '../../src/client/account.ts';
import { SessionStore } from '../../src/store/session-store.ts';
import type { Clock } from '../../src/client/clock.ts';
import { startOpenwx } from '../../src/host/index.ts';
import { DATABASE_FILE } from '../../src/api/durable.ts';
import type { Message } from '../../src/model/types.ts';
import { startSandbox } from '../../src/sandbox/index.ts';
import { Path } from '../../src/wire/paths.ts';
import { formatSyncKey } from '../../src/wire/synckey.ts';
import type { SyncKey } from '../../src/wire/types.ts';
import { recordingProxy } from '../client/helpers.ts';
import { silent } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** The account's session-save delay in this test: only timers of exactly this delay are held. */
const HELD_MS = 987_654;

/**
 * A clock whose session-save timers run only when the test says so (`runAll`, synchronously): the test decides when
 * the session file is written. Every other timer of the account (a retry's backoff after a request that timed out on
 * a loaded machine, …) runs on time, so it neither stalls the sync loop nor counts as a save.
 */
class HeldClock implements Clock {
  #seq = 0;
  readonly #timers = new Map<number, () => void>();
  readonly #real = new Map<number, NodeJS.Timeout>();
  now(): number {
    return Date.now();
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.#seq;
    if (ms === HELD_MS) this.#timers.set(id, fn);
    else
      this.#real.set(
        id,
        setTimeout(() => {
          this.#real.delete(id);
          fn();
        }, ms),
      );
    return id;
  }
  clearTimeout(h: unknown): void {
    this.#timers.delete(h as number);
    clearTimeout(this.#real.get(h as number));
    this.#real.delete(h as number);
  }
  runAll(): number {
    const due = [...this.#timers.values()];
    this.#timers.clear();
    for (const fn of due) fn();
    return due.length;
  }
}

test('a webwxsync answer is acknowledged (next synccheck/webwxsync SyncKey, saved session) only after its reports are in the outbox', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'owx-ack-'));
  const sb = await startSandbox({ port: 0, chatter: false, longPollMs: 300, autoLoginMs: 30 });
  const injected = new Set<string>();
  /** Formatted SyncKey → the injected messages it acknowledges (every answer up to the one that gave the key). */
  const acks = new Map<string, string[]>();
  let answeredSoFar: string[] = [];
  const violations: string[] = [];
  const checked = { requests: 0, sessions: 0 };
  /** Injected messages a synccheck/webwxsync was seen acknowledging. */
  const ackedByRequest = new Set<string>();
  let db: Database.Database | null = null;
  let committed: (id: string) => boolean = () => false;

  let closing = false;
  const verify = (what: string, key: string, count: 'requests' | 'sessions') => {
    if (closing) return;
    const ids = acks.get(key);
    if (!ids || ids.length === 0) return;
    checked[count]++;
    for (const id of ids) {
      if (!committed(id)) violations.push(`${what} acknowledged message ${id} before its outbox row was committed`);
      if (count === 'requests') ackedByRequest.add(id);
    }
  };
  const clock = new HeldClock();
  const sessionFile = join(dataDir, 'session-default.json');
  const checkFile = (what: string) => {
    const f = JSON.parse(readFileSync(sessionFile, 'utf8')) as { session: { syncKey: SyncKey } | null };
    if (f.session) verify(what, formatSyncKey(f.session.syncKey), 'sessions');
  };
  /** Checks of saves still being written (the write is asynchronous): awaited before the assertions. */
  const landed: Promise<void>[] = [];
  /**
   * The account's session files, counting the saves that landed (a save resolves once its state, or a newer one, is
   * on disk). An inode that changes was the sign before: two writes in a row can give the file back its old inode
   * number, and the wait then never ended.
   */
  const files = new SessionStore(dataDir, 'default');
  let savesLanded = 0;
  const countingStore: SessionStoreLike = {
    load: () => files.load(),
    loadStableIds: () => files.loadStableIds(),
    saveStableIds: (state) => files.saveStableIds(state),
    save: (f) => files.save(f).finally(() => savesLanded++),
  };
  /**
   * Checks the SyncKey the file holds now, runs the pending session save, and checks the file again once a later
   * save has landed.
   */
  const checkSavedSession = (when: string) => {
    if (closing) return;
    checkFile(`the session on disk ${when}`);
    const before = savesLanded;
    if (clock.runAll() === 0) return;
    landed.push(waitFor(() => savesLanded > before, 'the session save landed').then(() => checkFile(`the session saved ${when}`)));
  };

  const proxy = await recordingProxy(sb, {
    request(req, body) {
      const url = new URL(req.url ?? '/', 'http://x');
      let key: string | null = null;
      if (url.pathname === Path.syncCheck) key = url.searchParams.get('synckey');
      else if (url.pathname === Path.sync) key = formatSyncKey((JSON.parse(body.toString('utf8')) as { SyncKey: SyncKey }).SyncKey);
      if (key === null) return;
      verify(url.pathname.endsWith('synccheck') ? 'a synccheck' : 'a webwxsync', key, 'requests');
      checkSavedSession('at that request');
    },
    answered(x, body) {
      if (new URL(x.req.url ?? '/', 'http://x').pathname !== Path.sync || x.upstream.statusCode !== 200) return;
      const j = JSON.parse(body.toString('utf8')) as { BaseResponse: { Ret: number }; AddMsgList: { MsgId: string }[]; SyncKey: SyncKey; SyncCheckKey: SyncKey };
      if (j.BaseResponse.Ret !== 0) return;
      answeredSoFar = [...answeredSoFar, ...j.AddMsgList.map((m) => String(m.MsgId)).filter((id) => injected.has(id))];
      for (const k of [j.SyncKey, j.SyncCheckKey]) if (k?.Count > 0) acks.set(formatSyncKey(k), answeredSoFar);
    },
  });

  const client = new Account(
    {
      wechatOrigin: proxy.url,
      dataDir,
      showQrInTerminal: false,
      loginPollTimeoutMs: 5000,
      syncCheckTimeoutMs: 5000,
      requestTimeoutMs: 5000,
      sessionSaveIntervalMs: HELD_MS,
    },
    { logger: silent, output: null, clock },
  );
  client.setOwnership({ sessionStore: countingStore });
  // post_api points at a closed port: the rows stay in the outbox (or move to dead_letters), nothing deletes them
  const api = await startOpenwx(client, {
    listen: [{ host: '127.0.0.1', port: 0 }],
    logger: silent,
    stopDelayMs: 0,
    dataDir,
    post_api: 'http://127.0.0.1:9/post',
  });
  try {
    db = new Database(join(dataDir, DATABASE_FILE), { readonly: true });
    const inOutbox = db.prepare(
      `SELECT 1 FROM outbox WHERE json_extract(body, '$.id') = ? UNION ALL SELECT 1 FROM dead_letters WHERE json_extract(body, '$.id') = ?`,
    );
    committed = (id) => inOutbox.get(id, id) !== undefined;
    const received = new Set<string>();
    // registered after the reporter's listener: runs when the reporter has only been handed the message
    client.on('receive_message', (m: Message) => {
      received.add(String(m.id));
      checkSavedSession(`while message ${m.id} was being reported`);
    });
    await client.run();

    const ROUNDS = 6;
    for (let i = 0; i < ROUNDS; i++) {
      // an image (its report waits for a file stat before it is staged) and a text, most often in one answer
      const ids = [
        ...sb.handle.inject({ type: 'image', from: '王芳' } as never).msgIds,
        ...sb.handle.inject({ type: 'text', from: '张伟', content: `round ${i}` } as never).msgIds,
      ];
      for (const id of ids) injected.add(id);
      await waitFor(() => ids.every((id) => received.has(id)), `round ${i} received`, 15_000);
    }
    // the last batch is acknowledged too (the next synccheck carries its key)
    await waitFor(() => [...injected].every((id) => ackedByRequest.has(id)), 'the last batch acknowledged', 15_000);
    checkSavedSession('at the end');
    await Promise.all(landed);

    assert.deepEqual(violations, []);
    assert.ok(checked.requests >= ROUNDS, `acknowledging requests checked: ${checked.requests}`);
    assert.ok(checked.sessions >= ROUNDS - 1, `session saves checked: ${checked.sessions}`);
    for (const id of injected) assert.ok(committed(id), `message ${id} is in the outbox`);
  } finally {
    closing = true;
    await client.stop('test done').catch(() => undefined);
    db?.close();
    await api.close(200);
    proxy.server.closeAllConnections();
    await new Promise((r) => proxy.server.close(r));
    await sb.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
