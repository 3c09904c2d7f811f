/**
 * HTTP details shared by the wire routes: the origin a request came in on (Host + X-Forwarded-Proto, so behind a
 * TLS proxy under the real names every URL handed out is a real-name https URL), cookie domains, and the exact
 * response framings (text/plain JSON in the server's layout, text/javascript snippets, XML).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { formatServerJson, type JsonStyle } from './server-json.ts';

export interface Origin {
  proto: 'http' | 'https';
  /** Host header as sent (may carry a port). */
  host: string;
  hostname: string;
  /** A real WeChat name (…qq.com / …wechat.com), i.e. the client talks to us as if we were the real server. */
  realName: boolean;
  /** An IP literal or localhost: cookies are host-only. */
  local: boolean;
}

export function originOf(req: FastifyRequest): Origin {
  const xfp = String(req.headers['x-forwarded-proto'] ?? '').split(',')[0]!.trim().toLowerCase();
  const proto = xfp === 'https' ? 'https' : 'http';
  const host = String(req.headers.host ?? 'localhost');
  const hostname = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
  const lower = hostname.toLowerCase();
  const local = lower === 'localhost' || /^\d+\.\d+\.\d+\.\d+$/.test(lower) || lower.startsWith('[');
  const realName = /(^|\.)(qq\.com|wechat\.com|wechatapp\.com)$/.test(lower);
  return { proto, host, hostname: lower, realName, local };
}

export function originUrl(o: Origin): string {
  return `${o.proto}://${o.host}`;
}

/** `Mon, 31-Dec-2018 11:12:21 GMT`, the server's cookie date format. */
export function cookieDate(ms: number): string {
  const d = new Date(ms).toUTCString(); // "Mon, 31 Dec 2018 11:12:21 GMT"
  // The common case (a four-digit year) by position, without a regular expression (five cookies per webwxsync).
  if (d.length === 29 && d.charCodeAt(7) === 32 && d.charCodeAt(11) === 32 && d.charCodeAt(16) === 32) {
    return `${d.slice(0, 7)}-${d.slice(8, 11)}-${d.slice(12)}`;
  }
  const m = /^(\w+), (\d+) (\w+) (\d+) (.*)$/.exec(d);
  return m ? `${m[1]}, ${m[2]}-${m[3]}-${m[4]} ${m[5]}` : d;
}

/**
 * cookieDate(now + maxAgeMs) for the current second, kept per max-age: webwxsync sets five cookies on every answer
 * and formatting a date is most of that. Owned by the sandbox core (no module state); same text as cookieDate.
 */
export class CookieDates {
  private second = NaN;
  private readonly byMaxAge = new Map<number, string>();

  /** cookieDate(nowMs + maxAgeMs). */
  expires(nowMs: number, maxAgeMs: number): string {
    // Only whole seconds shift the date by whole seconds: anything else is formatted as it comes.
    if (maxAgeMs % 1000 !== 0 || !Number.isSafeInteger(nowMs)) return cookieDate(nowMs + maxAgeMs);
    const second = Math.floor(nowMs / 1000);
    if (second !== this.second) {
      this.second = second;
      this.byMaxAge.clear();
    }
    let d = this.byMaxAge.get(maxAgeMs);
    if (d === undefined) {
      d = cookieDate(nowMs + maxAgeMs);
      this.byMaxAge.set(maxAgeMs, d);
    }
    return d;
  }
}

export interface CookieSpec {
  name: string;
  value: string;
  /** 'page' = Domain=<host>; 'parent' = Domain=.<parent of host> (webwx_data_ticket). */
  scope: 'page' | 'parent';
  maxAgeMs: number;
}

export function setCookieHeader(o: Origin, c: CookieSpec, dates?: CookieDates): string {
  let s = `${c.name}=${c.value}`;
  if (!o.local) {
    const parts = o.hostname.split('.');
    const domain = c.scope === 'parent' && parts.length > 2 ? `.${parts.slice(1).join('.')}` : o.hostname;
    s += `; Domain=${domain}`;
  }
  s += `; Path=/; Expires=${dates ? dates.expires(Date.now(), c.maxAgeMs) : cookieDate(Date.now() + c.maxAgeMs)}`;
  if (o.proto === 'https') s += '; Secure';
  return s;
}

