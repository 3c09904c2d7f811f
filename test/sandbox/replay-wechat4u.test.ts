/**
 * wechat4u 0.7.14 (nodeWechat/wechat4u, the npm package test/thirdparty/ also runs unmodified) replayed through a
 * whole session as request data. Shapes from its published source, lib/core.js (getUUID, checkLogin, login, init,
 * notifyMobile, getContact, batchGetContact, syncCheck, sync, logout, sendText, getMediaFormStreamData/uploadMedia,
 * sendPic, getBaseRequest) and lib/util/conf.js (getCONF: hosts and API_jsLogin), lib/util/global.js
 * (getClientMsgId, getDeviceID). axios encodes `params` (encodeURIComponent, then `:`, `$`, `,`, `[`, `]` back).
 *
 * wechat4u habits replayed: jslogin by POST with a nested, unescaped `redirect_uri=https://…webwxnewloginpage?mod=desktop`
 * and `lang=zh-CN`; the login poll `tip=0&uuid=…&loginicon=true&r=~ms`; webwxnewloginpage GET unchanged with the UOS
 * headers, needing the 301; BaseRequest Uin as a number; `pass_ticket` escaped once more by axios; no pass_ticket on
 * getcontact; synccheck without `_`; numeric LocalID/ClientMsgId (`Math.ceil(Date.now() * 1e3)`); upload fields
 * without `id` and `FileMd5` for a single chunk and `pass_ticket` passed through `encodeURI`; logout POSTed without
 * the sid/uin form.
 */
import { test } from 'node:test';
import { sandbox } from '../helpers/sandbox.ts';
import { deviceId } from '../../src/wire/ids.ts';
import { replaySession, type ClientShapes, type State } from './replay/replay.ts';

/** axios' param encoding. */
const ax = (v: string | number): string =>
  encodeURIComponent(String(v)).replace(/%3A/gi, ':').replace(/%24/g, '$').replace(/%2C/gi, ',').replace(/%20/g, '+').replace(/%5B/gi, '[').replace(/%5D/gi, ']');
const qs = (o: Record<string, string | number>) => Object.entries(o).map(([k, v]) => `${k}=${ax(v)}`).join('&');
const PAGE = 'https://wx.qq.com/cgi-bin/mmwebwx-bin';
const json = { 'content-type': 'application/json;charset=utf-8', accept: 'application/json, text/plain, */*' };
const br = (s: State) => ({ Uin: parseInt(s.keys.wxuin, 10), Sid: s.keys.wxsid, Skey: s.keys.skey, DeviceID: deviceId() });
const cmid = () => Math.ceil(Date.now() * 1e3);
const UOS = {
  'client-version': '2.0.0',
  referer: 'https://wx.qq.com/?&lang=zh_CN&target=t',
  extspam: 'Go8FCIkFEokFCggwMDAwMDAwMRAGGvAESySibk50w5Wb3uTl2c2h64jVVrV7gNs06GFlWplHQbY/5FfiO++1yH4ykC',
};
const post = (url: string, body: unknown) => ({ method: 'POST' as const, url, headers: json, body: JSON.stringify(body) });

