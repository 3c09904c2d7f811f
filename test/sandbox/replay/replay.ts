/**
 * Replays one third-party client's request shapes through a whole session against a real sandbox (issue 11 §1):
 * login (QR scanned and confirmed through the HTTP control API), init, status notify, contacts, sync (an injected
 * message), a text send, an image upload + webwxsendmsgimg, logout. The client is data (`ClientShapes`): for each
 * step the exact method, real-name URL (query written out as that client writes it), headers and body. Requests go
 * to the sandbox with the real `Host` and `X-Forwarded-Proto: https`, like a client behind a TLS proxy; cookies are
 * kept in a tough-cookie jar under the real https URLs, as the client's own HTTP library keeps them.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request, FormData } from 'undici';
import { CookieJar } from 'tough-cookie';
import type { Sandbox } from '../../../src/sandbox/index.ts';
import { control } from '../../helpers/sandbox.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import { solidJpeg } from '../../../src/sandbox/media-gen.ts';

export interface Req {
  method: 'GET' | 'POST';
  /** `https://<real host><path>?<query>`, the query exactly as the client writes it. */
  url: string;
  headers?: Record<string, string>;
  /** A string or bytes (sent as is), or multipart fields in the client's order (the file part last). */
  body?: string | Buffer | { multipart: [string, string][]; file: { name: string; type: string; bytes: Buffer } };
  /** Send the jar's cookies (default true). */
  cookies?: boolean;
}

export interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** Login keys as the client keeps them (from the webwxnewloginpage XML, or from cookies where the client reads them). */
export interface Keys {
  skey: string;
  wxsid: string;
  wxuin: string;
  /** As in the XML: URL-encoded once. */
  pass_ticket: string;
}

/** What the client knows at each step. */
export interface State {
  uuid: string;
  redirectUri: string;
  keys: Keys;
  /** A cookie's value as the client's jar holds it for the page host. */
  cookie: (name: string) => string;
  self: string;
  /** The last SyncKey object (init's, then webwxsync's). */
  syncKey: { Count: number; List: { Key: number; Val: number }[] };
  /** `Key_Val|…` for synccheck, from SyncCheckKey when the client uses it. */
  syncCheckKey: string;
}

export interface ClientShapes {
  name: string;
  /** The first request before any login step (Mojo-Weixin: `GET https://wx.qq.com/`); must answer 200 HTML. */
  firstPage?: () => Req;
  jslogin: () => Req;
  /** Fetches the QR image (clients that draw the QR themselves have none). */
  qrcode?: (s: State) => Req;
  /** The login poll; `scanned` = the client has seen a 201. */
  poll: (s: State, scanned: boolean) => Req;
  newLoginPage: (s: State) => Req;
  /** The status webwxnewloginpage must answer (301 for UOS desktop clients). */
  newLoginPageStatus: number;
  /** Where the client takes its keys from (defaults to the XML). */
  keysFrom?: (xml: Keys, cookie: (name: string) => string) => Keys;
  init: (s: State) => Req;
  statusNotify: (s: State) => Req;
  getContact: (s: State) => Req;
  /** batchgetcontact for the given contacts (the client builds its own List items from them). */
  batchGetContact: (s: State, contacts: Record<string, unknown>[]) => Req;
  syncCheck: (s: State) => Req;
  sync: (s: State) => Req;
  /** After a webwxsync answer: the client's choice of SyncKey / synccheck key. */
  afterSync?: (s: State, answer: any) => void;
  sendText: (s: State, to: string, text: string) => Req;
  upload: (s: State, to: string, file: { name: string; type: string; bytes: Buffer; md5: string }) => Req;
  sendImage: (s: State, to: string, mediaId: string) => Req;
  /** One or more logout requests (Mojo-Weixin sends type 0 then type 1). */
  logout: (s: State) => Req[];
}

/** Query-string escaping as most HTTP libraries do it (encodeURIComponent). */
export const esc = (v: string | number): string => encodeURIComponent(String(v));

export function formatKey(k: { List: { Key: number; Val: number }[] }): string {
  return k.List.map((i) => `${i.Key}_${i.Val}`).join('|');
}

function splitUrl(url: string): { host: string; path: string } {
  const m = /^https:\/\/([^/]+)(\/.*)$/.exec(url);
  if (!m) throw new Error(`not a real-name https URL: ${url}`);
  return { host: m[1]!, path: m[2]! };
}

export class Replayer {
  readonly jar = new CookieJar();
  readonly log: string[] = [];

  constructor(readonly sb: Sandbox) {}

