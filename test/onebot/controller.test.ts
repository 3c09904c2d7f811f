/**
 * Under the Controller every account is one bot: v12 carries `self` on events and routes actions by it (none given
 * with several accounts → 10101); v11 is one connection per account, named by X-Self-ID (or self_id= / client=).
 * A stopped account's v11 connection is closed.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Sandbox } from '../../src/sandbox/index.ts';
import { control, startTestController, usersSandbox, type TestController } from '../host/helpers.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { Peer, get, post, TOKEN } from './helpers.ts';

let sb: Sandbox;
let c: TestController;
const auth = { authorization: `Bearer ${TOKEN}` };

before(async () => {
  sb = await usersSandbox(2);
  c = await startTestController(sb, {
    onebot: { v12: { http: true, ws: true }, v11: { http: true, ws: true, heartbeat_ms: 0 } },
    onebot_access_token: TOKEN,
  });
  await c.login('a', 'wxid_user1');
  await c.login('b', 'wxid_user2');
});
after(async () => {
  await c.close();
  await sb.close();
});

test('v12 under the Controller: self routes actions; events of each account carry its self', async () => {
  const url = `${c.base}/onebot/v12/`;
  const none = await post(url, { action: 'get_self_info', params: {} }, auth);
  assert.equal(none.json.retcode, 10101);
  const a = await post(url, { action: 'get_self_info', params: {}, self: { platform: 'wechat', user_id: 'a' } }, auth);
  const b = await post(url, { action: 'get_self_info', params: {}, self: { platform: 'wechat', user_id: 'b' } }, auth);
  assert.equal(a.json.data.user_name, 'User1');
  assert.equal(b.json.data.user_name, 'User2');
  // the stable id names the bot as well as the account name does
  const a2 = await post(url, { action: 'get_self_info', params: {}, self: { platform: 'wechat', user_id: a.json.data.user_id } }, auth);
  assert.equal(a2.json.data.user_name, 'User1');
  const st = await post(url, { action: 'get_status', params: {} }, auth);
  assert.equal(st.json.data.bots.length, 2);

  const ws = await Peer.connect(`${c.base.replace('http', 'ws')}/onebot/v12/ws`, auth);
  try {
    await control(sb, 'POST', 'messages', { user: 'wxid_user1', type: 'text', from: 'Ann', content: 'to a' });
    await control(sb, 'POST', 'messages', { user: 'wxid_user2', type: 'text', from: 'Ann', content: 'to b' });
    const ea = await ws.next((m) => m.alt_message === 'to a', 'event of a');
    const eb = await ws.next((m) => m.alt_message === 'to b', 'event of b');
    assert.equal(ea.self.user_id, a.json.data.user_id);
    assert.equal(eb.self.user_id, b.json.data.user_id);
    const r = await ws.call('send_message', { detail_type: 'private', user_id: eb.user_id, message: 'from b' }, { self: eb.self });
    assert.equal(r.status, 'ok', JSON.stringify(r));
    const sentB = (await control(sb, 'GET', 'sent?user=wxid_user2')).json.map((s: any) => s.Content);
    assert.ok(sentB.includes('from b'));
    const sentA = (await control(sb, 'GET', 'sent?user=wxid_user1')).json.map((s: any) => s.Content);
    assert.ok(!sentA.includes('from b'));
    // an account logged out by WeChat: meta.status_update shows it offline
    assert.equal((await control(sb, 'POST', 'logout', { user: 'wxid_user2' })).status, 200);
    const up = await ws.next((m) => m.detail_type === 'status_update' && m.status.bots.some((x: any) => !x.online), 'status_update');
    assert.deepEqual(up.status.bots.find((x: any) => !x.online).self, eb.self);
    await c.login('b', 'wxid_user2');
    await ws.next((m) => m.detail_type === 'status_update' && m.status.bots.every((x: any) => x.online), 'back online');
  } finally {
    ws.close();
  }
});

test('v11 under the Controller: one account per connection by X-Self-ID; a stopped account closes its socket', async () => {
  const none = await get(`${c.base}/onebot/v11/get_login_info`, auth);
  assert.equal(none.status, 400);
  assert.equal(none.json.retcode, 1400);
  const a = await get(`${c.base}/onebot/v11/get_login_info?client=a`, auth);
  assert.equal(a.json.data.nickname, 'User1');
  const byHeader = await get(`${c.base}/onebot/v11/get_login_info`, { ...auth, 'x-self-id': String(a.json.data.user_id) });
  assert.equal(byHeader.json.data.nickname, 'User1');
  const b = await get(`${c.base}/onebot/v11/get_login_info?client=b`, auth);
  assert.notEqual(b.json.data.user_id, a.json.data.user_id);

  const wsB = await Peer.connect(`${c.base.replace('http', 'ws')}/onebot/v11/ws`, { ...auth, 'x-self-id': String(b.json.data.user_id) });
  const life = await wsB.next((m) => m.meta_event_type === 'lifecycle', 'lifecycle of b');
  assert.equal(life.self_id, b.json.data.user_id);
  await control(sb, 'POST', 'messages', { user: 'wxid_user1', type: 'text', from: 'Ann', content: 'only a' });
  await control(sb, 'POST', 'messages', { user: 'wxid_user2', type: 'text', from: 'Ann', content: 'only b' });
  await wsB.next((m) => m.raw_message === 'only b', 'b gets its message');
  assert.ok(!wsB.got.some((m) => m.raw_message === 'only a'), 'not the other account’s');
  assert.equal((await c.call('stop_client', { client: 'b' })).json.code, 0);
  await waitFor(() => wsB.closed !== null, 'b’s socket closed');
  assert.equal((await get(`${c.base}/onebot/v11/get_login_info?client=b`, auth)).status, 400);
});
