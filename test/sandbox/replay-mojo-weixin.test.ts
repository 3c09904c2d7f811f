/**
 * Mojo-Weixin 1.4.6 (the seed system, sjdy521/Mojo-Weixin) replayed through a whole session. Its request shapes
 * come from ../shared/spec/mojo-weixin-reference.md §3.1–3.9 (facts read from lib/Mojo/Weixin/Client/Remote/*.pm,
 * Model/Remote/*.pm, Message/Remote/*.pm), cross-checked with the public source (hexsum/Mojo-Weixin
 * Client/Remote/_sync.pm: `BaseRequest => {Uin, Sid}`; _login.pm: poll query `loginicon, uuid, tip, r, _`;
 * _is_need_login.pm: `GET https://wx.qq.com/` first). Mojo-Weixin ran against the real server for years with them.
 *
 * Facts replayed: the first `GET https://wx.qq.com/`; the login poll with `tip=` empty (an uninitialised variable)
 * until the 201 and an unescaped `uuid=…==`; `pass_ticket` (kept URL-encoded from the XML) escaped once more in
 * query strings (`%252B`); skey raw in getcontact/webwxsync, escaped in synccheck/logout; webwxsync with `sid`
 * unescaped (a `+` stays a `+`) and `BaseRequest {Uin, Sid}` only (no Skey, no DeviceID); Uin from the XML as a
 * string; a new DeviceID per request; text sends without `Scene`; upload fields with the stored pass_ticket and the
 * `webwx_data_ticket` cookie; logout POSTed twice (type 0 then 1) with the `sid`/`uin` form.
 */
import { test } from 'node:test';
import { sandbox } from '../helpers/sandbox.ts';
import { deviceId } from '../../src/wire/ids.ts';
import { esc, now, notMs, replaySession, type ClientShapes, type State } from './replay/replay.ts';

const PAGE = 'https://wx.qq.com/cgi-bin/mmwebwx-bin';
const json = { 'content-type': 'application/json', referer: 'https://wx.qq.com/' };
/** Mojo's query escaping applied to the stored (already encoded) pass_ticket: `%2B` goes out as `%252B`. */
const pt = (s: State) => esc(s.keys.pass_ticket);
const full = (s: State) => ({ Uin: s.keys.wxuin, Sid: s.keys.wxsid, Skey: s.keys.skey, DeviceID: deviceId() });
/** ms timestamp + 4 random digits (17 digits), Mojo's ClientMsgId/LocalID. */
const uid = () => Number(`${now()}${String(Math.floor(Math.random() * 1e4)).padStart(4, '0')}`);

