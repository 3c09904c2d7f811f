import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { account, sandbox, tempDir, testWorld } from './helpers.ts';
import { nextEvent, recordEvents } from '../helpers/wait-for.ts';
import { isOpenwxError } from '../../src/errors.ts';
import type { Account } from '../../src/client/account.ts';
import type { Sandbox } from '../../src/sandbox/index.ts';
import type { Message } from '../../src/model/types.ts';

let sb: Sandbox;
let a: Account;
const tmp = tempDir();

before(async () => {
  sb = await sandbox({ world: testWorld() });
  a = account(sb, tmp.dir, { syncCheckTimeoutMs: 1500, rateLimitBackoffMs: 50, rateLimitBackoffMaxMs: 200, requestRetries: 3 });
  await a.run();
});
after(async () => {
  await a.stop();
  await sb.close();
  tmp.cleanup();
});

/** Injects a text from Ann and waits until the client reports it (proves the receive loop is alive). */
async function roundTrip(content: string): Promise<Message> {
  const { msgIds } = sb.handle.inject({ type: 'text', from: 'Ann', content } as never);
  const [m] = await nextEvent<[Message]>(a, 'receive_message', (m) => m.id === msgIds[0], 15_000);
  return m;
}

test('synccheck HTTP 500 and garbage bodies: backoff, then the loop recovers', async () => {
  sb.handle.fault({ endpoint: 'synccheck', status: 500, times: 2 });
  sb.handle.fault({ endpoint: 'synccheck', body: '<html>gateway error</html>', times: 2 });
  assert.equal((await roundTrip('after synccheck faults')).content, 'after synccheck faults');
  assert.equal(a.state, 'running');
});

test('webwxsync HTTP 502 and a garbage body: retried, nothing lost', async () => {
  sb.handle.fault({ endpoint: 'webwxsync', status: 502, times: 1 });
  sb.handle.fault({ endpoint: 'webwxsync', body: '{"BaseResponse": {"Ret"', times: 1 });
  assert.equal((await roundTrip('after sync faults')).content, 'after sync faults');
});

test('a stuck synccheck (no answer within syncCheckTimeoutMs) is detected and re-issued', async () => {
  sb.handle.fault({ endpoint: 'synccheck', delayMs: 6000, times: 1 });
  const t0 = Date.now();
  await roundTrip('after a stuck poll');
  assert.ok(Date.now() - t0 < 6000, 'did not wait for the stuck poll');
});

test('Ret 1205 on webwxsync pauses and recovers', async () => {
  sb.handle.fault({ endpoint: 'webwxsync', ret: 1205, times: 1 });
  await roundTrip('after 1205 on sync');
});

test('Ret 1205 on a send: the queue backs off and retries; with no retries left the send reports 1205', async () => {
  const ann = a.searchFriends({ name: 'Ann' })[0]!.id;
  sb.handle.fault({ endpoint: 'webwxsendmsg', ret: 1205, times: 1 });
  const r = await a.sendText(ann, 'retried after 1205');
  assert.equal(r.code, 0, r.status);
  sb.handle.fault({ endpoint: 'webwxsendmsg', ret: 1205, times: 5 });
  const r2 = await a.sendText(ann, 'gives up');
  assert.equal(r2.code, 1205);
  assert.ok(isOpenwxError(r2.error, 'OWX_ERR_WX_RATE_LIMITED'));
  assert.equal(r2.message!.msg, '发送失败');
  // drain the remaining faults
  for (let i = 0; i < 2; i++) await a.sendText(ann, 'drain');
  const r3 = await a.sendText(ann, 'ok again');
  assert.equal(r3.code, 0);
});

test('other send failures resolve with the Ret and a typed error; network errors with -1', async () => {
  const ann = a.searchFriends({ name: 'Ann' })[0]!.id;
  sb.handle.fault({ endpoint: 'webwxsendmsg', ret: 1204, times: 1 });
  const r = await a.sendText(ann, 'x');
  assert.equal(r.code, 1204);
  assert.ok(isOpenwxError(r.error, 'OWX_ERR_WX_RET'));
  sb.handle.fault({ endpoint: 'webwxsendmsg', status: 503, times: 1 });
  const r2 = await a.sendText(ann, 'y');
  assert.equal(r2.code, -1);
  assert.ok(isOpenwxError(r2.error, 'OWX_ERR_WX_HTTP'));
});

for (const ret of [1100, 1102]) {
  test(`synccheck retcode ${ret}: logged-out handling on first sight, then relogin`, async () => {
    const log = recordEvents(a, ['logout', 'relogin', 'login']);
    const relogin = nextEvent(a, 'relogin', () => true, 15_000);
    const confirming = nextEvent(a, 'state_change', (_f, to) => to === 'confirming');
    sb.handle.fault({ endpoint: 'synccheck', ret, times: 1 });
    await confirming;
    sb.handle.confirm();
    await relogin;
    assert.deepEqual(log.find((e) => e.name === 'logout')!.args[1], ret);
    assert.deepEqual(log.find((e) => e.name === 'login')!.args, [1]);
    await roundTrip(`alive after ${ret}`);
  });
}

test('webwxsync Ret 1101: logged out, relogin', async () => {
  const logout = nextEvent<[string, number]>(a, 'logout');
  const relogin = nextEvent(a, 'relogin', () => true, 15_000);
  const confirming = nextEvent(a, 'state_change', (_f, to) => to === 'confirming');
  sb.handle.fault({ endpoint: 'webwxsync', ret: 1101, times: 1 });
  sb.handle.inject({ type: 'text', from: 'Ann', content: 'wake the sync' } as never);
  const [, ret] = await logout;
  assert.equal(ret, 1101);
  await confirming;
  sb.handle.confirm();
  await relogin;
  await roundTrip('alive after 1101');
});
