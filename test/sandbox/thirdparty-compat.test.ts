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