export const MOJO_WEIXIN: ClientShapes = {
  name: 'Mojo-Weixin 1.4.6',
  firstPage: () => ({ method: 'GET', url: 'https://wx.qq.com/', cookies: true }),
  jslogin: () => ({
    method: 'GET',
    url: `https://login.wx.qq.com/jslogin?appid=wx782c26e4c19acffb&redirect_uri=${esc('https://wx.qq.com/cgi-bin/mmwebwx-bin/webwxnewloginpage')}&fun=new&lang=zh_CN&_=${now()}`,
  }),
  qrcode: (s) => ({ method: 'GET', url: `https://login.weixin.qq.com/qrcode/${s.uuid}` }),
  poll: (s, scanned) => ({
    method: 'GET',
    url: `https://login.wx.qq.com/cgi-bin/mmwebwx-bin/login?loginicon=true&uuid=${s.uuid}&tip=${scanned ? '0' : ''}&r=${notMs()}&_=${now()}`,
  }),
  newLoginPage: (s) => ({ method: 'GET', url: `${s.redirectUri}&fun=new&version=v2&lang=zh_CN`, headers: { referer: 'https://wx.qq.com/' } }),
  newLoginPageStatus: 200,
  init: (s) => ({
    method: 'POST',
    url: `${PAGE}/webwxinit?r=${notMs()}&pass_ticket=${pt(s)}`,
    headers: json,
    body: JSON.stringify({ BaseRequest: full(s) }),
  }),
  statusNotify: (s) => ({
    method: 'POST',
    url: `${PAGE}/webwxstatusnotify?pass_ticket=${pt(s)}`,
    headers: json,
    body: JSON.stringify({ BaseRequest: full(s), ClientMsgId: uid(), Code: 3, FromUserName: s.self, ToUserName: s.self }),
  }),
  getContact: (s) => ({ method: 'GET', url: `${PAGE}/webwxgetcontact?r=${now()}&seq=0&skey=${s.keys.skey}&pass_ticket=${pt(s)}`, headers: { referer: 'https://wx.qq.com/' } }),
  batchGetContact: (s, rooms) => ({
    method: 'POST',
    url: `${PAGE}/webwxbatchgetcontact?type=ex&r=${now()}&pass_ticket=${pt(s)}`,
    headers: json,
    body: JSON.stringify({
      BaseRequest: { Uin: s.keys.wxuin, DeviceID: deviceId(), Sid: s.keys.wxsid, Skey: s.keys.skey },
      Count: rooms.length,
      List: rooms.map((g) => ({ UserName: g['UserName'], ChatRoomId: '' })),
    }),
  }),
  syncCheck: (s) => ({
    method: 'GET',
    url: `https://webpush.wx.qq.com/cgi-bin/mmwebwx-bin/synccheck?r=${now()}&skey=${esc(s.keys.skey)}&sid=${esc(s.keys.wxsid)}&uin=${esc(s.keys.wxuin)}&deviceid=${deviceId()}&synckey=${esc(s.syncCheckKey)}&_=${now()}`,
    headers: { referer: 'https://wx.qq.com/' },
  }),
  sync: (s) => ({
    method: 'POST',
    url: `${PAGE}/webwxsync?sid=${s.keys.wxsid}&skey=${s.keys.skey}&pass_ticket=${pt(s)}`,
    headers: json,
    body: JSON.stringify({ BaseRequest: { Uin: s.keys.wxuin, Sid: s.keys.wxsid }, SyncKey: s.syncKey, rr: now() }),
  }),
  sendText: (s, to, text) => {
    const id = uid();
    return {
      method: 'POST',
      url: `${PAGE}/webwxsendmsg?pass_ticket=${pt(s)}`,
      headers: json,
      body: JSON.stringify({
        BaseRequest: { DeviceID: deviceId(), Sid: s.keys.wxsid, Skey: s.keys.skey, Uin: s.keys.wxuin },
        Msg: { ClientMsgId: id, Content: text, FromUserName: s.self, LocalID: id, ToUserName: to, Type: 1 },
      }),
    };
  },
  upload: (s, to, f) => ({
    method: 'POST',
    url: 'https://file.wx.qq.com/cgi-bin/mmwebwx-bin/webwxuploadmedia?f=json',
    headers: { referer: 'https://wx.qq.com/' },
    body: {
      multipart: [
        ['id', 'WU_FILE_0'],
        ['name', f.name],
        ['type', f.type],
        ['lastModifiedDate', 'Thu Jan 01 2020 00:00:00 GMT+0800 (中国标准时间)'],
        ['size', String(f.bytes.length)],
        ['mediatype', 'pic'],
        [
          'uploadmediarequest',
          JSON.stringify({
            BaseRequest: full(s), ClientMediaId: uid(), TotalLen: f.bytes.length, StartPos: 0, DataLen: f.bytes.length,
            MediaType: 4, FromUserName: s.self, ToUserName: to, UploadType: 2, FileMd5: f.md5,
          }),
        ],
        ['webwx_data_ticket', s.cookie('webwx_data_ticket')],
        ['pass_ticket', s.keys.pass_ticket],
      ],
      file: f,
    },
  }),
  sendImage: (s, to, mediaId) => {
    const id = uid();
    return {
      method: 'POST',
      url: `${PAGE}/webwxsendmsgimg?fun=async&f=json&pass_ticket=${pt(s)}`,
      headers: json,
      body: JSON.stringify({
        BaseRequest: full(s),
        Msg: { ClientMsgId: id, FromUserName: s.self, MediaId: mediaId, LocalID: id, ToUserName: to, Type: 3 },
        Scene: 0,
      }),
    };
  },
  logout: (s) =>
    [0, 1].map((type) => ({
      method: 'POST' as const,
      url: `${PAGE}/webwxlogout?redirect=1&type=${type}&skey=${esc(s.keys.skey)}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', referer: 'https://wx.qq.com/' },
      body: `sid=${esc(s.keys.wxsid)}&uin=${esc(s.keys.wxuin)}`,
    })),
};

test('Mojo-Weixin 1.4.6 request shapes: a whole session is accepted (login, init, contacts, sync, text + image, logout)', async () => {
  const sb = await sandbox();
  try {
    await replaySession(sb, MOJO_WEIXIN);
  } finally {
    await sb.close();
  }
});
