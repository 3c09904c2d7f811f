/**
 * Every fixture that is a real server answer (SOURCES.md: verbatim real capture / issue-thread quote) compared
 * structurally with what the sandbox answers for the same call, over real HTTP with real-name Host headers.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureJson, fixtureText, httpExchanges } from '../helpers/fixtures.ts';
import { jsSkeleton, shapeDiff, xmlElementOrder } from '../helpers/structural.ts';
import { control, drain, loggedIn, sandbox } from '../helpers/sandbox.ts';
import { WxTestClient } from '../helpers/wx-test-client.ts';
import { formatServerJson, STYLE } from '../../src/sandbox/server-json.ts';
import { FormData } from 'undici';
import { Path } from '../../src/wire/paths.ts';
import type { Sandbox } from '../../src/sandbox/index.ts';

let sb: Sandbox;
let c: WxTestClient;
let init: any;

before(async () => {
  sb = await sandbox();
  ({ client: c, init } = await loggedIn(sb, { realNames: true }));
});
after(async () => sb.close());

const exact = { mode: 'exact' as const };
const subset = (ignore: string[] = []) => ({ mode: 'subset' as const, ignore: (k: string) => ignore.includes(k) || k.startsWith('MM') });
const noDiff = (d: string[]) => assert.deepEqual(d, [], d.slice(0, 10).join('\n'));
const body = (name: string, i = 0) => httpExchanges(name)[i]!.body.trim();
/** The sandbox answer is in the server's own layout: re-formatting its parsed JSON gives the same bytes. */
function sameLayout(text: string, style: Parameters<typeof formatServerJson>[1]) {
  const marked = text.replace(/"NewMsgId": (\d+)/g, '"NewMsgId": "__BIG__$1"');
  const v = JSON.parse(marked, (_k, x) => (typeof x === 'string' && x.startsWith('__BIG__') ? BigInt(x.slice(7)) : x));
  assert.equal(formatServerJson(v, style), text);
}

test('jslogin: JS syntax, uuid format and the two Content-Type headers of http-jslogin', async () => {
  const fx = httpExchanges('http-jslogin.qjesus.txt')[0]!;
  const r = await c.req('login', `${Path.jslogin}?appid=wx782c26e4c19acffb&redirect_uri=https%3A%2F%2Fwx.qq.com%2Fcgi-bin%2Fmmwebwx-bin%2Fwebwxnewloginpage&fun=new&lang=zh_CN&_=${Date.now()}`);
  assert.equal(jsSkeleton(r.text), jsSkeleton(fx.body));
  assert.match(r.text, /uuid = "[A-Za-z0-9]{10}==";$/);
  assert.equal(jsSkeleton(fixtureText('jslogin-response.wx2-2019.txt')), jsSkeleton(r.text));
  const ct = ([] as string[]).concat(r.headers['content-type'] as string | string[]).join(',');
  for (const v of fx.headers['content-type']!) assert.ok(ct.includes(v), `content-type lacks ${v}: ${ct}`);
  assert.equal(r.headers['cache-control'], fx.headers['cache-control']![0]);
});

test('login poll: 408 / 201 with userAvatar / 200 with redirect_uri / 400 (http-login, login-poll-sequence.wx2-2019)', async () => {
  const fx = httpExchanges('http-login.qjesus.txt');
  const t = new WxTestClient(sb.url, { realNames: true });
  const uuid = await t.jslogin();
  const w = await t.poll(uuid, 1);
  assert.equal(jsSkeleton(w.raw), jsSkeleton(fx[0]!.body));
  await control(sb, 'POST', 'scan', {});
  const s = await t.poll(uuid);
  assert.equal(jsSkeleton(s.raw), jsSkeleton(fx[1]!.body));
  assert.match(s.userAvatar!, /^data:img\/jpg;base64,\/9j\//);
  await control(sb, 'POST', 'confirm', {});
  const ok = await t.poll(uuid);
  assert.equal(jsSkeleton(ok.raw), jsSkeleton(fx[2]!.body));
  const real = new URL(/redirect_uri="([^"]+)"/.exec(fx[2]!.body)![1]!);
  const mine = new URL(ok.redirectUri!);
  assert.equal(mine.origin, real.origin, 'real-name client is redirected to https://wx.qq.com');
  assert.equal(mine.pathname, real.pathname);
  assert.deepEqual([...mine.searchParams.keys()], [...real.searchParams.keys()]);
  assert.match(mine.searchParams.get('ticket')!, /@qrticket_0$/);
  const seq = fixtureText('login-poll-sequence.wx2-2019.txt');
  const expired = await t.poll('NoSuchUuid==');
  assert.ok(seq.includes(expired.raw), 'window.code=400; for an unknown/expired uuid');
});

