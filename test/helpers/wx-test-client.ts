/**
 * A minimal WeChat web client for sandbox tests, written from the protocol reference only (not src/client): real
 * HTTP through undici, a tough-cookie jar, the official request shapes. With `realNames` every request goes to the
 * sandbox origin carrying the real `Host` (wx.qq.com, webpush.wx.qq.com, …) and `X-Forwarded-Proto: https`, like a
 * client behind a TLS proxy; cookies are kept under the real-name https URLs.
 */
import { request, FormData } from 'undici';
import { createHash } from 'node:crypto';
import { CookieJar } from 'tough-cookie';
import { hostFamily, QR_HOST, type HostFamily } from '../../src/wire/hosts.ts';
import { Path } from '../../src/wire/paths.ts';
import { LOGIN_APPID } from '../../src/wire/constants.ts';
import { parseLoginPoll, parseQRLogin, parseSyncCheck } from '../../src/wire/jsvars.ts';
import { parseLoginPage, type LoginPageAnswer } from '../../src/wire/loginpage.ts';
import { deviceId, localId, notTimestamp } from '../../src/wire/ids.ts';
import { formatSyncKey } from '../../src/wire/synckey.ts';
import type { BaseRequest, SyncKey } from '../../src/wire/types.ts';

export type Role = 'login' | 'page' | 'push' | 'file' | 'qr';

export interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
}

export interface ClientOptions {
  realNames?: boolean;
  /** Page host used before login (real-name mode). */
  pageHost?: string;
  /** Extra headers for webwxnewloginpage (UOS desktop mode). */
  desktop?: boolean;
}

export class WxTestClient {
  readonly jar = new CookieJar();
  family: HostFamily;
  keys: LoginPageAnswer | null = null;
  selfName = '';
  syncKey: SyncKey = { Count: 0, List: [] };
  /** Base URL of the page host as the redirect gave it (local mode: the sandbox origin). */
  pageBase: string;

  constructor(
    readonly base: string,
    readonly opts: ClientOptions = {},
  ) {
    this.family = hostFamily(opts.pageHost ?? 'wx.qq.com');
    this.pageBase = base;
  }

  private logical(role: Role, path: string): string {
    if (!this.opts.realNames) return `${role === 'page' ? this.pageBase : this.base}${path}`;
    const host = role === 'qr' ? QR_HOST : role === 'login' ? 'login.wx.qq.com' : this.family[role];
    return `https://${host}${path}`;
  }

  async req(role: Role, path: string, init: { method?: 'GET' | 'POST' | 'OPTIONS'; body?: string | FormData | Buffer; headers?: Record<string, string>; cookies?: boolean } = {}): Promise<Res> {
    const url = this.logical(role, path);
    const u = new URL(url);
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    if (init.cookies !== false) {
      const c = await this.jar.getCookieString(url);
      if (c) headers['cookie'] = c;
    }
    let target = url;
    if (this.opts.realNames) {
      headers['host'] = u.host;
      headers['x-forwarded-proto'] = 'https';
      target = `${this.base}${u.pathname}${u.search}`;
    }
    const r = await request(target, { method: init.method ?? 'GET', headers, body: init.body as never });
    const body = Buffer.from(await r.body.arrayBuffer());
    const sc = r.headers['set-cookie'];
    for (const c of Array.isArray(sc) ? sc : sc ? [sc] : []) await this.jar.setCookie(c, url, { ignoreError: true });
    return { status: r.statusCode, headers: r.headers as Res['headers'], body, text: body.toString('utf8') };
  }

  baseRequest(): BaseRequest {
    const k = this.keys!;
    return { Uin: Number(k.wxuin), Sid: k.wxsid!, Skey: k.skey!, DeviceID: deviceId() };
  }

  /** pass_ticket query value as the official client sends it (the XML value, URL-encoded once more). */
  get passTicket(): string {
    return encodeURIComponent(this.keys!.pass_ticket!);
  }

