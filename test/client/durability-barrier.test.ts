/**
 * The durability barrier seam (`WxClient.addDurabilityBarrier`): the receive loop awaits every registered barrier
 * after it emitted a webwxsync answer's events and before any request carries that answer's SyncKey. A barrier that
 * rejects holds the loop (no synccheck, no webwxsync) until it resolves on a retry; a removed barrier is not called.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Account } from '../../src/client/account.ts';
import type { Message } from '../../src/model/types.ts';
import type { Sandbox } from '../../src/sandbox/index.ts';
import { Path } from '../../src/wire/paths.ts';
import { formatSyncKey } from '../../src/wire/synckey.ts';
import type { SyncKey } from '../../src/wire/types.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { account, recordingProxy, sandbox, tempDir, testWorld } from './helpers.ts';

let sb: Sandbox;
let a: Account;
let proxy: Awaited<ReturnType<typeof recordingProxy>>;
const tmp = tempDir();
/** What happened, in order: requests (with the key they carry), webwxsync answers (with the key they gave), barriers. */
const log: string[] = [];

before(async () => {
  sb = await sandbox({ world: testWorld() });
  proxy = await recordingProxy(sb, {
    request(req, body) {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === Path.syncCheck) log.push(`synccheck ${url.searchParams.get('synckey')}`);
      else if (url.pathname === Path.sync) log.push(`webwxsync ${formatSyncKey((JSON.parse(body.toString('utf8')) as { SyncKey: SyncKey }).SyncKey)}`);
    },
    answered(x, body) {
      if (new URL(x.req.url ?? '/', 'http://x').pathname !== Path.sync) return;
      const j = JSON.parse(body.toString('utf8')) as { BaseResponse: { Ret: number }; SyncKey: SyncKey; AddMsgList: unknown[] };
      if (j.BaseResponse.Ret === 0 && j.AddMsgList.length > 0) log.push(`answer ${formatSyncKey(j.SyncKey)}`);
    },
  });
  a = account({ ...sb, url: proxy.url } as Sandbox, tmp.dir);
  await a.run();
});
after(async () => {
  await a.stop();
  proxy.server.closeAllConnections();
  await new Promise((r) => proxy.server.close(r));
  await sb.close();
  tmp.cleanup();
});

/** Injects a text and returns its id and a promise of its receive_message (logged as `emitted <id>`). */
function inject(content: string): { id: string; emitted: Promise<void> } {
  const id = sb.handle.inject({ type: 'text', from: 'Ann', content } as never).msgIds[0]!;
  const emitted = new Promise<void>((resolve) => {
    const on = (m: Message) => {
      if (m.id !== id) return;
      a.off('receive_message', on);
      log.push(`emitted ${id}`);
      resolve();
    };
    a.on('receive_message', on);
  });
  return { id, emitted };
}

/** The SyncKey of the last webwxsync answer logged so far. */
function lastAnswerKey(): string {
  const line = [...log].reverse().find((l) => l.startsWith('answer '));
  assert.ok(line, 'a webwxsync answer with messages was seen');
  return line.slice('answer '.length);
}

test('a barrier that rejects holds the loop; the answer is acknowledged only after it resolves on a retry', async () => {
  let calls = 0;
  const off = a.addDurabilityBarrier(async () => {
    calls++;
    log.push(`barrier call ${calls}`);
    if (calls === 1) {
      log.push('barrier rejected');
      throw new Error('disk busy');
    }
    log.push('barrier resolved');
  });
  try {
    const start = log.length;
    const m = inject('held until durable');
    await m.emitted;
    const key = lastAnswerKey();
    await waitFor(() => log.slice(start).some((l) => l === `synccheck ${key}` || l === `webwxsync ${key}`), 'the acknowledging request');
    const seq = log.slice(start);
    const at = (l: string) => seq.indexOf(l);
    const ack = seq.findIndex((l) => l === `synccheck ${key}` || l === `webwxsync ${key}`);
    assert.ok(at(`emitted ${m.id}`) < at('barrier call 1'), seq.join('\n'));
    assert.ok(at('barrier resolved') < ack, `acknowledged before the barrier resolved:\n${seq.join('\n')}`);
    // while the barrier failed, the loop sent nothing at all (no re-sync of the same answer either)
    const between = seq.slice(at('barrier rejected'), at('barrier resolved'));
    assert.deepEqual(between.filter((l) => l.startsWith('synccheck') || l.startsWith('webwxsync')), [], seq.join('\n'));
    assert.equal(calls, 2);
    assert.equal(seq.filter((l) => l === `emitted ${m.id}`).length, 1, 'the message was emitted once');
  } finally {
    off();
  }
});

test('every registered barrier is awaited once per answer; a removed one is not called', async () => {
  const calls = { slow: 0, quick: 0, removed: 0 };
  let releaseSlow: () => void = () => undefined;
  const offSlow = a.addDurabilityBarrier(() => {
    calls.slow++;
    log.push('slow barrier called');
    return new Promise<void>((r) => {
      releaseSlow = () => {
        log.push('slow barrier resolved');
        r();
      };
    });
  });
  const offQuick = a.addDurabilityBarrier(() => {
    calls.quick++;
  });
  const offRemoved = a.addDurabilityBarrier(() => {
    calls.removed++;
  });
  offRemoved();
  try {
    const start = log.length;
    const m = inject('two barriers');
    await m.emitted;
    await waitFor(() => calls.slow === 1, 'the slow barrier called');
    const key = lastAnswerKey();
    releaseSlow();
    await waitFor(() => log.slice(start).some((l) => l === `synccheck ${key}` || l === `webwxsync ${key}`), 'the acknowledging request');
    const seq = log.slice(start);
    const ack = seq.findIndex((l) => l === `synccheck ${key}` || l === `webwxsync ${key}`);
    assert.ok(seq.indexOf('slow barrier resolved') < ack, seq.join('\n'));
    assert.deepEqual(calls, { slow: 1, quick: 1, removed: 0 });
  } finally {
    offSlow();
    offQuick();
  }
  // with no barrier left, answers are acknowledged as before
  const m = inject('no barrier');
  await m.emitted;
  const key = lastAnswerKey();
  await waitFor(() => log.some((l) => l === `synccheck ${key}` || l === `webwxsync ${key}`), 'acknowledged without barriers');
});
