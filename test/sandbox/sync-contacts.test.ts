/** Contacts paging and batching, synccheck/sync event delivery, session-check failures. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { control, drain, loggedIn, sandbox } from '../helpers/sandbox.ts';
import { WxTestClient } from '../helpers/wx-test-client.ts';
import { Path } from '../../src/wire/paths.ts';

test('webwxgetcontact pages with seq; every friend and saved group exactly once', async () => {
  const sb = await sandbox({ worldSize: { friends: 120, groups: 20, members: 10 }, contactPageSize: 50, seed: 7 });
  try {
    const { client } = await loggedIn(sb);
    const first = await client.getContact(0);
    assert.equal(first.MemberCount, 50);
    assert.notEqual(first.Seq, 0);
    const all = await client.allContacts();
    const world = sb.handle.world();
    const friends = world.people.filter((p) => p.friend !== false).length;
    const saved = world.groups.filter((g) => g.saved !== false).length;
    assert.equal(all.length, friends + saved);
    assert.equal(new Set(all.map((x) => x.UserName)).size, all.length);
    assert.equal(all.filter((x) => x.UserName.startsWith('@@')).length, saved);
    for (const x of all) assert.match(x.UserName, /^(@@[0-9a-f]{64}|@[0-9a-f]{32}|filehelper)$/);
  } finally {
    await sb.close();
  }
});

test('webwxbatchgetcontact: ≤ 50 per call, member details through EncryChatRoomId, > 50 is a param error', async () => {
  const sb = await sandbox({ worldSize: { friends: 100, groups: 60, members: 8 }, seed: 3 });
  try {
    const { client, init } = await loggedIn(sb);
    const rooms = [...new Set([...init.ContactList, ...(await client.allContacts())].filter((x) => x.UserName.startsWith('@@')).map((x) => x.UserName))];
    assert.equal(rooms.length, 60, 'saved rooms via getcontact + unsaved ones via init');
    const tooMany = await client.batch(rooms.slice(0, 51).map((UserName) => ({ UserName, EncryChatRoomId: '' })));
    assert.equal(tooMany.BaseResponse.Ret, 1);
    assert.deepEqual(tooMany.ContactList, []);
    const r = await client.batch(rooms.slice(0, 50).map((UserName) => ({ UserName, EncryChatRoomId: '' })));
    assert.equal(r.Count, 50);
    const room = r.ContactList[0];
    assert.equal(room.MemberList.length, 8);
    assert.equal(room.MemberCount, 8);
    assert.match(room.EncryChatRoomId, /^@[0-9a-f]{32}$/);
    assert.ok(room.MemberList.some((m: any) => m.UserName === client.selfName));
    const stranger = room.MemberList.find((m: any) => m.UserName !== client.selfName);
    const d = await client.batch([{ UserName: stranger.UserName, EncryChatRoomId: room.EncryChatRoomId }]);
    assert.equal(d.Count, 1);
    assert.equal(d.ContactList[0].UserName, stranger.UserName);
    assert.match(d.ContactList[0].HeadImgUrl, /&chatroomid=@[0-9a-f]{32}$/);
    const unknown = await client.batch([{ UserName: '@0123456789abcdef0123456789abcdef' }]);
    assert.deepEqual([unknown.BaseResponse.Ret, unknown.Count], [0, 0]);
  } finally {
    await sb.close();
  }
});

test('synccheck wakes the moment a message is injected (event-driven, not at the end of the long poll)', async () => {
  const sb = await sandbox({ longPollMs: 20000 });
  try {
    const { client } = await loggedIn(sb);
    await drain(client);
    const t0 = Date.now();
    const pending = client.syncCheck();
    const deadline = Date.now() + 5000;
    while (sb.handle.waitingPolls() === 0 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    assert.equal(sb.handle.waitingPolls(), 1, 'the synccheck is being held');
    sb.handle.inject({ type: 'text', from: '李娜🌸', content: 'ping' });
    const r = await pending;
    assert.deepEqual(r, { retcode: 0, selector: 2 });
    assert.ok(Date.now() - t0 < 5000, 'answered well before the long-poll timeout');
    const s = await client.sync();
    assert.equal(s.AddMsgList[0].Content, 'ping');
    // Nothing queued: the next check holds, then answers selector 0.
    const sb2 = await sandbox({ longPollMs: 200 });
    try {
      const c2 = (await loggedIn(sb2)).client;
      await drain(c2);
      assert.deepEqual(await c2.syncCheck(), { retcode: 0, selector: 0 });
    } finally {
      await sb2.close();
    }
  } finally {
    await sb.close();
  }
});

test('webwxsync delivers in order, ContinueFlag when more are queued, and re-delivers for an old SyncKey', async () => {
  const sb = await sandbox({ maxSyncMessages: 10 });
  try {
    const { client } = await loggedIn(sb);
    await drain(client);
    const ids = sb.handle.inject({ type: 'text', from: '王芳', content: 'n', count: 25 }).msgIds;
    const before = client.syncKey;
    const a = await client.sync();
    assert.equal(a.AddMsgCount, 10);
    assert.equal(a.ContinueFlag, 1);
    assert.deepEqual(a.AddMsgList.map((m: any) => m.MsgId), ids.slice(0, 10));
    // The client lost that answer and retries with its old key: same messages again.
    const again = await client.json(Path.sync, `sid=${encodeURIComponent(client.keys!.wxsid!)}&skey=${client.keys!.skey}&pass_ticket=${client.passTicket}`, {
      BaseRequest: client.baseRequest(), SyncKey: before, rr: -1,
    });
    assert.deepEqual(again.AddMsgList.map((m: any) => m.MsgId), ids.slice(0, 10));
    const b = await client.sync();
    const c = await client.sync();
    assert.deepEqual([...b.AddMsgList, ...c.AddMsgList].map((m: any) => m.MsgId), ids.slice(10));
    assert.equal(c.ContinueFlag, 0);
    assert.deepEqual(c.SyncKey.List.map((k: any) => k.Key), [1, 2, 3, 11, 201, 1000, 1001]);
    assert.deepEqual(c.SyncKey, c.SyncCheckKey);
  } finally {
    await sb.close();
  }
});

test('session checks: wrong skey/sid/uin/pass_ticket → 1100, missing cookies → 1100 (1 on webwxsync, 1102 on synccheck)', async () => {
  const sb = await sandbox();
  try {
    const { client } = await loggedIn(sb);
    const k = client.keys!;
    const init = (br: any, q = `r=-1&pass_ticket=${client.passTicket}`) => client.json(Path.init, q, { BaseRequest: br });
    assert.equal((await init({ ...client.baseRequest(), Skey: '@crypt_00000000_00000000000000000000000000000000' })).BaseResponse.Ret, 1100);
    assert.equal((await init({ ...client.baseRequest(), Sid: 'AAAAAAAAAAAAAAAA' })).BaseResponse.Ret, 1100);
    assert.equal((await init({ ...client.baseRequest(), Uin: 1 })).BaseResponse.Ret, 1100);
    assert.equal((await init(client.baseRequest(), 'r=-1&pass_ticket=wrong')).BaseResponse.Ret, 1100);
    assert.equal((await init(client.baseRequest(), `r=-1&pass_ticket=${k.pass_ticket}`)).BaseResponse.Ret, 0, 'singly-encoded pass_ticket accepted');
    assert.equal((await init(client.baseRequest(), 'r=-1')).BaseResponse.Ret, 0, 'pass_ticket may be omitted (itchat)');
    const bad = JSON.parse((await client.req('page', `${Path.getContact}?r=1&seq=0&skey=@crypt_bad`)).text);
    assert.equal(bad.BaseResponse.Ret, 1100);
    assert.deepEqual(Object.keys(bad), ['BaseResponse', 'Seq', 'MemberCount', 'MemberList']);
    const noCookies = new WxTestClient(sb.url);
    noCookies.keys = k;
    noCookies.selfName = client.selfName;
    noCookies.syncKey = client.syncKey;
    const s = await noCookies.sync();
    assert.equal(s.BaseResponse.Ret, 1);
    assert.deepEqual(s.AddMsgList, []);
    assert.equal((await noCookies.syncCheck()).retcode, 1102);
    const wrongUin = await client.req('push', `${Path.syncCheck}?r=1&skey=${encodeURIComponent(k.skey!)}&sid=${encodeURIComponent(k.wxsid!)}&uin=1&deviceid=e1&synckey=1_1`);
    assert.equal(wrongUin.text, 'window.synccheck={retcode:"1100",selector:"0"}');
    const badKey = await client.req('push', `${Path.syncCheck}?r=1&skey=${encodeURIComponent(k.skey!)}&sid=${encodeURIComponent(k.wxsid!)}&uin=${k.wxuin}&deviceid=e1&synckey=blabla`);
    assert.equal(badKey.text, 'window.synccheck={retcode:"1100",selector:"0"}');
    const send = await client.json(Path.sendMsg, `pass_ticket=${client.passTicket}`, { BaseRequest: { ...client.baseRequest(), Skey: 'x' }, Msg: {}, Scene: 0 });
    assert.deepEqual(send, { BaseResponse: { Ret: 1100, ErrMsg: '' }, MsgID: '', LocalID: '' });
  } finally {
    await sb.close();
  }
});

test('unknown wire paths answer 404; garbage bodies get the endpoint failure answer, never a 500', async () => {
  const sb = await sandbox();
  try {
    const { client } = await loggedIn(sb);
    assert.equal((await client.req('page', '/cgi-bin/mmwebwx-bin/webwxnosuch')).status, 404);
    const r = await client.req('page', `${Path.sync}?pass_ticket=${client.passTicket}`, { method: 'POST', body: '{not json', headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.text).BaseResponse.Ret, 1100);
    const r2 = await client.req('page', `${Path.batchGetContact}?type=ex`, { method: 'POST', body: 'x=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(r2.status, 200);
    const up = await client.req('file', `${Path.uploadMedia}?f=json`, { method: 'POST', body: 'nope', headers: { 'content-type': 'text/plain' } });
    assert.equal(JSON.parse(up.text).BaseResponse.Ret, 1);
  } finally {
    await sb.close();
  }
});