  async send(r: Req): Promise<Res> {
    const { host, path } = splitUrl(r.url);
    const headers: Record<string, string> = { ...(r.headers ?? {}), host, 'x-forwarded-proto': 'https' };
    if (r.cookies !== false) {
      const c = await this.jar.getCookieString(`https://${host}${path.split('?')[0]}`);
      if (c) headers['cookie'] = c;
    }
    let body: string | Buffer | FormData | undefined;
    if (r.body && typeof r.body === 'object' && !Buffer.isBuffer(r.body)) {
      const form = new FormData();
      for (const [k, v] of r.body.multipart) form.append(k, v);
      form.append('filename', new Blob([r.body.file.bytes], { type: r.body.file.type }), r.body.file.name);
      body = form;
    } else body = r.body;
    const res = await request(`${this.sb.url}${path}`, { method: r.method, headers, body });
    const text = Buffer.from(await res.body.arrayBuffer()).toString('utf8');
    const sc = res.headers['set-cookie'];
    for (const c of Array.isArray(sc) ? sc : sc ? [sc] : []) await this.jar.setCookie(c, `https://${host}/`, { ignoreError: true });
    this.log.push(`${r.method} ${r.url} → ${res.statusCode} ${text.slice(0, 160)}`);
    return { status: res.statusCode, headers: res.headers as Res['headers'], text };
  }

  cookieValue(name: string): string {
    return this.jar.getCookiesSync('https://wx.qq.com/').find((c) => c.key === name)?.value ?? '';
  }
}

function retOf(step: string, res: Res): number {
  let j: any;
  try {
    j = JSON.parse(res.text);
  } catch {
    assert.fail(`${step}: not JSON (HTTP ${res.status}): ${res.text.slice(0, 200)}`);
  }
  return j?.BaseResponse?.Ret;
}

function ok(step: string, res: Res): any {
  assert.equal(res.status, 200, `${step}: HTTP ${res.status}`);
  assert.equal(retOf(step, res), 0, `${step}: ${res.text.slice(0, 300)}`);
  return JSON.parse(res.text);
}

function xmlKeys(xml: string): Keys {
  const tag = (t: string) => new RegExp(`<${t}>([^<]*)</${t}>`).exec(xml)?.[1] ?? '';
  return { skey: tag('skey'), wxsid: tag('wxsid'), wxuin: tag('wxuin'), pass_ticket: tag('pass_ticket') };
}

/** A small JPEG to upload (a real one: the sandbox reads its size for the thumbnail). */
export const PHOTO = { name: 'photo.jpg', type: 'image/jpeg', bytes: solidJpeg(64, 48, [200, 40, 40]) };

/**
 * The whole session. Every step asserts the answer a client needs to go on; a refusal fails the test with the
 * client's name, the step and the sandbox's answer.
 */