test('QR image is a JPEG (http-qrcode)', async () => {
  const fx = httpExchanges('http-qrcode.qjesus.txt')[0]!;
  const uuid = await new WxTestClient(sb.url, { realNames: true }).jslogin();
  const r = await c.req('qr', `${Path.qrcode}/${uuid}`);
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], fx.headers['content-type']![0]);
  assert.deepEqual([...r.body.subarray(0, 3)], [0xff, 0xd8, 0xff]);
});

test('webwxnewloginpage: XML element order and Set-Cookie names/attributes (QJesus 2018, wx2 2019)', async () => {
  const t = new WxTestClient(sb.url, { realNames: true });
  const uuid = await t.jslogin();
  await control(sb, 'POST', 'confirm', {});
  const r = await t.newLoginPage(await t.waitConfirmed(uuid));
  for (const name of ['http-webwxnewloginpage.qjesus.txt', 'http-webwxnewloginpage.wx2-2019.txt']) {
    const fx = httpExchanges(name)[0]!;
    assert.equal(r.status, fx.status);
    assert.equal(r.headers['content-type'], fx.headers['content-type']![0]);
    assert.deepEqual(xmlElementOrder(r.text), xmlElementOrder(fx.body));
    const attrs = (c: string) => c.split(';').map((p) => p.trim().split('=')[0]!.toLowerCase());
    const byName = (list: string[]) => new Map(list.map((c) => [c.split('=')[0]!, c]));
    const mine = byName(r.headers['set-cookie'] as string[]);
    for (const [cname, cookie] of byName(fx.headers['set-cookie']!)) {
      assert.ok(mine.has(cname), `cookie ${cname} missing`);
      assert.deepEqual(attrs(mine.get(cname)!), attrs(cookie), `attributes of ${cname}`);
      const dom = (x: string) => /Domain=([^;]+)/.exec(x)![1];
      assert.equal(dom(mine.get(cname)!), dom(cookie)!.replace('wx2.qq.com', 'wx.qq.com'), `domain of ${cname}`);
      assert.match(mine.get(cname)!, /Expires=\w{3}, \d{2}-\w{3}-\d{4} \d{2}:\d{2}:\d{2} GMT/);
    }
  }
  assert.deepEqual(xmlElementOrder(r.text), xmlElementOrder(fixtureText('webwxnewloginpage-ok.qjesus.xml')));
  // That login replaced the shared client's session: log the shared client in again.
  ({ client: c, init } = await loggedIn(sb, { realNames: true }));
});

test('webwxinit: keys, types, encodings and layout (http-webwxinit, webwxinit-response.qjesus, webwxinit.wechat4u)', async () => {
  const r = await c.postJson(Path.init, `r=-1&lang=zh_CN&pass_ticket=${c.passTicket}`, { BaseRequest: { ...c.baseRequest(), Uin: c.keys!.wxuin } });
  const fx = httpExchanges('http-webwxinit.qjesus.txt')[0]!;
  assert.equal(r.headers['content-type'], fx.headers['content-type']![0]);
  noDiff(shapeDiff(JSON.parse(fx.body), JSON.parse(r.text), exact));
  noDiff(shapeDiff(fixtureJson('webwxinit-response.qjesus.json'), JSON.parse(r.text), exact));
  noDiff(shapeDiff(fixtureJson('webwxinit.wechat4u.json'), JSON.parse(r.text), subset()));
  sameLayout(r.text, STYLE.init);
  assert.ok(r.text.startsWith('{\n    "BaseResponse": {"Ret": 0,"ErrMsg": ""},\n    "Count": '));
  assert.match(init.ChatSet, /,$/);
});