/** What String.prototype.trim removes (WhiteSpace and LineTerminator). */
function isTrimmed(c: number): boolean {
  return (
    (c >= 9 && c <= 13) || c === 32 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
  );
}

/**
 * Reads one cookie from the request's Cookie header (last one wins, like most servers): for each `;`-separated part
 * with a `=`, the trimmed text before the first `=` is the name and the trimmed rest the value. Scanned in place
 * (three lookups per request used to split the header three times).
 */
export function cookie(req: FastifyRequest, name: string): string | undefined {
  const h = req.headers.cookie;
  if (!h) return undefined;
  let found: string | undefined;
  for (let start = 0; start <= h.length; ) {
    let end = h.indexOf(';', start);
    if (end < 0) end = h.length;
    const eq = h.indexOf('=', start);
    if (eq >= 0 && eq < end) {
      let a = start;
      let b = eq;
      while (a < b && isTrimmed(h.charCodeAt(a))) a++;
      while (b > a && isTrimmed(h.charCodeAt(b - 1))) b--;
      if (b - a === name.length && h.startsWith(name, a)) found = h.slice(eq + 1, end).trim();
    }
    start = end + 1;
  }
  return found;
}

export function query(req: FastifyRequest): Record<string, string> {
  const q = req.query as Record<string, unknown> | undefined;
  const out: Record<string, string> = {};
  if (q) for (const [k, v] of Object.entries(q)) out[k] = Array.isArray(v) ? String(v[v.length - 1]) : String(v ?? '');
  return out;
}

/** Query parameter lookup ignoring case (MsgID vs msgid). */
export function qparam(req: FastifyRequest, name: string): string | undefined {
  // What query(req) gives for the name, without copying the whole query first (synccheck reads one of seven).
  const q = req.query as Record<string, unknown> | undefined;
  if (!q) return undefined;
  const value = (v: unknown) => (Array.isArray(v) ? String(v[v.length - 1]) : String(v ?? ''));
  if (Object.hasOwn(q, name)) return value(q[name]);
  const lower = name.toLowerCase();
  for (const k of Object.keys(q)) if (k.toLowerCase() === lower) return value(q[k]);
  return undefined;
}

export function sendServerJson(reply: FastifyReply, body: Record<string, unknown>, style: JsonStyle): FastifyReply {
  // Sent as the UTF-8 bytes (the same bytes a string is written as): the text is a rope of many pieces, which as a
  // string was flattened twice (for Content-Length, then once more joined to the response head) before the copy out.
  return reply.code(200).header('content-type', 'text/plain').send(Buffer.from(formatServerJson(body, style), 'utf8'));
}

export function sendJs(reply: FastifyReply, body: string, extra: Record<string, string> = {}): FastifyReply {
  reply.code(200).header('content-type', 'text/javascript');
  for (const [k, v] of Object.entries(extra)) reply.header(k, v);
  return reply.send(body);
}

/** The JSON request body, tolerant of clients that post JSON as text/plain or form-encoded. */
export function jsonBody(req: FastifyRequest): Record<string, unknown> | null {
  const b = req.body as unknown;
  if (b && typeof b === 'object' && !Buffer.isBuffer(b)) return b as Record<string, unknown>;
  const text = Buffer.isBuffer(b) ? b.toString('utf8') : typeof b === 'string' ? b : '';
  if (!text) return null;
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Waits until `ready()` is true (re-checked whenever `subscribe`'s callback fires), the timeout, or the client leaves. */
export function waitUntil(
  reply: FastifyReply,
  timeoutMs: number,
  subscribe: (wake: () => void) => () => void,
  ready: () => boolean,
): Promise<void> {
  return new Promise((resolve) => {
    if (ready()) return resolve();
    let unsub: () => void = () => {};
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      unsub();
      reply.raw.off('close', onClose);
      resolve();
    };
    const onClose = () => finish();
    const arm = () => {
      unsub = subscribe(() => {
        if (ready()) finish();
        else arm();
      });
    };
    const timer = setTimeout(finish, Math.max(0, timeoutMs));
    reply.raw.on('close', onClose);
    arm();
  });
}