export async function replaySession(sb: Sandbox, c: ClientShapes): Promise<Replayer> {
  const rp = new Replayer(sb);
  const s: State = {
    uuid: '',
    redirectUri: '',
    keys: { skey: '', wxsid: '', wxuin: '', pass_ticket: '' },
    cookie: (n) => rp.cookieValue(n),
    self: '',
    syncKey: { Count: 0, List: [] },
    syncCheckKey: '',
  };
  const step = `${c.name}:`;

  if (c.firstPage) {
    const r = await rp.send(c.firstPage());
    assert.equal(r.status, 200, `${step} first page`);
    assert.match(String(r.headers['content-type']), /^text\/html/, `${step} first page is HTML`);
  }

  // jslogin → uuid (the clients' own regexes all accept the captured `window.QRLogin.code = 200; …uuid = "…";`).
  const js = await rp.send(c.jslogin());
  const m = /window\.QRLogin\.code\s*=\s*(\d+);\s*window\.QRLogin\.uuid\s*=\s*"(\S+?)"/.exec(js.text);
  assert.ok(m && m[1] === '200', `${step} jslogin: ${js.text}`);
  s.uuid = m[2]!;
  if (c.qrcode) {
    const q = await rp.send(c.qrcode(s));
    assert.equal(q.status, 200, `${step} qrcode`);
    assert.equal(q.headers['content-type'], 'image/jpeg');
  }

  // The phone scans (control API): the poll answers 201; the phone confirms: the poll answers 200 + redirect_uri.
  assert.equal((await control(sb, 'POST', 'scan', {})).status, 200);
  const scanned = await rp.send(c.poll(s, false));
  assert.match(scanned.text, /^window\.code=201;/, `${step} login poll after the scan`);
  assert.equal((await control(sb, 'POST', 'confirm', {})).status, 200);
  const confirmed = await rp.send(c.poll(s, true));
  const redirect = /window\.redirect_uri="([^"]+)";/.exec(confirmed.text);
  assert.ok(confirmed.text.startsWith('window.code=200;') && redirect, `${step} login poll after confirm: ${confirmed.text}`);
  s.redirectUri = redirect[1]!;

  const page = await rp.send(c.newLoginPage(s));
  assert.equal(page.status, c.newLoginPageStatus, `${step} webwxnewloginpage status`);
  const xml = xmlKeys(page.text);
  assert.equal(/<ret>(\d+)<\/ret>/.exec(page.text)?.[1], '0', `${step} webwxnewloginpage: ${page.text}`);
  s.keys = c.keysFrom ? c.keysFrom(xml, s.cookie) : xml;

  const init = ok(`${step} webwxinit`, await rp.send(c.init(s)));
  s.self = init.User.UserName;
  s.syncKey = init.SyncKey;
  s.syncCheckKey = formatKey(init.SyncKey);
  ok(`${step} webwxstatusnotify`, await rp.send(c.statusNotify(s)));

  const contacts = ok(`${step} webwxgetcontact`, await rp.send(c.getContact(s)));
  const friend = (contacts.MemberList as any[]).find((x) => x.NickName === '王芳');
  assert.ok(friend, `${step} the friend 王芳 is in webwxgetcontact`);
  const rooms = (contacts.MemberList as any[]).filter((x) => String(x.UserName).startsWith('@@'));
  assert.ok(rooms.length > 0, `${step} saved groups are in webwxgetcontact`);
  const batch = ok(`${step} webwxbatchgetcontact`, await rp.send(c.batchGetContact(s, rooms)));
  assert.equal(batch.ContactList.length, rooms.length);
  assert.ok(batch.ContactList.every((g: any) => g.MemberList.length > 0), `${step} groups come with their members`);

  // Sync: drain what init queued, then receive an injected message through synccheck → webwxsync.
  const received = async (pred: (m: any) => boolean): Promise<any> =>
    waitFor(async () => {
      const check = await rp.send(c.syncCheck(s));
      const sc = /retcode:"(\d+)",selector:"(\d+)"/.exec(check.text);
      assert.ok(sc && sc[1] === '0', `${step} synccheck: ${check.text}`);
      if (sc[2] === '0') return null;
      const r = ok(`${step} webwxsync`, await rp.send(c.sync(s)));
      s.syncKey = r.SyncKey;
      s.syncCheckKey = formatKey(r.SyncCheckKey?.Count ? r.SyncCheckKey : r.SyncKey);
      c.afterSync?.(s, r);
      return (r.AddMsgList as any[]).find(pred) ?? null;
    }, `${c.name} receives the message`, 10_000, 0);
  await received((m) => m.MsgType === 51);
  sb.handle.inject({ type: 'text', from: '王芳', content: `hello ${c.name}` });
  const got = await received((m) => m.MsgType === 1 && m.Content === `hello ${c.name}`);
  assert.equal(got.FromUserName, friend.UserName);

  // A text and an image to the friend.
  const sent = ok(`${step} webwxsendmsg`, await rp.send(c.sendText(s, friend.UserName, `reply from ${c.name}`)));
  const up = ok(
    `${step} webwxuploadmedia`,
    await rp.send(c.upload(s, friend.UserName, { ...PHOTO, md5: createHash('md5').update(PHOTO.bytes).digest('hex') })),
  );
  assert.match(up.MediaId, /^@crypt_/, `${step} upload answers a MediaId`);
  const img = ok(`${step} webwxsendmsgimg`, await rp.send(c.sendImage(s, friend.UserName, up.MediaId)));
  const log = (await control(sb, 'GET', 'sent')).json as any[];
  const text = log.find((r) => r.MsgID === sent.MsgID);
  assert.equal(text?.Content, `reply from ${c.name}`);
  assert.equal(text?.toNickName, '王芳');
  const image = log.find((r) => r.MsgID === img.MsgID);
  assert.equal(image?.endpoint, 'webwxsendmsgimg');
  assert.equal(image?.MediaId, up.MediaId);

  for (const r of c.logout(s)) {
    const res = await rp.send(r);
    assert.equal(res.status, 200, `${step} webwxlogout`);
  }
  assert.equal((await control(sb, 'GET', 'state')).json.login, 'offline', `${step} the session ended with webwxlogout`);
  return rp;
}

/** Helpers for the clients' time values. */
export const now = (): number => Date.now();
/** `~new Date()` / Perl `use integer; ~time` style: the bitwise NOT of the ms timestamp as a signed 32-bit int. */
export const notMs = (): number => ~Date.now();
