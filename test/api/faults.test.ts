/**
 * WeChat misbehaving, seen from the API and post_api (the client-level retries are in test/client/faults.test.ts):
 * every protocol endpoint answering HTTP 500, too late, garbage or a logout/rate-limit Ret while the API is used
 * and reports flow. Nothing crashes; messages still reach post_api, sends answer with a clear code, and logouts
 * show up as events and the configured relogin policy.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { wireRequestChannel, type WireRequestEvent } from '../../src/diagnostics.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { nextEvent, waitFor } from '../helpers/wait-for.ts';

const EVENTS = ['login', 'logout', 'relogin', 'stop', 'state_change', 'new_group'];
let s: Stack;
before(async () => {
  s = await startStack({
    postApi: true,
    client: { requestTimeoutMs: 1500, uploadTimeoutMs: 1500, syncCheckTimeoutMs: 1500, requestRetries: 2, rateLimitBackoffMs: 30, rateLimitBackoffMaxMs: 60, rateLimitRetries: 1 },
    openwx: { post_event_list: EVENTS },
  });
});
after(async () => {
  await s.close();
});

const reported = (pred: (j: any) => boolean) => s.receiver!.received.map((r) => r.json).filter(pred);

/** A text from 王芳 reaches post_api (the receive path is alive). */
async function roundTrip(content: string): Promise<void> {
  s.sb.handle.inject({ type: 'text', from: '王芳', content });
  await waitFor(() => reported((j) => j.content === content).length === 1, `"${content}" reported`, 15_000);
}

test('synccheck and webwxsync answering 500, garbage, too late or Ret 1205: every message still reaches post_api once', async () => {
  const faults = [
    { endpoint: 'synccheck', status: 500, times: 2 },
    { endpoint: 'synccheck', body: 'window.synccheck={garbage', times: 1 },
    { endpoint: 'synccheck', delayMs: 2500, times: 1 },
    { endpoint: 'webwxsync', status: 502, times: 1 },
    { endpoint: 'webwxsync', body: '<html>upstream error</html>', times: 1 },
    { endpoint: 'webwxsync', delayMs: 2500, times: 1 },
    { endpoint: 'webwxsync', ret: 1205, times: 1 },
  ];
  for (const [i, f] of faults.entries()) {
    s.sb.handle.fault(f);
    await roundTrip(`同步故障 ${i}`);
  }
  assert.equal(s.client.state, 'running');
});

test('webwxsendmsg answering 500, garbage, too late, Ret 1205, 1100/1101/1102: the API answers each send with a clear code', async () => {
  const id = s.friendId('张伟');
  const cases: [Record<string, unknown>, (j: any) => void][] = [
    [{ status: 500 }, (j) => (assert.equal(j.code, -1), assert.match(j.status, /HTTP 500/))],
    [{ body: '{"BaseResponse":' }, (j) => (assert.equal(j.code, -1), assert.match(j.status, /webwxsendmsg/))],
    [{ delayMs: 2500 }, (j) => (assert.equal(j.code, -1), assert.match(j.status, /timeout|timed out/i))],
    [{ ret: 1205, times: 5 }, (j) => (assert.equal(j.code, 1205), assert.match(j.status, /1205|频繁|frequent/))],
    [{ ret: 1100 }, (j) => assert.equal(j.code, 1100)],
    [{ ret: 1101 }, (j) => assert.equal(j.code, 1101)],
    [{ ret: 1102 }, (j) => assert.equal(j.code, 1102)],
  ];
  for (const [fault, check] of cases) {
    s.sb.handle.fault({ endpoint: 'webwxsendmsg', times: 1, ...fault });
    const r = await s.call('send_friend_message', { id, content: `发送故障 ${JSON.stringify(fault)}` });
    assert.equal(r.status, 200, r.text);
    assert.equal(typeof r.json.status, 'string');
    check(r.json);
    // drain what is left of a multi-shot fault, then the next send works
    for (let i = 0; i < 6; i++) {
      const ok = await s.call('send_friend_message', { id, content: `恢复 ${i}` });
      if (ok.json.code === 0) break;
    }
  }
  const ok = await s.call('send_friend_message', { id, content: '发送恢复' });
  assert.equal(ok.json.code, 0);
  await waitFor(() => reported((j) => j.post_type === 'send_message' && j.content === '发送恢复').length === 1, 'send reported');
  assert.equal(reported((j) => String(j.content).startsWith('发送故障')).length, 0, 'failed sends are not reported as sent');
});

test('upload failures (500, garbage, too late) answer a media send with code -1; the next upload works', async () => {
  const id = s.friendId('张伟');
  const pdf = Buffer.from('%PDF-1.4 fault test').toString('base64');
  for (const fault of [{ status: 500 }, { body: 'not json at all' }, { delayMs: 2500 }]) {
    s.sb.handle.fault({ endpoint: 'webwxuploadmedia', times: 3, ...fault });
    const r = await s.call('send_friend_message', { id, media_data: pdf, media_name: 'f.pdf' }, 'json');
    assert.equal(r.status, 200);
    assert.equal(r.json.code, -1, JSON.stringify(fault));
    assert.equal(r.json.media_id, '');
    assert.match(r.json.status, /upload|timeout|HTTP|WeChat/i);
    const up = await s.call('upload_media', { media_data: pdf, media_name: 'g.pdf' }, 'json');
    if (up.json.code !== 0) {
      assert.equal(up.json.code, -1);
      assert.equal(up.json.media_id, null);
    }
    // faults left over are drained by retries
    await waitFor(async () => (await s.call('upload_media', { media_data: pdf, media_name: 'h.pdf' }, 'json')).json.code === 0, 'upload works again');
  }
});