test('webwxstatusnotify: compact answer (http-webwxstatusnotify, webwxstatusnotify-response.qjesus)', async () => {
  const r = await c.postJson(Path.statusNotify, `lang=zh_CN&pass_ticket=${c.passTicket}`, {
    BaseRequest: c.baseRequest(), Code: 3, FromUserName: c.selfName, ToUserName: c.selfName, ClientMsgId: Date.now(),
  });
  const fx = body('http-webwxstatusnotify.qjesus.txt');
  noDiff(shapeDiff(JSON.parse(fx), JSON.parse(r.text), exact));
  noDiff(shapeDiff(fixtureJson('webwxstatusnotify-response.qjesus.json'), JSON.parse(r.text), exact));
  assert.equal(r.text.replace(/"\d+"/g, '"N"'), fx.replace(/"\d+"/g, '"N"'));
});

test('webwxgetcontact: keys and layout (http-webwxgetcontact, webwxgetcontact.qjesus, webwxgetcontact.wechat4u)', async () => {
  const r = await c.req('page', `${Path.getContact}?lang=zh_CN&pass_ticket=${c.passTicket}&r=${Date.now()}&seq=0&skey=${c.keys!.skey}`);
  noDiff(shapeDiff(JSON.parse(body('http-webwxgetcontact.qjesus.txt')), JSON.parse(r.text), exact));
  noDiff(shapeDiff(fixtureJson('webwxgetcontact.qjesus.json'), JSON.parse(r.text), exact));
  noDiff(shapeDiff(fixtureJson('webwxgetcontact.wechat4u.json'), JSON.parse(r.text), subset()));
  sameLayout(r.text, STYLE.getContact);
});

test('webwxbatchgetcontact: chatroom with MemberList and EncryChatRoomId (QJesus, wechat4u, wechaty)', async () => {
  const contacts = await c.allContacts();
  const rooms = contacts.filter((x) => x.UserName.startsWith('@@'));
  const req = httpExchanges('http-webwxbatchgetcontact.qjesus.txt')[0]!.request;
  const r = await c.postJson(Path.batchGetContact, `type=ex&r=${Date.now()}&lang=zh_CN&pass_ticket=${c.passTicket}`, {
    BaseRequest: c.baseRequest(), Count: rooms.length, List: rooms.map((x) => ({ UserName: x.UserName, ChatRoomId: '' })),
  });
  assert.ok(req.includes('"ChatRoomId":""'));
  const a = JSON.parse(r.text);
  assert.equal(a.Count, rooms.length);
  noDiff(shapeDiff(JSON.parse(body('http-webwxbatchgetcontact.qjesus.txt')), a, exact));
  noDiff(shapeDiff(fixtureJson('webwxbatchgetcontact-chatroom.qjesus.json'), a, exact));
  noDiff(shapeDiff(fixtureJson('webwxbatchgetcontact-chatroom.wechat4u.json').ContactList, a.ContactList, subset()));
  noDiff(shapeDiff(fixtureJson('contact-chatroom-with-memberlist.wechaty-web.json'), a.ContactList[0], subset(['HeadImgUrl'])));
  sameLayout(r.text, STYLE.batchGetContact);
  assert.match(a.ContactList[0].HeadImgUrl, /webwxgetheadimg\?seq=\d+&username=@@[0-9a-f]{64}&skey=$/);
});

