/**
 * itchat (littlecodersh/ItChat 1.3.10, the last PyPI release) and itchat-uos (why2lyj/ItChat-UOS 1.5, itchat 1.3.10
 * with the UOS desktop login) replayed through a whole session. Shapes from their public sources:
 * - login: ItChat itchat/components/login.py (get_QRuuid, check_login, process_login_info, web_init,
 *   show_mobile_login, sync_check, get_msg, logout) and ItChat-UOS itchat/components/login.py @ 2f141ac;
 * - contacts: itchat/components/contact.py (get_contact, update_chatroom);
 * - sends: itchat/components/messages.py (send_raw_msg, upload_file/upload_chunk_file, send_image).
 *
 * itchat habits replayed: requests `data=json.dumps(…)` with the header misspelled `ContentType`, so init,
 * statusnotify, getcontact, batchgetcontact, webwxsync and the text send carry **no Content-Type**; the login poll
 * with an unescaped `uuid=…==` and `r=<seconds / 1579>`; BaseRequest Uin as a string; no `pass_ticket` on
 * getcontact/batchgetcontact/sendmsg/sendmsgimg, the XML value as is on statusnotify/webwxsync, escaped once more
 * (requests params) on init; webwxsync `rr: ~seconds`; LocalID/ClientMsgId `int(time * 1e4)` as JSON numbers;
 * logout as a GET without form.
 * itchat 1.3.10 (plain web): jslogin with only `appid` and `fun`; BaseRequest `DeviceID` = the pass_ticket (a
 * long-standing itchat quirk: its XML loop assigns pass_ticket to DeviceID).
 * itchat-uos: jslogin with `redirect_uri=…?mod=desktop`; webwxnewloginpage GET unchanged with the UOS headers,
 * redirects not followed (expects the 301); Sid/Uin taken from the cookies; BaseRequest {Skey, Sid, Uin} with
 * **no DeviceID**.
 */
import { test } from 'node:test';
import { sandbox } from '../helpers/sandbox.ts';
import { deviceId } from '../../src/wire/ids.ts';
import { esc, now, replaySession, type ClientShapes, type Keys, type State } from './replay/replay.ts';

