import { test } from 'node:test';
import assert from 'node:assert/strict';
import { account, sandbox, tempDir, testWorld } from './helpers.ts';
import type { Account } from '../../src/client/account.ts';
import { recordEvents, waitFor } from '../helpers/wait-for.ts';
import { wireRequestChannel, type WireRequestEvent } from '../../src/diagnostics.ts';

/** Answers of webwxbatchgetcontact (transport level: HTTP status, ok) while `fn` runs. */
async function batchCalls(fn: () => Promise<void>): Promise<number[]> {
  const seen: number[] = [];
  const watch = (e: unknown) => {
    const w = e as WireRequestEvent;
    if (w.name === 'webwxbatchgetcontact') seen.push(w.status);
  };
  wireRequestChannel.subscribe(watch);
  try {
    await fn();
  } finally {
    wireRequestChannel.unsubscribe(watch);
  }
  return seen;
}

test('login steps survive 5xx, garbage answers and server exceptions', async () => {
  const sb = await sandbox({ world: testWorld(), autoLoginMs: 30 });
  const tmp = tempDir();
  try {
    sb.handle.fault({ endpoint: 'jslogin', status: 500, times: 1 });
    sb.handle.fault({ endpoint: 'jslogin', body: 'window.QRLogin.code = 500;', times: 1 });
    sb.handle.fault({ endpoint: 'qrcode', status: 404, times: 1 }); // QR rendered locally instead
    sb.handle.fault({ endpoint: 'login', body: 'garbage', times: 1 });
    sb.handle.fault({ endpoint: 'webwxinit', status: 502, times: 1 });
    sb.handle.fault({ endpoint: 'webwxgetcontact', status: 500, times: 1 });
    sb.handle.fault({ endpoint: 'webwxbatchgetcontact', body: 'nope', times: 1 });
    const a = account(sb, tmp.dir);
    const log = recordEvents(a, ['input_qrcode', 'login']);
    await a.run();
    assert.equal(a.state, 'running');
    assert.match(String(log.find((e) => e.name === 'input_qrcode')!.args[0]), /qrcode-default\.png$/);
    assert.equal(a.groups().length, 3);
    await a.stop();
  } finally {
    await sb.close();
    tmp.cleanup();
  }
});

test('login poll answers 500 (server exception) and 400 (expired): a new QR each time', async () => {
  const sb = await sandbox({ world: testWorld(), autoLoginMs: 30 });
  const tmp = tempDir();
  try {
    sb.handle.fault({ endpoint: 'login', ret: 500, times: 1 });
    sb.handle.fault({ endpoint: 'login', ret: 400, times: 1 });
    sb.handle.fault({ endpoint: 'login', ret: 202, times: 1 });
    const a = account(sb, tmp.dir);
    const log = recordEvents(a, ['input_qrcode', 'qrcode_expire']);
    await a.run();
    assert.equal(log.filter((e) => e.name === 'input_qrcode').length, 4);
    assert.equal(log.filter((e) => e.name === 'qrcode_expire').length, 1);
    await a.stop();
  } finally {
    await sb.close();
    tmp.cleanup();
  }
});

test('group batch failing past its retries at login: the missing groups are asked for again, login has them all', async () => {
  const sb = await sandbox({ world: testWorld(), autoLoginMs: 30 });
  const tmp = tempDir();
  let a: Account | undefined;
  try {
    // requestRetries 1 = 2 attempts: the login's one group batch fails both, so a single round would skip it
    sb.handle.fault({ endpoint: 'webwxbatchgetcontact', status: 500, times: 1 });
    sb.handle.fault({ endpoint: 'webwxbatchgetcontact', body: 'garbage', times: 1 });
    const c = (a = account(sb, tmp.dir, { requestRetries: 1 }));
    const log = recordEvents(c, ['update_group']);
    const calls = await batchCalls(() => c.run());
    assert.equal(c.state, 'running');
    assert.deepEqual(calls.slice(0, 3), [500, 200, 200], 'two failed attempts, then the group ids asked for again');
    // update_group is emitted before running and before the sync loop's first call: what the login itself loaded
    const loaded = log.find((e) => e.name === 'update_group')!.args[0] as { id: string }[];
    assert.equal(loaded.length, 3, 'every group loaded by the login');
    assert.equal(c.groups().length, 3);
  } finally {
    await a?.stop();
    await sb.close();
    tmp.cleanup();
  }
});

test('group batch failing in every round at login: login still completes; the groups stay unknown until seen', async () => {
  const sb = await sandbox({ world: testWorld(), autoLoginMs: 30 });
  const tmp = tempDir();
  let a: Account | undefined;
  try {
    sb.handle.fault({ endpoint: 'webwxbatchgetcontact', status: 500, times: 4 }); // 2 attempts × 2 rounds
    const c = (a = account(sb, tmp.dir, { requestRetries: 1, contactLoadRounds: 2 }));
    const log = recordEvents(c, ['update_group']);
    const calls = await batchCalls(() => c.run());
    assert.equal(c.state, 'running');
    assert.deepEqual(calls.slice(0, 4), [500, 500, 500, 500], 'two rounds of two attempts');
    assert.equal((log.find((e) => e.name === 'update_group')!.args[0] as unknown[]).length, 0);
    // the chat list WeChat sends after login (StatusNotify 51) names them: fetched on first sight
    await waitFor(() => c.groups().length >= 2, 'groups fetched on first sight');
  } finally {
    await a?.stop();
    await sb.close();
    tmp.cleanup();
  }
});