test('synccheck + webwxsync with emoticon, status notify, video and text (http-synccheck, http-webwxsync)', async () => {
  await drain(c);
  await control(sb, 'POST', 'messages', { type: 'emoticon', from: '张伟' });
  await control(sb, 'POST', 'messages', { type: 'video', from: '张伟' });
  await control(sb, 'POST', 'messages', { type: 'text', from: '张伟', content: '为什么这么冷' });
  const sc = await c.syncCheckRaw();
  const fx = httpExchanges('http-synccheck.qjesus.txt')[0]!;
  assert.equal(jsSkeleton(sc.text), jsSkeleton(fx.body.split(/\s/)[0]!));
  assert.equal(sc.text, 'window.synccheck={retcode:"0",selector:"2"}');
  assert.equal(sc.headers['access-control-allow-origin'], '*');
  assert.equal(sc.headers['content-type'], fx.headers['content-type']![0]);
  const k = c.keys!;
  const r = await c.postJson(Path.sync, `sid=${encodeURIComponent(k.wxsid!)}&skey=${k.skey}&lang=zh_CN&pass_ticket=${c.passTicket}`, {
    BaseRequest: c.baseRequest(), SyncKey: c.syncKey, rr: -1,
  });
  const a = JSON.parse(r.text);
  // The status notify (51) of the capture: the phone opened the chat.
  assert.deepEqual(a.AddMsgList.map((m: any) => m.MsgType), [47, 43, 1]);
  const real = JSON.parse(fixtureText('webwxsync-emoji47-status51-video43-text1.qjesus.json'));
  noDiff(shapeDiff(real, a, exact));
  noDiff(shapeDiff(JSON.parse(body('http-webwxsync.qjesus.txt').replace(/,\s+\/\/[^\n]*/g, ',')), a, exact));
  noDiff(shapeDiff(fixtureJson('webwxsync-group-text.wx-2015.json'), a, subset(['MD5'])));
  sameLayout(r.text, STYLE.sync);
  const cookieNames = (r.headers['set-cookie'] as string[]).map((x) => x.split('=')[0]);
  const fxNames = httpExchanges('http-webwxsync.qjesus.txt')[0]!.headers['set-cookie']!.map((x) => x.split('=')[0]);
  assert.deepEqual(cookieNames, fxNames);
  assert.match(r.text, /"NewMsgId": \d{15,20},/);
  c.syncKey = a.SyncKey;
});

test('ModContactList entries for a group and a friend (webwxsync-statusnotify51-and-text.wechat4u)', async () => {
  await drain(c);
  await control(sb, 'POST', 'contacts', { op: 'rename_group', group: '相亲相爱一家人', topic: '一家人' });
  await control(sb, 'POST', 'contacts', { op: 'update_friend', friend: '张伟', signature: '新签名' });
  await c.syncCheck();
  const a = await c.sync();
  const fx = fixtureJson('webwxsync-statusnotify51-and-text.wechat4u.json');
  noDiff(shapeDiff(fx, a, subset()));
  assert.equal(a.ModContactCount, 2);
  await control(sb, 'POST', 'contacts', { op: 'rename_group', group: '一家人', topic: '相亲相爱一家人' });
  await drain(c);
});

test('webwxsendmsg: compact answer with MsgID and LocalID (http-webwxsendmsg, webwxsendmsg-response.qjesus)', async () => {
  const friend = (await c.allContacts()).find((x) => x.NickName === '王芳');
  const req = JSON.parse(fixtureText('webwxsendmsg-request.qjesus.json'));
  req.BaseRequest = c.baseRequest();
  Object.assign(req.Msg, { FromUserName: c.selfName, ToUserName: friend.UserName });
  const r = await c.postJson(Path.sendMsg, `lang=zh_CN&pass_ticket=${c.passTicket}`, req);
  const fx = body('http-webwxsendmsg.qjesus.txt');
  noDiff(shapeDiff(JSON.parse(fx), JSON.parse(r.text), exact));
  noDiff(shapeDiff(fixtureJson('webwxsendmsg-response.qjesus.json'), JSON.parse(r.text), exact));
  assert.equal(r.text.replace(/"\d+"/g, '"N"'), fx.replace(/"\d+"/g, '"N"'));
  assert.equal(JSON.parse(r.text).LocalID, req.Msg.LocalID);
});

