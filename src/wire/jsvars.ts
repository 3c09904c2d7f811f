/**
 * The `window.x = …;` JavaScript answers of jslogin, the login poll and synccheck: a small tokenizer (never eval)
 * and the encoders that produce the exact bytes the real server sends (spacing included).
 * Source: shared/spec/wechat-web-protocol.md §2.1, §2.2, §5.1; fixtures http-jslogin, http-login, http-synccheck.
 */

export type JsValue = string | number | boolean | null | { [k: string]: JsValue };

export class JsVarsParseError extends Error {
  constructor(message: string, readonly input: string) {
    super(message);
    this.name = 'JsVarsParseError';
  }
}

/** Parses `window.a.b = v; window.c = {k:"v"}` into `{ 'a.b': v, c: {k:'v'} }`. */
export function parseJsVars(input: string): Record<string, JsValue> {
  const out: Record<string, JsValue> = {};
  let i = 0;
  const s = input;
  const ws = () => {
    while (i < s.length && /[\s;]/.test(s[i]!)) i++;
  };
  const fail = (what: string): never => {
    throw new JsVarsParseError(`${what} at offset ${i}`, input.slice(0, 200));
  };
  const ident = (): string => {
    const m = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*/.exec(s.slice(i));
    if (!m) return fail('expected identifier');
    i += m[0].length;
    return m[0];
  };
  const str = (): string => {
    const q = s[i];
    i++;
    let r = '';
    while (i < s.length && s[i] !== q) {
      if (s[i] === '\\' && i + 1 < s.length) {
        const n = s[i + 1]!;
        r += n === 'n' ? '\n' : n === 't' ? '\t' : n;
        i += 2;
      } else r += s[i++];
    }
    if (s[i] !== q) fail('unterminated string');
    i++;
    return r;
  };
  const value = (): JsValue => {
    while (i < s.length && /\s/.test(s[i]!)) i++;
    const c = s[i];
    if (c === '"' || c === "'") return str();
    if (c === '{') {
      i++;
      const obj: Record<string, JsValue> = {};
      for (;;) {
        while (i < s.length && /[\s,]/.test(s[i]!)) i++;
        if (s[i] === '}') {
          i++;
          return obj;
        }
        const key = s[i] === '"' || s[i] === "'" ? str() : ident();
        while (i < s.length && /\s/.test(s[i]!)) i++;
        if (s[i] !== ':') fail('expected ":"');
        i++;
        obj[key] = value();
        if (i >= s.length) fail('unterminated object');
      }
    }
    const m = /^-?\d+(?:\.\d+)?/.exec(s.slice(i));
    if (m) {
      i += m[0].length;
      return Number(m[0]);
    }
    if (s.startsWith('true', i)) return (i += 4), true;
    if (s.startsWith('false', i)) return (i += 5), false;
    if (s.startsWith('null', i)) return (i += 4), null;
    return fail('expected value');
  };
  ws();
  while (i < s.length) {
    const name = ident();
    if (!name.startsWith('window.')) fail('expected window.<name>');
    while (i < s.length && /\s/.test(s[i]!)) i++;
    if (s[i] !== '=') fail('expected "="');
    i++;
    out[name.slice('window.'.length)] = value();
    ws();
  }
  return out;
}

// ---- jslogin -------------------------------------------------------------------------------------------

export interface QRLoginAnswer {
  code: number;
  uuid: string | null;
  error?: string;
}

export function parseQRLogin(body: string): QRLoginAnswer {
  const v = parseJsVars(body);
  const code = Number(v['QRLogin.code']);
  if (!Number.isFinite(code)) throw new JsVarsParseError('no QRLogin.code', body.slice(0, 200));
  const uuid = typeof v['QRLogin.uuid'] === 'string' ? (v['QRLogin.uuid'] as string) : null;
  const error = typeof v['QRLogin.error'] === 'string' ? (v['QRLogin.error'] as string) : undefined;
  return error === undefined ? { code, uuid } : { code, uuid, error };
}

/** Exact bytes of the real answer: `window.QRLogin.code = 200; window.QRLogin.uuid = "gbyKnbsmqQ==";` */
export function encodeQRLogin(code: number, uuid: string | null, error?: string): string {
  if (uuid !== null) return `window.QRLogin.code = ${code}; window.QRLogin.uuid = "${uuid}";`;
  return `window.QRLogin.code = ${code}; window.QRLogin.error = "${error ?? 'param error'}";`;
}

// ---- login poll ----------------------------------------------------------------------------------------

export interface LoginPollAnswer {
  code: number;
  userAvatar?: string;
  redirectUri?: string;
}

export function parseLoginPoll(body: string): LoginPollAnswer {
  const v = parseJsVars(body);
  const code = Number(v['code']);
  if (!Number.isFinite(code)) throw new JsVarsParseError('no window.code', body.slice(0, 200));
  const out: LoginPollAnswer = { code };
  if (typeof v['userAvatar'] === 'string') out.userAvatar = v['userAvatar'] as string;
  if (typeof v['redirect_uri'] === 'string') out.redirectUri = v['redirect_uri'] as string;
  return out;
}

/** `window.code=408;` / `window.code=201;window.userAvatar = '…';` / `window.code=200;\nwindow.redirect_uri="…";` */
export function encodeLoginPoll(a: LoginPollAnswer): string {
  if (a.code === 201 && a.userAvatar !== undefined) return `window.code=201;window.userAvatar = '${a.userAvatar}';`;
  if (a.code === 200 && a.redirectUri !== undefined) return `window.code=200;\nwindow.redirect_uri="${a.redirectUri}";`;
  return `window.code=${a.code};`;
}

// ---- synccheck -----------------------------------------------------------------------------------------

export interface SyncCheckAnswer {
  retcode: number;
  selector: number;
}

export function parseSyncCheck(body: string): SyncCheckAnswer {
  const v = parseJsVars(body);
  const sc = v['synccheck'];
  if (!sc || typeof sc !== 'object') throw new JsVarsParseError('no window.synccheck', body.slice(0, 200));
  const retcode = Number(sc['retcode']);
  const selector = Number(sc['selector']);
  if (!Number.isFinite(retcode) || !Number.isFinite(selector)) {
    throw new JsVarsParseError('bad synccheck values', body.slice(0, 200));
  }
  return { retcode, selector };
}

/** `window.synccheck={retcode:"0",selector:"2"}` (no trailing semicolon, as captured). */
export function encodeSyncCheck(a: SyncCheckAnswer): string {
  return `window.synccheck={retcode:"${a.retcode}",selector:"${a.selector}"}`;
}