export const WECHAT4U: ClientShapes = {
  name: 'wechat4u 0.7.14',
  jslogin: () => ({
    method: 'POST',
    url: 'https://login.wx.qq.com/jslogin?appid=wx782c26e4c19acffb&fun=new&lang=zh-CN&redirect_uri=https://wx.qq.com/cgi-bin/mmwebwx-bin/webwxnewloginpage?mod=desktop',
  }),
  poll: (s) => ({ method: 'GET', url: `https://login.wx.qq.com/cgi-bin/mmwebwx-bin/login?${qs({ tip: 0, uuid: s.uuid, loginicon: 'true', r: ~Date.now() })}` }),
  newLoginPage: (s) => ({ method: 'GET', url: s.redirectUri, headers: UOS }),
  newLoginPageStatus: 301,
  init: (s) => post(`${PAGE}/webwxinit?${qs({ pass_ticket: s.keys.pass_ticket, r: Math.ceil(Date.now() / -1579) })}`, { BaseRequest: br(s) }),
  statusNotify: (s) =>
    post(`${PAGE}/webwxstatusnotify?${qs({ pass_ticket: s.keys.pass_ticket, lang: 'zh_CN' })}`, {
      BaseRequest: br(s), Code: 3, FromUserName: s.self, ToUserName: s.self, ClientMsgId: Date.now(),
    }),
  getContact: (s) => ({ method: 'GET', url: `${PAGE}/webwxgetcontact?${qs({ seq: 0, skey: s.keys.skey, r: Date.now() })}` }),
  // wechat4u posts the contact objects it holds as the List items.
  batchGetContact: (s, rooms) =>
    post(`${PAGE}/webwxbatchgetcontact?${qs({ pass_ticket: s.keys.pass_ticket, type: 'ex', r: Date.now(), lang: 'zh_CN' })}`, { BaseRequest: br(s), Count: rooms.length, List: rooms }),
  syncCheck: (s) => ({
    method: 'GET',
    url: `https://webpush.wx.qq.com/cgi-bin/mmwebwx-bin/synccheck?${qs({ r: Date.now(), sid: s.keys.wxsid, uin: s.keys.wxuin, skey: s.keys.skey, deviceid: deviceId(), synckey: s.syncCheckKey })}`,
  }),
  sync: (s) =>
    post(`${PAGE}/webwxsync?${qs({ sid: s.keys.wxsid, skey: s.keys.skey, pass_ticket: s.keys.pass_ticket, lang: 'zh_CN' })}`, { BaseRequest: br(s), SyncKey: s.syncKey, rr: ~Date.now() }),
  sendText: (s, to, text) => {
    const id = cmid();
    return post(`${PAGE}/webwxsendmsg?${qs({ pass_ticket: s.keys.pass_ticket, lang: 'zh_CN' })}`, {
      BaseRequest: br(s), Scene: 0, Msg: { Type: 1, Content: text, FromUserName: s.self, ToUserName: to, LocalID: id, ClientMsgId: id },
    });
  },
  upload: (s, to, f) => ({
    method: 'POST',
    url: 'https://file.wx.qq.com/cgi-bin/mmwebwx-bin/webwxuploadmedia?f=json',
    body: {
      multipart: [
        ['name', f.name],
        ['type', f.type],
        ['lastModifiedDate', new Date().toUTCString()],
        ['size', String(f.bytes.length)],
        ['mediatype', 'pic'],
        [
          'uploadmediarequest',
          JSON.stringify({
            BaseRequest: br(s), ClientMediaId: cmid(), TotalLen: f.bytes.length, StartPos: 0, DataLen: f.bytes.length,
            MediaType: 4, UploadType: 2, FromUserName: s.self, ToUserName: to,
          }),
        ],
        ['webwx_data_ticket', s.cookie('webwx_data_ticket')],
        ['pass_ticket', encodeURI(s.keys.pass_ticket)],
      ],
      file: f,
    },
  }),
  sendImage: (s, to, mediaId) => {
    const id = cmid();
    return post(`${PAGE}/webwxsendmsgimg?${qs({ pass_ticket: s.keys.pass_ticket, fun: 'async', f: 'json', lang: 'zh_CN' })}`, {
      BaseRequest: br(s), Scene: 0, Msg: { Type: 3, MediaId: mediaId, FromUserName: s.self, ToUserName: to, LocalID: id, ClientMsgId: id },
    });
  },
  logout: (s) => [{ method: 'POST', url: `${PAGE}/webwxlogout?${qs({ redirect: 1, type: 0, skey: s.keys.skey, lang: 'zh_CN' })}` }],
};

test('wechat4u 0.7.14 request shapes: a whole session is accepted', async () => {
  const sb = await sandbox();
  try {
    await replaySession(sb, WECHAT4U);
  } finally {
    await sb.close();
  }
});