const PAGE = 'https://wx.qq.com/cgi-bin/mmwebwx-bin';
const UA = { 'user-agent': 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.71 Safari/537.36' };
/** The misspelled header itchat sends: no real Content-Type reaches the server. */
const noCt = { ...UA, ContentType: 'application/json; charset=UTF-8' };
const sec = () => Math.floor(Date.now() / 1000);
const id = () => Math.floor(Date.now() * 10);
/** The first part of itchat-uos' `config.UOS_PATCH_EXTSPAM` constant (the sandbox needs the header, not its value). */
const UOS_EXTSPAM = 'Go8FCIkFEokFCggwMDAwMDAwMRAGGvAESySibk50w5Wb3uTl2c2h64jVVrV7gNs06GFlWplHQbY/5FfiO++1yH4ykCyNPWKXmco+wfQzK5R98D3so7rJ5LmGFvBLjGceleySrc3SOf2Pc1gVehzJgODeS0lDL3';

function itchat(variant: 'plain' | 'uos'): ClientShapes {
  const deviceid = deviceId(); // itchat makes one at login and uses it in synccheck
  const br = (s: State): Record<string, unknown> =>
    variant === 'uos'
      ? { Skey: s.keys.skey, Sid: s.keys.wxsid, Uin: s.keys.wxuin }
      : { Skey: s.keys.skey, Sid: s.keys.wxsid, Uin: s.keys.wxuin, DeviceID: s.keys.pass_ticket };
  const post = (url: string, body: unknown, headers: Record<string, string> = noCt) => ({
    method: 'POST' as const,
    url,
    headers,
    body: Buffer.from(JSON.stringify(body), 'utf8'),
  });
  return {
    name: variant === 'uos' ? 'itchat-uos 1.5' : 'itchat 1.3.10',
    jslogin: () => ({
      method: 'GET',
      url:
        variant === 'uos'
          ? `https://login.weixin.qq.com/jslogin?appid=wx782c26e4c19acffb&fun=new&redirect_uri=${esc('https://wx.qq.com/cgi-bin/mmwebwx-bin/webwxnewloginpage?mod=desktop')}&lang=zh_CN`
          : 'https://login.weixin.qq.com/jslogin?appid=wx782c26e4c19acffb&fun=new',
      headers: UA,
    }),
    poll: (s) => ({
      method: 'GET',
      url: `https://login.weixin.qq.com/cgi-bin/mmwebwx-bin/login?loginicon=true&uuid=${s.uuid}&tip=${variant === 'uos' ? 1 : 0}&r=${variant === 'uos' ? Math.trunc(-sec() / 1579) : sec() / 1579}&_=${sec()}`,
      headers: UA,
    }),
    newLoginPage: (s) => ({
      method: 'GET',
      url: s.redirectUri,
      headers: variant === 'uos' ? { ...UA, 'client-version': '2.0.0', extspam: UOS_EXTSPAM, referer: 'https://wx.qq.com/?&lang=zh_CN&target=t' } : UA,
    }),
    newLoginPageStatus: variant === 'uos' ? 301 : 200,
    keysFrom: (xml: Keys, cookie) => (variant === 'uos' ? { ...xml, wxsid: cookie('wxsid'), wxuin: cookie('wxuin') } : xml),
    init: (s) => post(`${PAGE}/webwxinit?r=${Math.trunc(-sec() / 1579)}&pass_ticket=${esc(s.keys.pass_ticket)}`, { BaseRequest: br(s) }),
    statusNotify: (s) =>
      post(`${PAGE}/webwxstatusnotify?lang=zh_CN&pass_ticket=${s.keys.pass_ticket}`, {
        BaseRequest: br(s), Code: 3, FromUserName: s.self, ToUserName: s.self, ClientMsgId: sec(),
      }),
    getContact: (s) => ({ method: 'GET', url: `${PAGE}/webwxgetcontact?r=${sec()}&seq=0&skey=${s.keys.skey}`, headers: noCt }),
    batchGetContact: (s, rooms) =>
      post(`${PAGE}/webwxbatchgetcontact?type=ex&r=${sec()}`, {
        BaseRequest: br(s), Count: rooms.length, List: rooms.map((g) => ({ UserName: g['UserName'], ChatRoomId: '' })),
      }),
    syncCheck: (s) => ({
      method: 'GET',
      url: `https://webpush.wx.qq.com/cgi-bin/mmwebwx-bin/synccheck?r=${now()}&skey=${esc(s.keys.skey)}&sid=${esc(s.keys.wxsid)}&uin=${s.keys.wxuin}&deviceid=${deviceid}&synckey=${esc(s.syncCheckKey)}&_=${now()}`,
      headers: UA,
    }),
    sync: (s) =>
      post(`${PAGE}/webwxsync?sid=${s.keys.wxsid}&skey=${s.keys.skey}&pass_ticket=${s.keys.pass_ticket}`, { BaseRequest: br(s), SyncKey: s.syncKey, rr: ~sec() }),
    sendText: (s, to, text) => post(`${PAGE}/webwxsendmsg`, { BaseRequest: br(s), Msg: { Type: 1, Content: text, FromUserName: s.self, ToUserName: to, LocalID: id(), ClientMsgId: id() }, Scene: 0 }),
    upload: (s, to, f) => ({
      method: 'POST',
      url: 'https://file.wx.qq.com/cgi-bin/mmwebwx-bin/webwxuploadmedia?f=json',
      headers: UA,
      body: {
        multipart: [
          ['id', 'WU_FILE_0'],
          ['name', f.name],
          ['type', f.type],
          ['lastModifiedDate', 'Thu Jan 01 2020 08:00:00 GMT+0800 (CST)'],
          ['size', String(f.bytes.length)],
          ['mediatype', 'pic'],
          [
            'uploadmediarequest',
            JSON.stringify({
              UploadType: 2, BaseRequest: br(s), ClientMediaId: id(), TotalLen: f.bytes.length, StartPos: 0,
              DataLen: f.bytes.length, MediaType: 4, FromUserName: s.self, ToUserName: to, FileMd5: f.md5,
            }),
          ],
          ['webwx_data_ticket', s.cookie('webwx_data_ticket')],
          ['pass_ticket', s.keys.pass_ticket],
        ],
        file: { ...f, type: 'application/octet-stream' },
      },
    }),
    sendImage: (s, to, mediaId) =>
      post(
        `${PAGE}/webwxsendmsgimg?fun=async&f=json`,
        { BaseRequest: br(s), Msg: { Type: 3, MediaId: mediaId, FromUserName: s.self, ToUserName: to, LocalID: id(), ClientMsgId: id() }, Scene: 0 },
        { ...UA, 'content-type': 'application/json;charset=UTF-8' },
      ),
    logout: (s) => [{ method: 'GET', url: `${PAGE}/webwxlogout?redirect=1&type=1&skey=${esc(s.keys.skey)}`, headers: UA }],
  };
}

test('itchat 1.3.10 request shapes: a whole session is accepted', async () => {
  const sb = await sandbox();
  try {
    await replaySession(sb, itchat('plain'));
  } finally {
    await sb.close();
  }
});

test('itchat-uos request shapes (UOS desktop login, BaseRequest without DeviceID): a whole session is accepted', async () => {
  const sb = await sandbox();
  try {
    await replaySession(sb, itchat('uos'));
  } finally {
    await sb.close();
  }
});