  async postJson(path: string, query: string, body: unknown): Promise<Res> {
    return this.req('page', `${path}?${query}`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json;charset=UTF-8' },
    });
  }

  async json<T = any>(path: string, query: string, body: unknown): Promise<T> {
    const r = await this.postJson(path, query, body);
    return JSON.parse(r.text) as T;
  }

  async jslogin(desktop = false): Promise<string> {
    const redirect = encodeURIComponent(`https://wx.qq.com${Path.newLoginPage}${desktop ? '?mod=desktop' : ''}`);
    const r = await this.req('login', `${Path.jslogin}?appid=${LOGIN_APPID}&redirect_uri=${redirect}&fun=new&lang=zh_CN&_=${Date.now()}`);
    const a = parseQRLogin(r.text);
    if (a.code !== 200 || !a.uuid) throw new Error(`jslogin failed: ${r.text}`);
    return a.uuid;
  }

  async poll(uuid: string, tip = 0): Promise<{ code: number; redirectUri?: string; userAvatar?: string; raw: string }> {
    const r = await this.req('login', `${Path.login}?loginicon=true&uuid=${uuid}&tip=${tip}&r=${notTimestamp()}&_=${Date.now()}`);
    return { ...parseLoginPoll(r.text), raw: r.text };
  }

  /** Polls until 200 (the test confirms through the sandbox meanwhile). */
  async waitConfirmed(uuid: string, deadlineMs = 10000): Promise<string> {
    const end = Date.now() + deadlineMs;
    let tip = 1;
    while (Date.now() < end) {
      const a = await this.poll(uuid, tip);
      tip = 0;
      if (a.code === 200) return a.redirectUri!;
      if (a.code === 400) throw new Error('QR expired');
    }
    throw new Error('login not confirmed in time');
  }

  /** GETs the redirect_uri (+fun=new&version=v2) and stores the keys. */
  async newLoginPage(redirectUri: string, desktop = false): Promise<Res> {
    const u = new URL(redirectUri);
    if (this.opts.realNames) this.family = hostFamily(u.hostname);
    else this.pageBase = `${u.protocol}//${u.host}`;
    const headers: Record<string, string> = desktop ? { 'client-version': '2.0.0', extspam: 'Go8FCIkFEokFCggwMDAwMDAwMRAGGvAESySibk50' } : {};
    const r = await this.req('page', `${u.pathname}${u.search}&fun=new&version=v2${desktop ? '&mod=desktop' : ''}`, { headers });
    const a = parseLoginPage(r.text);
    if (a.ret === 0) this.keys = a;
    return r;
  }

  async init(): Promise<any> {
    const br = { ...this.baseRequest(), Uin: this.keys!.wxuin! };
    const r = await this.json(Path.init, `r=${notTimestamp()}&lang=zh_CN&pass_ticket=${this.passTicket}`, { BaseRequest: br });
    if (r.BaseResponse.Ret === 0) {
      this.selfName = r.User.UserName;
      this.syncKey = r.SyncKey;
    }
    return r;
  }

  /** The whole QR login: jslogin → confirm (via `confirm`) → poll → newloginpage → init. */
  async login(confirm: () => Promise<unknown> | unknown, o: { desktop?: boolean } = {}): Promise<any> {
    const uuid = await this.jslogin(o.desktop);
    await confirm();
    const redirect = await this.waitConfirmed(uuid);
    const r = await this.newLoginPage(redirect, o.desktop);
    if (!this.keys) throw new Error(`newloginpage failed: ${r.text}`);
    return this.init();
  }

  async getContact(seq: number | string): Promise<any> {
    const r = await this.req('page', `${Path.getContact}?lang=zh_CN&pass_ticket=${this.passTicket}&r=${Date.now()}&seq=${seq}&skey=${this.keys!.skey}`);
    return JSON.parse(r.text);
  }

  async allContacts(): Promise<any[]> {
    const out: any[] = [];
    let seq: number = 0;
    for (let page = 0; page < 100; page++) {
      const r = await this.getContact(seq);
      out.push(...r.MemberList);
      seq = r.Seq;
      if (!seq) break;
    }
    return out;
  }

  async batch(list: { UserName: string; EncryChatRoomId?: string }[]): Promise<any> {
    return this.json(Path.batchGetContact, `type=ex&r=${Date.now()}&lang=zh_CN&pass_ticket=${this.passTicket}`, {
      BaseRequest: this.baseRequest(),
      Count: list.length,
      List: list,
    });
  }

  async syncCheckRaw(key: SyncKey = this.syncKey, extra: { cookies?: boolean } = {}): Promise<Res> {
    const k = this.keys!;
    const q = `r=${Date.now()}&skey=${encodeURIComponent(k.skey!)}&sid=${encodeURIComponent(k.wxsid!)}&uin=${k.wxuin}&deviceid=${deviceId()}&synckey=${encodeURIComponent(formatSyncKey(key))}&_=${Date.now()}`;
    return this.req('push', `${Path.syncCheck}?${q}`, { cookies: extra.cookies });
  }

  async syncCheck(): Promise<{ retcode: number; selector: number }> {
    return parseSyncCheck((await this.syncCheckRaw()).text);
  }

  async sync(): Promise<any> {
    const k = this.keys!;
    const r = await this.json(Path.sync, `sid=${encodeURIComponent(k.wxsid!)}&skey=${k.skey}&lang=zh_CN&pass_ticket=${this.passTicket}`, {
      BaseRequest: this.baseRequest(),
      SyncKey: this.syncKey,
      rr: notTimestamp(),
    });
    if (r.BaseResponse.Ret === 0) this.syncKey = r.SyncCheckKey?.Count ? r.SyncCheckKey : r.SyncKey;
    return r;
  }

  /** synccheck/webwxsync until `pred` matches an AddMsgList entry (deadline-bounded). */
  async waitMessage(pred: (m: any) => boolean, deadlineMs = 10000): Promise<any> {
    const end = Date.now() + deadlineMs;
    while (Date.now() < end) {
      const c = await this.syncCheck();
      if (c.retcode !== 0) throw new Error(`synccheck retcode ${c.retcode}`);
      if (c.selector === 0) continue;
      const r = await this.sync();
      const m = (r.AddMsgList as any[]).find(pred);
      if (m) return m;
    }
    throw new Error('message not received in time');
  }

  /** webwxuploadmedia as the official client does it: 512 KiB chunks with `chunks`/`chunk` when larger. */
  async upload(bytes: Buffer, name: string, mime: string, mediatype: 'pic' | 'video' | 'doc', to: string, order?: number[]): Promise<any[]> {
    const CHUNK = 512 * 1024;
    const chunks = Math.max(1, Math.ceil(bytes.length / CHUNK));
    const ticket = (await this.jar.getCookies(this.logical('file', '/'))).find((c) => c.key === 'webwx_data_ticket')?.value ?? '';
    const umr = {
      UploadType: 2, BaseRequest: this.baseRequest(), ClientMediaId: Date.now(), TotalLen: bytes.length, StartPos: 0,
      DataLen: bytes.length, MediaType: 4, FromUserName: this.selfName, ToUserName: to,
      FileMd5: createHash('md5').update(bytes).digest('hex'),
    };
    const answers: any[] = [];
    for (const i of order ?? [...Array(chunks).keys()]) {
      const form = new FormData();
      const fields: [string, string][] = [['id', 'WU_FILE_0'], ['name', name], ['type', mime], ['lastModifiedDate', new Date().toString()], ['size', String(bytes.length)]];
      if (chunks > 1) fields.push(['chunks', String(chunks)], ['chunk', String(i)]);
      fields.push(['mediatype', mediatype], ['uploadmediarequest', JSON.stringify(umr)], ['webwx_data_ticket', ticket], ['pass_ticket', 'undefined']);
      for (const [k, v] of fields) form.append(k, v);
      form.append('filename', new Blob([bytes.subarray(i * CHUNK, (i + 1) * CHUNK)], { type: 'application/octet-stream' }), name);
      const r = await this.req('file', `${Path.uploadMedia}?f=json`, { method: 'POST', body: form });
      answers.push(JSON.parse(r.text));
    }
    return answers;
  }

  async sendMsg(endpoint: string, query: string, msg: Record<string, unknown>): Promise<any> {
    const id = localId();
    return this.json(endpoint, `${query}${query ? '&' : ''}pass_ticket=${this.passTicket}`, {
      BaseRequest: this.baseRequest(),
      Msg: { FromUserName: this.selfName, LocalID: id, ClientMsgId: id, ...msg },
      Scene: 0,
    });
  }

  async sendText(to: string, content: string): Promise<any> {
    const id = localId();
    return this.json(Path.sendMsg, `lang=zh_CN&pass_ticket=${this.passTicket}`, {
      BaseRequest: this.baseRequest(),
      Msg: { Type: 1, Content: content, FromUserName: this.selfName, ToUserName: to, LocalID: id, ClientMsgId: id },
      Scene: 0,
    });
  }
}