test('webwxuploadmedia: answer keys, layout and CORS headers (http-webwxuploadmedia-2, webwxuploadmedia-response.qjesus)', async () => {
  const fx = httpExchanges('http-webwxuploadmedia-2.qjesus.txt')[0]!;
  const umr = JSON.parse(fixtureText('webwxuploadmedia-uploadmediarequest.qjesus.json'));
  const { solidJpeg } = await import('../../src/sandbox/media-gen.ts');
  const jpeg = solidJpeg(660, 1000, [10, 20, 30]);
  Object.assign(umr, { BaseRequest: c.baseRequest(), TotalLen: jpeg.length, DataLen: jpeg.length, FromUserName: c.selfName, ToUserName: 'filehelper' });
  const form = new FormData();
  for (const [k, v] of [['id', 'WU_FILE_1'], ['name', 'IMG_1854.JPG'], ['type', 'image/jpeg'], ['lastModifiedDate', 'Tue Nov 06 2018 08:45:19 GMT+0800 (中国标准时间)'], ['size', String(jpeg.length)], ['mediatype', 'pic'], ['uploadmediarequest', JSON.stringify(umr)], ['webwx_data_ticket', (await c.jar.getCookies('https://file.wx.qq.com/')).find((x) => x.key === 'webwx_data_ticket')!.value], ['pass_ticket', 'undefined']]) form.append(k!, v!);
  form.append('filename', new Blob([jpeg], { type: 'image/jpeg' }), 'IMG_1854.JPG');
  const r = await c.req('file', `${Path.uploadMedia}?f=json`, { method: 'POST', body: form, headers: { origin: 'https://wx.qq.com' } });
  const a = JSON.parse(r.text);
  noDiff(shapeDiff(JSON.parse(fx.body), a, exact));
  noDiff(shapeDiff(fixtureJson('webwxuploadmedia-response.qjesus.json'), a, exact));
  sameLayout(r.text, STYLE.upload);
  assert.equal(a.EncryFileName, 'IMG%5F1854%2EJPG');
  assert.deepEqual([a.CDNThumbImgHeight, a.CDNThumbImgWidth], [100, 66]);
  assert.equal(r.headers['access-control-allow-origin'], fx.headers['access-control-allow-origin']![0]);
  assert.equal(r.headers['access-control-allow-credentials'], 'true');
});

test('media downloads: status, Content-Type, caching and Range (geticon, getheadimg, getmsgimg, getvideo captures)', async () => {
  await drain(c);
  const contacts = await c.allContacts();
  const friend = contacts.find((x) => x.NickName === '张伟');
  const room = contacts.find((x) => x.UserName.startsWith('@@'));
  for (const [name, url] of [['http-webwxgeticon.qjesus.txt', friend.HeadImgUrl], ['http-webwxgetheadimg.qjesus.txt', room.HeadImgUrl]]) {
    const fx = httpExchanges(name!)[0]!;
    const r = await c.req('page', url!);
    assert.equal(r.status, fx.status);
    assert.equal(r.headers['content-type'], fx.headers['content-type']![0]);
    assert.equal(r.headers['cache-control'], fx.headers['cache-control']![0]);
    assert.deepEqual([...r.body.subarray(0, 2)], [0xff, 0xd8]);
  }
  const { msgIds: [img] } = (await control(sb, 'POST', 'messages', { type: 'image', from: '张伟' })).json;
  const { msgIds: [vid] } = (await control(sb, 'POST', 'messages', { type: 'video', from: '张伟' })).json;
  const fxImg = httpExchanges('http-webwxgetmsgimg.qjesus.txt')[0]!;
  const ri = await c.req('page', `${Path.getMsgImg}?&MsgID=${img}&skey=${encodeURIComponent(c.keys!.skey!)}&type=big`);
  assert.equal(ri.headers['content-type'], fxImg.headers['content-type']![0]);
  assert.equal(ri.headers['cache-control'], fxImg.headers['cache-control']![0]);
  const fxVid = httpExchanges('http-webwxgetvideo.qjesus.txt')[0]!;
  const rv = await c.req('page', `${Path.getVideo}?msgid=${vid}&skey=${encodeURIComponent(c.keys!.skey!)}`, { headers: { range: 'bytes=0-' } });
  assert.equal(rv.status, fxVid.status);
  assert.equal(rv.headers['content-type'], fxVid.headers['content-type']![0]);
  const range = /^bytes 0-(\d+)\/(\d+)$/.exec(String(rv.headers['content-range']));
  assert.ok(range && Number(range[1]) + 1 === Number(range[2]) && Number(range[2]) === rv.body.length);
  assert.equal(rv.body.subarray(4, 8).toString('latin1'), 'ftyp');
});

