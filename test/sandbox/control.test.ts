/** The control API over HTTP: injection of every type, contact operations, faults, world dump, bad input → 400. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { control, drain, loggedIn, sandbox } from '../helpers/sandbox.ts';
import type { WxTestClient } from '../helpers/wx-test-client.ts';
import type { Sandbox } from '../../src/sandbox/index.ts';
import { parseAppMsg } from '../../src/wire/appmsg.ts';
import { parseCardContent } from '../../src/wire/card.ts';
import { parseRevokeContent } from '../../src/wire/sysmsg.ts';
import { parseVerifyContent } from '../../src/wire/verifymsg.ts';
import { parseLocation } from '../../src/wire/location.ts';
import { splitGroupContent } from '../../src/wire/content.ts';
import { Path } from '../../src/wire/paths.ts';

let sb: Sandbox;
let c: WxTestClient;

before(async () => {
  sb = await sandbox();
  ({ client: c } = await loggedIn(sb));
  await drain(c);
});
after(async () => sb.close());

async function receive(msgIds: string[]): Promise<any[]> {
  const got = new Map<string, any>();
  const end = Date.now() + 10000;
  while (got.size < msgIds.length && Date.now() < end) {
    await c.syncCheck();
    for (const m of (await c.sync()).AddMsgList) if (msgIds.includes(m.MsgId)) got.set(m.MsgId, m);
  }
  return msgIds.map((id) => got.get(id));
}

test('inject every type; each arrives with the real Content format', async () => {
  const inj = async (body: any) => {
    const r = await control(sb, 'POST', 'messages', body);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    return r.json.msgIds[0] as string;
  };
  const ids = {
    text: await inj({ type: 'text', from: '老张', content: '你好😀\n第二行' }),
    groupText: await inj({ type: 'text', from: '李娜🌸', group: '相亲相爱一家人', content: 'hi all' }),
    link: await inj({ type: 'link', from: '开源中国', url: 'https://example.com/a', title: '标题' }),
    card: await inj({ type: 'card', from: '张伟', content: '陈静' }),
    system: await inj({ type: 'system', group: '相亲相爱一家人', content: '"张伟"邀请"孙浩"加入了群聊' }),
    transfer: await inj({ type: 'transfer', from: '王芳', content: '8.88' }),
    location: await inj({ type: 'location', from: '赵磊', content: '深圳湾公园' }),
    fromPhone: await inj({ type: 'text', from: '小明同学', to: '技术交流群🚀', content: 'sent from my phone' }),
    friendRequest: await inj({ type: 'friend_request', from: '新朋友', content: '我是新朋友' }),
    noTopic: await inj({ type: 'text', from: '杨洋😀', group: '902809793@chatroom', content: 'in a room without a topic' }),
  };
  const [text, groupText, link, card, system, transfer, location, fromPhone, req, noTopic] = await receive(Object.values(ids));
  assert.equal(text.Content, '你好<span class="emoji emoji1f600"></span><br/>第二行');
  assert.equal(text.MsgType, 1);
  const g = splitGroupContent(groupText.Content);
  assert.match(g.sender!, /^@[0-9a-f]{32}$/);
  assert.equal(g.content, 'hi all');
  assert.match(groupText.FromUserName, /^@@[0-9a-f]{64}$/);
  assert.equal(groupText.ToUserName, c.selfName);
  assert.deepEqual([link.MsgType, link.AppMsgType, link.Url, link.FileName], [49, 5, 'https://example.com/a', '标题']);
  assert.equal(parseAppMsg(link.Content)!.url, 'https://example.com/a');
  assert.equal(card.MsgType, 42);
  assert.equal(parseCardContent(card.Content)!.nickname, '陈静');
  assert.equal(card.RecommendInfo.NickName, '陈静');
  assert.match(card.RecommendInfo.UserName, /^@[0-9a-f]{32}$/);
  assert.deepEqual([system.MsgType, system.Status], [10000, 4]);
  assert.doesNotMatch(system.Content, /:<br\/>/, 'system tips in groups carry no sender prefix');
  assert.deepEqual([transfer.MsgType, transfer.AppMsgType, transfer.FileName], [49, 2000, '微信转账']);
  assert.match(transfer.Content, /￥8\.88/);
  assert.deepEqual([location.MsgType, location.SubMsgType], [1, 48]);
  assert.equal(parseLocation({ content: location.Content, url: location.Url, oriContent: location.OriContent })!.label, '深圳湾公园');
  assert.equal(fromPhone.FromUserName, c.selfName);
  assert.match(fromPhone.ToUserName, /^@@/);
  assert.equal(fromPhone.Content, 'sent from my phone', 'own group messages carry no prefix');
  assert.deepEqual([req.MsgType, req.FromUserName], [37, 'fmessage']);
  assert.equal(parseVerifyContent(req.Content)!.fromnickname, '新朋友');
  assert.match(req.RecommendInfo.Ticket, /^v2_[0-9a-f]+@stranger$/);
  assert.match(noTopic.FromUserName, /^@@/);
  // A revoke of the last text of 老张.
  const rv = (await control(sb, 'POST', 'messages', { type: 'revoke', from: '张伟' })).json.msgIds[0];
  const [revoke] = await receive([rv]);
  assert.equal(revoke.MsgType, 10002);
  const parsed = parseRevokeContent(revoke.Content)!;
  assert.equal(parsed.msgid, ids.card, 'the newest message of that sender');
  assert.equal(parsed.replacemsg, '"老张" 撤回了一条消息');
  // count: many copies, distinct MsgIds.
  const many = (await control(sb, 'POST', 'messages', { type: 'text', from: '王芳', content: 'x', count: 5 })).json.msgIds;
  assert.equal(new Set(many).size, 5);
  await receive(many);
});

test('accepting an injected friend request with webwxverifyuser Opcode 3 adds the friend (ModContactList + tip)', async () => {
  await drain(c);
  const id = (await control(sb, 'POST', 'messages', { type: 'friend_request', from: '路人甲' })).json.msgIds[0];
  const [req] = await receive([id]);
  const r = await c.json(Path.verifyUser, `r=${Date.now()}&pass_ticket=${c.passTicket}`, {
    BaseRequest: c.baseRequest(), Opcode: 3, VerifyUserListSize: 1,
    VerifyUserList: [{ Value: req.RecommendInfo.UserName, VerifyUserTicket: req.RecommendInfo.Ticket }],
    VerifyContent: '', SceneListCount: 1, SceneList: [33], skey: c.keys!.skey,
  });
  assert.equal(r.BaseResponse.Ret, 0);
  await c.syncCheck();
  const s = await c.sync();
  assert.equal(s.ModContactList[0].UserName, req.RecommendInfo.UserName);
  assert.equal(s.ModContactList[0].NickName, '路人甲');
  assert.match(s.AddMsgList[0].Content, /你已添加了 路人甲 ，现在可以开始聊天了。/);
  const again = await c.json(Path.verifyUser, `pass_ticket=${c.passTicket}`, {
    BaseRequest: c.baseRequest(), Opcode: 3, VerifyUserListSize: 1, VerifyUserList: [{ Value: req.RecommendInfo.UserName, VerifyUserTicket: 'v2_bad@stranger' }],
    VerifyContent: '', SceneListCount: 1, SceneList: [33], skey: c.keys!.skey,
  });
  assert.equal(again.BaseResponse.Ret, 1);
});

test('contact operations push ModContactList / DelContactList', async () => {
  await drain(c);
  const add = await control(sb, 'POST', 'contacts', { op: 'add_friend', nickName: '新同事', remarkName: '小新' });
  assert.equal(add.status, 200);
  await c.syncCheck();
  let s = await c.sync();
  assert.equal(s.ModContactList[0].UserName, add.json.UserName);
  assert.equal(s.ModContactList[0].RemarkName, '小新');
  const grp = await control(sb, 'POST', 'contacts', { op: 'add_group', topic: '新群', members: ['新同事', '王芳'] });
  await control(sb, 'POST', 'contacts', { op: 'add_member', group: '新群', member: '陈静' });
  await control(sb, 'POST', 'contacts', { op: 'remove_member', group: '新群', member: '王芳' });
  await control(sb, 'POST', 'contacts', { op: 'rename_group', group: '新群', topic: '改名后的群' });
  await c.syncCheck();
  s = await c.sync();
  const room = s.ModContactList.find((x: any) => x.UserName === grp.json.UserName);
  assert.equal(room.NickName, '改名后的群');
  assert.equal(room.MemberCount, 3, 'self, 新同事, 陈静');
  assert.equal(s.ModContactCount, 1, 'several changes of one contact → one entry with the latest state');
  await control(sb, 'POST', 'contacts', { op: 'remove_group', group: '改名后的群' });
  await control(sb, 'POST', 'contacts', { op: 'remove_friend', friend: '小新' });
  await c.syncCheck();
  s = await c.sync();
  assert.deepEqual(s.DelContactList, [{ UserName: grp.json.UserName, ContactFlag: 0 }, { UserName: add.json.UserName, ContactFlag: 0 }]);
  assert.equal((await control(sb, 'GET', 'state')).json.friends, 10, '9 + 路人甲');
});

test('faults: status, garbage body, ret and delay for the next N calls, then normal again', async () => {
  await drain(c);
  assert.equal((await control(sb, 'POST', 'faults', { endpoint: 'synccheck', status: 500, times: 2 })).status, 200);
  assert.equal((await c.syncCheckRaw()).status, 500);
  assert.equal((await c.syncCheckRaw()).status, 500);
  await control(sb, 'POST', 'faults', { endpoint: 'webwxsync', body: 'garbage', times: 1 });
  const g = await c.postJson(Path.sync, `pass_ticket=${c.passTicket}`, { BaseRequest: c.baseRequest(), SyncKey: c.syncKey });
  assert.equal(g.text, 'garbage');
  await control(sb, 'POST', 'faults', { endpoint: 'synccheck', ret: 1101, times: 1 });
  assert.equal((await c.syncCheckRaw()).text, 'window.synccheck={retcode:"1101",selector:"0"}');
  await control(sb, 'POST', 'faults', { endpoint: 'webwxsync', ret: 1205, times: 1 });
  const id = sb.handle.inject({ type: 'text', from: '王芳', content: 'kept' }).msgIds[0];
  const f = await c.sync();
  assert.equal(f.BaseResponse.Ret, 1205);
  assert.deepEqual(f.AddMsgList, [], 'a faulted sync consumes nothing');
  const ok = await c.sync();
  assert.equal(ok.AddMsgList[0].MsgId, id);
  await control(sb, 'POST', 'faults', { endpoint: 'webwxgetcontact', delayMs: 150, times: 1 });
  const t0 = Date.now();
  const slow = await c.getContact(0);
  assert.ok(Date.now() - t0 >= 140);
  assert.equal(slow.BaseResponse.Ret, 0);
});

test('bad control input → 400 with an error naming the problem', async () => {
  const cases: [string, unknown, RegExp][] = [
    ['messages', { type: 'nope', from: '王芳' }, /type/],
    ['messages', { type: 'text' }, /"from" is required/],
    ['messages', { type: 'text', from: '没有这个人' }, /unknown sender/],
    ['messages', { type: 'text', from: '王芳', group: '技术交流群🚀' }, /not a member/],
    ['messages', { type: 'text', from: '王芳', count: 0 }, /count/],
    ['messages', '{oops', /not valid JSON/],
    ['contacts', { op: 'explode' }, /op/],
    ['contacts', { op: 'remove_friend', friend: '没有这个人' }, /unknown friend/],
    ['contacts', { op: 'add_group', members: [] }, /members/],
    ['faults', { endpoint: 'synccheck', times: 1 }, /at least one/],
    ['faults', { endpoint: 'nosuch', status: 500, times: 1 }, /unknown endpoint/],
    ['faults', { endpoint: 'synccheck', status: 500 }, /times/],
  ];
  for (const [path, body, re] of cases) {
    const r = await control(sb, 'POST', path, body);
    assert.equal(r.status, 400, `${path} ${JSON.stringify(body)}`);
    assert.match(r.json.error, re);
  }
  const r = await control(sb, 'GET', 'nosuch');
  assert.equal(r.status, 404);
});

test('POST /__sandbox/messages with an array: injected in order, one answer each; the first bad one ends the call with its index and what got in', async () => {
  const two = await control(sb, 'POST', 'messages', [
    { type: 'text', from: '老张', content: 'batch one' },
    { type: 'text', from: '李娜🌸', group: '相亲相爱一家人', content: 'batch two', count: 2 },
  ]);
  assert.equal(two.status, 200, JSON.stringify(two.json));
  assert.equal(two.json.length, 2);
  assert.equal(two.json[0].msgIds.length, 1);
  assert.equal(two.json[1].msgIds.length, 2);
  const got = await receive([...two.json[0].msgIds, ...two.json[1].msgIds]);
  assert.deepEqual(got.map((m) => splitGroupContent(m.Content).content), ['batch one', 'batch two', 'batch two']);

  const bad = await control(sb, 'POST', 'messages', [{ type: 'text', from: '老张', content: 'before the bad one' }, { type: 'text', from: '没有这个人' }, { type: 'text', from: '老张', content: 'never' }]);
  assert.equal(bad.status, 400);
  assert.match(bad.json.error, /^\[1\]: /);
  assert.equal(bad.json.injected.length, 1, 'the answers of the messages before the bad one');
  const [before] = await receive(bad.json.injected[0].msgIds);
  assert.equal(before.Content, 'before the bad one');

  const tooMany = [{ type: 'text', from: '老张', count: 10000 }, { type: 'text', from: '老张' }];
  for (const [body, re] of [[[], /empty array/], [[42], /^\[0\]: a message: a JSON object/], [[{ type: 'text', from: '老张', user: 'nobody' }], /^\[0\]: /], [tooMany, /10001 messages in one call; at most 10000/]] as const) {
    const r = await control(sb, 'POST', 'messages', body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.match(r.json.error, re);
  }
});

test('control bodies are JSON whatever the Content-Type (curl -d sends form-urlencoded)', async () => {
  const { request } = await import('undici');
  const r = await request(`${sb.url}/__sandbox/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: JSON.stringify({ type: 'text', from: '王芳', content: 'via curl' }),
  });
  assert.equal(r.statusCode, 200);
  const { msgIds } = (await r.body.json()) as { msgIds: string[] };
  const [m] = await receive(msgIds);
  assert.equal(m.Content, 'via curl');
});

test('GET /__sandbox/world returns the world; it loads back as --world', async () => {
  const w = (await control(sb, 'GET', 'world')).json;
  assert.equal(w.format, 'openwx-sandbox-world/1');
  assert.ok(w.people.some((p: any) => p.nickName === '路人甲' && p.friend === true));
  const sb2 = await sandbox({ world: w });
  try {
    const st = (await control(sb2, 'GET', 'state')).json;
    assert.equal(st.friends, (await control(sb, 'GET', 'state')).json.friends);
    assert.deepEqual((await control(sb2, 'GET', 'world')).json, w);
  } finally {
    await sb2.close();
  }
});

test('injecting while nobody is online is refused with 400', async () => {
  const sb2 = await sandbox();
  try {
    const r = await control(sb2, 'POST', 'messages', { type: 'text', from: '王芳' });
    assert.equal(r.status, 400);
    assert.match(r.json.error, /no session is online/);
  } finally {
    await sb2.close();
  }
});
