/**
 * Regressions found by running third-party clients unmodified against the sandbox (test/thirdparty/, see
 * docs/sandbox.md "Fidelity checks with third-party clients"). Each case is something the real server does that a
 * published client relies on; the evidence is named in the test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { control, loggedIn, sandbox } from '../helpers/sandbox.ts';
import { WxTestClient } from '../helpers/wx-test-client.ts';
import { Path } from '../../src/wire/paths.ts';
import { LOGIN_APPID } from '../../src/wire/constants.ts';
import { parseQRLogin } from '../../src/wire/jsvars.ts';
import { parseLoginPage } from '../../src/wire/loginpage.ts';
import { PHOTO, Replayer } from './replay/replay.ts';

const UOS_HEADERS = { 'client-version': '2.0.0', extspam: 'Go8FCIkFEokFCggwMDAwMDAwMRAGGvAESySibk50' };

test('jslogin answers POST like GET (wechat4u fetches the uuid with POST, parameters in the query)', async () => {
  const sb = await sandbox();
  try {
    const c = new WxTestClient(sb.url, { realNames: true });
    const q = `appid=${LOGIN_APPID}&fun=new&lang=zh_CN&redirect_uri=https://wx.qq.com${Path.newLoginPage}?mod=desktop`;
    const r = await c.req('login', `${Path.jslogin}?${q}`, { method: 'POST' });
    assert.equal(r.status, 200);
    assert.match(r.text, /^window\.QRLogin\.code = 200; window\.QRLogin\.uuid = "[A-Za-z0-9_-]{10}==";$/);
    assert.equal((await control(sb, 'GET', 'state')).json.uuid, parseQRLogin(r.text).uuid);
    const bad = await c.req('login', `${Path.jslogin}?appid=wx0000000000000000&fun=new`, { method: 'POST' });
    assert.equal(parseQRLogin(bad.text).code, 400, 'a wrong appid is refused on POST too');
  } finally {
    await sb.close();
  }
});

test('desktop login: the login poll redirect keeps jslogin\'s mod=desktop, so the unchanged URL + UOS headers gets the 301', async () => {
  const sb = await sandbox();
  try {
    const c = new WxTestClient(sb.url, { realNames: true });
    const uuid = await c.jslogin(true);
    sb.handle.confirm();
    const redirect = await c.waitConfirmed(uuid);
    assert.match(redirect, /^https:\/\/wx\.qq\.com\/cgi-bin\/mmwebwx-bin\/webwxnewloginpage\?mod=desktop&ticket=[^&]+&uuid=[^&]+&lang=zh_CN&scan=\d+$/);
    const u = new URL(redirect);
    // wechat4u GETs the redirect as it is (no fun/version/mod added) with the UOS headers and needs the 301.
    const r = await c.req('page', `${u.pathname}${u.search}`, { headers: UOS_HEADERS });
    assert.equal(r.status, 301);
    const keys = parseLoginPage(r.text);
    assert.equal(keys.ret, 0);
    assert.match(keys.skey ?? '', /^@crypt_[0-9a-f]{8}_[0-9a-f]{32}$/);
    assert.ok(r.headers['set-cookie'], 'the session cookies come with the 301');

    // A plain web login's redirect has no mod parameter; the same GET without UOS headers is a 200.
    const web = new WxTestClient(sb.url, { realNames: true });
    const uuid2 = await web.jslogin(false);
    sb.handle.confirm();
    const redirect2 = await web.waitConfirmed(uuid2);
    assert.match(redirect2, /webwxnewloginpage\?ticket=/);
    assert.equal((await web.newLoginPage(redirect2)).status, 200);
  } finally {
    await sb.close();
  }
});

test('webwxgetcontact: saved groups have MemberCount 0 and no members (wechat4u capture); POST is answered like GET', async () => {
  const sb = await sandbox();
  try {
    const { client } = await loggedIn(sb, { realNames: true });
    const got = await client.getContact(0);
    const rooms = got.MemberList.filter((x: any) => x.UserName.startsWith('@@'));
    assert.equal(rooms.length, 2, 'the two saved groups of the demo world');
    for (const g of rooms) {
      assert.equal(g.MemberCount, 0, `${g.NickName}: MemberCount 0 as in webwxgetcontact.wechat4u.json`);
      assert.deepEqual(g.MemberList, []);
    }
    // Those rooms' members come from batchgetcontact (what wechat4u does for every MemberCount 0 room).
    const batch = await client.batch(rooms.map((g: any) => ({ UserName: g.UserName, EncryChatRoomId: '' })));
    for (const g of batch.ContactList) {
      assert.ok(g.MemberCount > 0);
      assert.equal(g.MemberList.length, g.MemberCount);
    }

    const q = `pass_ticket=${client.passTicket}&r=${Date.now()}&seq=0&skey=${client.keys!.skey}`;
    const post = await client.req('page', `${Path.getContact}?${q}`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json;charset=UTF-8' } });
    assert.equal(post.status, 200);
    const viaPost = JSON.parse(post.text);
    assert.equal(viaPost.BaseResponse.Ret, 0);
    assert.deepEqual(
      viaPost.MemberList.map((x: any) => x.UserName),
      got.MemberList.map((x: any) => x.UserName),
    );
  } finally {
    await sb.close();
  }
});

test('webwxlogout without the sid/uin form (wechat4u: cookies and skey only) ends the session', async () => {
  const sb = await sandbox();
  try {
    const { client } = await loggedIn(sb, { realNames: true });
    const r = await client.req('page', `${Path.logout}?redirect=1&type=0&skey=${encodeURIComponent(client.keys!.skey!)}&lang=zh_CN`, { method: 'POST' });
    assert.equal(r.status, 200);
    assert.equal((await control(sb, 'GET', 'state')).json.login, 'offline');
    assert.equal((await client.syncCheck()).retcode, 1101);
  } finally {
    await sb.close();
  }
});

test('sends with a numeric LocalID/ClientMsgId (wechat4u) are answered and recorded with those digits', async () => {
  const sb = await sandbox();
  try {
    const { client } = await loggedIn(sb, { realNames: true });
    const friend = (await client.allContacts()).find((x: any) => x.NickName === '王芳');
    const localId = 1795865938882123;
    const r = await client.json(Path.sendMsg, `lang=zh_CN&pass_ticket=${client.passTicket}`, {
      BaseRequest: client.baseRequest(),
      Scene: 0,
      Msg: { Type: 1, Content: 'numeric ids', FromUserName: client.selfName, ToUserName: friend.UserName, LocalID: localId, ClientMsgId: localId },
    });
    assert.equal(r.BaseResponse.Ret, 0);
    assert.equal(r.LocalID, '1795865938882123');
    const rec = (await control(sb, 'GET', 'sent')).json.find((x: any) => x.MsgID === r.MsgID);
    assert.equal(rec.LocalID, '1795865938882123');
  } finally {
    await sb.close();
  }
});

test('webwxuploadmedia without cookies (itchat before 1.3 posted it outside its session: ItChat messages.py @ 04bcc11, `requests.post(url, files=…)`) is identified by its BaseRequest / webwx_data_ticket', async () => {
  const sb = await sandbox();
  try {
    const { client } = await loggedIn(sb, { realNames: true });
    const ticket = client.jar.getCookiesSync('https://file.wx.qq.com/').find((c) => c.key === 'webwx_data_ticket')!.value;
    const rp = new Replayer(sb);
    const upload = (br: Record<string, unknown>) =>
      rp.send({
        method: 'POST',
        url: 'https://file.wx.qq.com/cgi-bin/mmwebwx-bin/webwxuploadmedia?f=json',
        cookies: false,
        body: {
          multipart: [
            ['id', 'WU_FILE_0'], ['name', PHOTO.name], ['type', PHOTO.type], ['lastModifiedDate', 'Thu Jan 01 2020 08:00:00 GMT+0800 (CST)'],
            ['size', String(PHOTO.bytes.length)], ['mediatype', 'pic'],
            ['uploadmediarequest', JSON.stringify({ UploadType: 2, BaseRequest: br, ClientMediaId: Date.now(), TotalLen: PHOTO.bytes.length, StartPos: 0, DataLen: PHOTO.bytes.length, MediaType: 4, FromUserName: client.selfName, ToUserName: 'filehelper' })],
            ['webwx_data_ticket', ticket], ['pass_ticket', client.keys!.pass_ticket!],
          ],
          file: PHOTO,
        },
      });
    const k = client.keys!;
    const a = JSON.parse((await upload({ Skey: k.skey, Sid: k.wxsid, Uin: k.wxuin, DeviceID: k.pass_ticket })).text);
    assert.equal(a.BaseResponse.Ret, 0);
    assert.match(a.MediaId, /^@crypt_/);
    const b = JSON.parse((await upload({})).text);
    assert.equal(b.BaseResponse.Ret, 0, 'the webwx_data_ticket field alone names the session');
    await control(sb, 'POST', 'logout', {});
    assert.equal(JSON.parse((await upload({ Sid: k.wxsid })).text).BaseResponse.Ret, 1101, 'an ended session is still refused');
  } finally {
    await sb.close();
  }
});

test('Mojo-Weixin cookie restore: `GET https://wx.qq.com/` says isLogin for a live session, then init and sync with empty skey and pass_ticket work (Mojo-Weixin _is_need_login.pm, mojo-weixin-reference §3.3)', async () => {
  const sb = await sandbox();
  try {
    const fresh = new Replayer(sb);
    const before = await fresh.send({ method: 'GET', url: 'https://wx.qq.com/' });
    assert.doesNotMatch(before.text, /window\.MMCgi\s*=\s*{\s*isLogin\s*:\s*(!!"1")\s*}/s, 'no cookies: not logged in');
    const { client } = await loggedIn(sb, { realNames: true });
    const rp = new Replayer(sb);
    for (const c of client.jar.getCookiesSync('https://wx.qq.com/')) rp.jar.setCookieSync(c, 'https://wx.qq.com/');
    const page = await rp.send({ method: 'GET', url: 'https://wx.qq.com/' });
    assert.equal(page.status, 200);
    assert.match(page.text, /window\.MMCgi\s*=\s*{\s*isLogin\s*:\s*(!!"1")\s*}/s, "Mojo-Weixin's own regex");
    // Restored from cookies: wxuin/wxsid only; skey and pass_ticket stay empty.
    const uin = rp.cookieValue('wxuin');
    const sid = rp.cookieValue('wxsid');
    const json = { 'content-type': 'application/json', referer: 'https://wx.qq.com/' };
    const init = JSON.parse(
      (await rp.send({ method: 'POST', url: `https://wx.qq.com${Path.init}?r=${~Date.now()}&pass_ticket=`, headers: json, body: JSON.stringify({ BaseRequest: { Uin: uin, Sid: sid, Skey: '', DeviceID: 'e123456789012345' } }) })).text,
    );
    assert.equal(init.BaseResponse.Ret, 0);
    const sync = JSON.parse(
      (await rp.send({ method: 'POST', url: `https://wx.qq.com${Path.sync}?sid=${sid}&skey=&pass_ticket=`, headers: json, body: JSON.stringify({ BaseRequest: { Uin: uin, Sid: sid }, SyncKey: init.SyncKey, rr: Date.now() }) })).text,
    );
    assert.equal(sync.BaseResponse.Ret, 0);
    await control(sb, 'POST', 'logout', {});
    assert.doesNotMatch((await rp.send({ method: 'GET', url: 'https://wx.qq.com/' })).text, /isLogin\s*:\s*!!"1"/, 'an ended session is not logged in');
  } finally {
    await sb.close();
  }
});
