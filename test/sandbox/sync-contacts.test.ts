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

test('webwxbatchgetcontact: ≤ 50 per call (more: the first 50 answered), member details through EncryChatRoomId', async () => {
  const sb = await sandbox({ worldSize: { friends: 100, groups: 60, members: 8 }, seed: 3 });
  try {
    const { client, init } = await loggedIn(sb);
    const rooms = [...new Set([...init.ContactList, ...(await client.allContacts())].filter((x) => x.UserName.startsWith('@@')).map((x) => x.UserName))];
    assert.equal(rooms.length, 60, 'saved rooms via getcontact + unsaved ones via init');
    // More than 50: the real server answers only the first 50 (WeixinBot#191), it does not refuse the request.
    const tooMany = await client.batch(rooms.slice(0, 55).map((UserName) => ({ UserName, EncryChatRoomId: '' })));
    assert.equal(tooMany.BaseResponse.Ret, 0);
    assert.equal(tooMany.Count, 50);
    assert.deepEqual(tooMany.ContactList.map((g: any) => g.UserName), rooms.slice(0, 50));
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

test('session checks: only the evidenced refusals (no cookies 1100 / 1 / 1102, unknown sid 1100, bad synckey 1100); BaseRequest, skey, sid, uin and pass_ticket variants are accepted', async () => {
  const sb = await sandbox();
  try {
    const { client } = await loggedIn(sb);
    const k = client.keys!;
    const init = (br: any, q = `r=-1&pass_ticket=${client.passTicket}`) => client.json(Path.init, q, { BaseRequest: br });
    // Accepted: no capture shows the real server comparing these, and working clients sent them like this.
    assert.equal((await init({ ...client.baseRequest(), Skey: '' })).BaseResponse.Ret, 0, 'empty Skey (Mojo-Weixin after a cookie restore)');
    assert.equal((await init({ Uin: k.wxuin, Sid: k.wxsid })).BaseResponse.Ret, 0, 'BaseRequest {Uin, Sid} (Mojo-Weixin webwxsync)');
    assert.equal((await init({ ...client.baseRequest(), DeviceID: k.pass_ticket })).BaseResponse.Ret, 0, 'DeviceID = pass_ticket (itchat)');
    assert.equal((await init({ ...client.baseRequest(), Skey: '@crypt_00000000_00000000000000000000000000000000' })).BaseResponse.Ret, 0, 'a stale Skey');
    assert.equal((await init({})).BaseResponse.Ret, 0, 'no BaseRequest: the session is the cookies\'');
    assert.equal((await init(client.baseRequest(), 'r=-1&pass_ticket=wrong')).BaseResponse.Ret, 0, 'another pass_ticket');
    assert.equal((await init(client.baseRequest(), `r=-1&pass_ticket=${k.pass_ticket}`)).BaseResponse.Ret, 0, 'singly-encoded pass_ticket');
    assert.equal((await init(client.baseRequest(), 'r=-1&pass_ticket=')).BaseResponse.Ret, 0, 'empty pass_ticket (Mojo-Weixin after a cookie restore)');
    assert.equal((await init(client.baseRequest(), 'r=-1')).BaseResponse.Ret, 0, 'pass_ticket omitted (itchat)');
    const stale = JSON.parse((await client.req('page', `${Path.getContact}?r=1&seq=0&skey=@crypt_bad`)).text);
    assert.equal(stale.BaseResponse.Ret, 0, 'getcontact with another skey');
    const send = await client.json(Path.sendMsg, '', {
      BaseRequest: { Uin: k.wxuin, Sid: k.wxsid },
      Msg: { Type: 1, Content: 'x', FromUserName: client.selfName, ToUserName: 'filehelper', LocalID: '1', ClientMsgId: '1' },
      Scene: 0,
    });
    assert.equal(send.BaseResponse.Ret, 0, 'a send with BaseRequest {Uin, Sid} and no query');
    const anyUin = await client.req('push', `${Path.syncCheck}?r=1&skey=&sid=${encodeURIComponent(k.wxsid!)}&uin=1&deviceid=e1&synckey=${encodeURIComponent(client.syncKey.List.map((i) => `${i.Key}_${i.Val}`).join('|'))}`);
    assert.match(anyUin.text, /^window\.synccheck=\{retcode:"0",selector:"\d"\}$/, 'synccheck with another uin and an empty skey');

    // Refused, with the real answers (docs/sandbox.md "What the sandbox refuses").
    const noCookies = new WxTestClient(sb.url);
    noCookies.keys = k;
    noCookies.selfName = client.selfName;
    noCookies.syncKey = client.syncKey;
    const s = await noCookies.sync();
    assert.equal(s.BaseResponse.Ret, 1, 'webwxsync without cookies: Ret 1 (moontide)');
    assert.deepEqual(s.AddMsgList, []);
    assert.equal((await noCookies.init()).BaseResponse.Ret, 1100, 'webwxinit without cookies: 1100 (WeixinBot#174)');
    assert.equal((await noCookies.syncCheck()).retcode, 1102, 'synccheck without cookies: 1102 (WeixinBot#140)');
    const foreign = await client.req('page', `${Path.init}?r=-1`, {
      method: 'POST',
      body: JSON.stringify({ BaseRequest: client.baseRequest() }),
      headers: { 'content-type': 'application/json', cookie: `wxuin=${k.wxuin}; wxsid=AAAAAAAAAAAAAAAA` },
      cookies: false,
    });
    assert.equal(JSON.parse(foreign.text).BaseResponse.Ret, 1100, 'a wxsid that names no session: 1100 (SESSION_NOEXIST)');
    const badKey = await client.req('push', `${Path.syncCheck}?r=1&skey=${encodeURIComponent(k.skey!)}&sid=${encodeURIComponent(k.wxsid!)}&uin=${k.wxuin}&deviceid=e1&synckey=blabla`);
    assert.equal(badKey.text, 'window.synccheck={retcode:"1100",selector:"0"}', 'a SyncKey that is not the session\'s: 1100 (qwx synckey.md)');
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
    assert.equal(JSON.parse(r.text).BaseResponse.Ret, 1200, 'a body that does not parse: MMWEBWX_ERR_PARSER_REQUEST');
    const r2 = await client.req('page', `${Path.batchGetContact}?type=ex`, { method: 'POST', body: 'x=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(r2.status, 200);
    const up = await client.req('file', `${Path.uploadMedia}?f=json`, { method: 'POST', body: 'nope', headers: { 'content-type': 'text/plain' } });
    assert.equal(JSON.parse(up.text).BaseResponse.Ret, 1);
  } finally {
    await sb.close();
  }
});

test('messages still queued for the client are never dropped by the per-session store cap (only acknowledged ones are)', async () => {
  // A client that fell behind (rate-limit pauses, a crash) by more than the store cap used to find the oldest queued
  // messages evicted: webwxsync skipped them and its SyncKey moved past them (a soak lost 420 messages that way).
  const sb = await sandbox({ maxStoredMessages: 30, maxSyncMessages: 10 });
  try {
    const { client } = await loggedIn(sb);
    await drain(client);
    const ids = sb.handle.inject({ type: 'image', from: '王芳', count: 75 }).msgIds;
    const got: string[] = [];
    for (let i = 0; i < 20 && got.length < ids.length; i++) {
      const r = await client.sync();
      got.push(...r.AddMsgList.map((m: any) => m.MsgId));
      if (r.ContinueFlag === 0) break;
    }
    assert.deepEqual(got, ids, 'every queued message, in order');
    const more = sb.handle.inject({ type: 'text', from: '王芳', content: 'after', count: 5 }).msgIds;
    const r = await client.sync();
    assert.deepEqual(r.AddMsgList.map((m: any) => m.MsgId), more);
    // What the client acknowledged (it presented a later key) is evicted down to the cap again; the rest is kept.
    const image = (id: string) => client.req('page', `${Path.getMsgImg}?&MsgID=${id}&skey=${encodeURIComponent(client.keys!.skey!)}`);
    assert.equal((await image(ids[0]!)).body.length, 0, 'the oldest acknowledged image is gone (store bounded)');
    assert.ok((await image(ids[74]!)).body.length > 0, 'the newest images are kept');
  } finally {
    await sb.close();
  }
});