test('failure answers quoted in issues: 1100 without cookies, 1102 synccheck, 1101 after logout, Ret 1 getcontact', async () => {
  const t = new WxTestClient(sb.url, { realNames: true });
  t.keys = c.keys;
  // webwxinit without the cookies set by webwxnewloginpage (WeixinBot#174): Ret 1100, every key present.
  const noCookie = await t.postJson(Path.init, `r=-1&pass_ticket=${c.passTicket}`, { BaseRequest: { ...c.baseRequest(), Uin: c.keys!.wxuin } });
  const a = JSON.parse(noCookie.text);
  assert.deepEqual(a.BaseResponse, fixtureJson('webwxinit-ret1100-missing-cookie.weixinbot-issue174.json'));
  const truncated = fixtureText('webwxinit-ret1100-empty.node-wechat-terminal-issue1.txt');
  for (const key of truncated.match(/\b[A-Z][A-Za-z]+(?=:)/g)!) assert.ok(key in a || key in a.User || key in a.BaseResponse || key in a.SyncKey, key);
  assert.deepEqual(a.ContactList, []);
  // synccheck without cookies (WeixinBot#140): retcode 1102.
  const sc = await t.syncCheckRaw(c.syncKey, { cookies: false });
  assert.equal(sc.text, 'window.synccheck={retcode:"1102",selector:"0"}');
  assert.ok(fixtureText('synccheck-ret1102-missing-cookie.weixinbot-issue140.txt').includes('retcode:"1102",selector:"0"'));
  // getcontact with a bad seq: Ret 1 with an empty list (wechat-deleted-friends#117).
  const g = JSON.parse((await c.req('page', `${Path.getContact}?pass_ticket=${c.passTicket}&r=1&seq=abc&skey=${c.keys!.skey}`)).text);
  noDiff(shapeDiff(fixtureJson('webwxgetcontact-ret1.wechat-deleted-friends-issue117.json'), g, exact));
  assert.equal(g.BaseResponse.Ret, 1);
  // Dropped session (WeixinBot#58): statusnotify answers 1101 byte for byte; synccheck 1101.
  await control(sb, 'POST', 'logout', {});
  const sn = await c.postJson(Path.statusNotify, `lang=zh_CN&pass_ticket=${c.passTicket}`, {
    BaseRequest: c.baseRequest(), Code: 3, FromUserName: c.selfName, ToUserName: c.selfName, ClientMsgId: Date.now(),
  });
  assert.equal(sn.text, fixtureText('webwxstatusnotify-ret1101.weixinbot-issue58.json').trim());
  const after = await c.syncCheckRaw();
  assert.ok(fixtureText('synccheck-error-sequence.weixinbot-issue58.txt').includes(after.text));
  assert.equal(after.text, 'window.synccheck={retcode:"1101",selector:"0"}');
});

test('fault answers keep the real shapes (webwxsendmsg-ret1204.itchat-issue514, error-1205-frequency.wxpy-issues)', async () => {
  const sb2 = await sandbox();
  try {
    const { client } = await loggedIn(sb2, { realNames: true });
    await control(sb2, 'POST', 'faults', { endpoint: 'webwxsendmsg', ret: 1204, times: 1 });
    const r = await client.sendText('filehelper', 'x');
    assert.deepEqual(Object.keys(r).sort(), ['BaseResponse', 'LocalID', 'MsgID']);
    assert.deepEqual([r.BaseResponse.Ret, r.MsgID, r.LocalID], [1204, '', '']);
    assert.ok(fixtureText('webwxsendmsg-ret1204.itchat-issue514.txt').includes("'Ret': 1204"));
    await control(sb2, 'POST', 'faults', { endpoint: 'webwxsendmsgimg', ret: 1205, times: 1 });
    const img = await client.json(Path.sendMsgImg, `fun=async&f=json&pass_ticket=${client.passTicket}`, { BaseRequest: client.baseRequest(), Msg: {}, Scene: 0 });
    assert.equal(img.BaseResponse.Ret, 1205);
    assert.equal(img.BaseResponse.ErrMsg, '');
  } finally {
    await sb2.close();
  }
});

test('login forbidden world: ret 1203 with only <ret> and <message> (ItChat#666, Hubot-WeChat#48)', async () => {
  const sb2 = await sandbox({ loginForbidden: true });
  try {
    const t = new WxTestClient(sb2.url, { realNames: true });
    const uuid = await t.jslogin();
    await control(sb2, 'POST', 'confirm', {});
    const r = await t.newLoginPage(await t.waitConfirmed(uuid));
    const fx = fixtureText('webwxnewloginpage-ret1203-not-allowed.itchat-issue666.xml').trim();
    assert.equal(r.text, fx);
    assert.deepEqual(xmlElementOrder(r.text), xmlElementOrder(fixtureText('webwxnewloginpage-ret1203-cannot.hubot-wechat-issue48.xml')));
    assert.equal(r.headers['set-cookie'], undefined);
  } finally {
    await sb2.close();
  }
});