test('batchgetcontact answering 500 and garbage while the account logs in again: login completes, messages reach post_api', async () => {
  const failed: number[] = [];
  const watch = (e: unknown) => {
    const w = e as WireRequestEvent;
    if (w.name === 'webwxbatchgetcontact' && w.status === 500) failed.push(w.status);
  };
  wireRequestChannel.subscribe(watch);
  try {
    const before = s.receiver!.received.length;
    s.sb.handle.fault({ endpoint: 'webwxbatchgetcontact', status: 500, times: 2 });
    s.sb.handle.fault({ endpoint: 'webwxbatchgetcontact', body: 'garbage', times: 1 });
    const relogin = nextEvent(s.client, 'relogin', () => true, 20_000);
    s.sb.handle.logout(); // the relogin's contact loading (webwxbatchgetcontact for the groups) meets the faults
    await relogin;
    await waitFor(() => s.client.state === 'running', 'running again');
    assert.ok(failed.length >= 2, `batchgetcontact faults hit (${failed.length})`);
    await waitFor(() => s.receiver!.received.slice(before).find((r) => r.json?.event === 'login'), 'login reported');
    assert.ok(s.client.groups().some((g) => g.name === '相亲相爱一家人'), 'groups loaded');
    s.sb.handle.inject({ type: 'text', from: '张伟', group: '相亲相爱一家人', content: '群里还在' });
    await waitFor(() => reported((j) => j.content === '群里还在' && j.type === 'group_message').length === 1, 'group message reported');
    await roundTrip('批量故障之后');
  } finally {
    wireRequestChannel.unsubscribe(watch);
  }
});

for (const ret of [1100, 1101, 1102]) {
  test(`synccheck retcode ${ret}: post_api gets logout, state changes, login and relogin; the API keeps answering`, async () => {
    const before = s.receiver!.received.length;
    const relogin = nextEvent(s.client, 'relogin', () => true, 20_000);
    s.sb.handle.fault({ endpoint: 'synccheck', ret, times: 1 });
    await relogin;
    await waitFor(() => s.client.state === 'running', 'running again');
    const after = () => s.receiver!.received.slice(before).map((r) => r.json);
    const logout = await waitFor(() => after().find((j) => j.event === 'logout'), 'logout reported');
    assert.equal(logout.params[1], ret);
    await waitFor(() => after().find((j) => j.event === 'relogin'), 'relogin reported');
    const login = await waitFor(() => after().find((j) => j.event === 'login'), 'login reported');
    assert.ok([0, 1].includes(login.params[0]));
    await waitFor(() => after().find((j) => j.event === 'state_change' && j.params[1] === 'running'), 'state_change to running reported');
    assert.equal((await s.call('get_client_info')).json.state, 'running');
    await roundTrip(`重新登录后 ${ret}`);
  });
}

test('a server-side logout with relogin policy "stop": logout and stop reported, state stop, API answers 503, no crash', async () => {
  const t = await startStack({ postApi: true, client: { relogin: 'stop' }, openwx: { post_event_list: EVENTS } });
  try {
    const stopped = nextEvent(t.client, 'stop', () => true, 15_000);
    t.sb.handle.logout();
    await stopped;
    const events = () => t.receiver!.received.map((r) => r.json);
    const logout = await waitFor(() => events().find((j) => j.event === 'logout'), 'logout reported');
    assert.equal(logout.params[1], 1101);
    await waitFor(() => events().find((j) => j.event === 'stop'), 'stop reported');
    await waitFor(() => events().find((j) => j.event === 'state_change' && j.params[1] === 'stop'), 'state_change to stop reported');
    assert.ok(!events().some((j) => j.event === 'relogin'));
    const info = await t.call('get_client_info');
    assert.equal(info.json.state, 'stop');
    const send = await t.call('send_friend_message', { markname: '老张', content: 'x' });
    assert.equal(send.status, 503);
    assert.equal(send.json.code, -2);
  } finally {
    await t.close();
  }
});

test('a server-side logout with relogin policy "relogin" (default): relogin and login reported, sends work again', async () => {
  const before = s.receiver!.received.length;
  const relogin = nextEvent(s.client, 'relogin', () => true, 20_000);
  s.sb.handle.logout();
  await relogin;
  await waitFor(() => s.client.state === 'running', 'running again');
  const after = () => s.receiver!.received.slice(before).map((r) => r.json);
  await waitFor(() => after().find((j) => j.event === 'logout'), 'logout reported');
  await waitFor(() => after().find((j) => j.event === 'login'), 'login reported');
  const r = await s.call('send_friend_message', { markname: '老张', content: '重新登录后发送' });
  assert.equal(r.json.code, 0);
});
