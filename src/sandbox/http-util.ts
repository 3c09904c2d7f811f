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
  const m = /^(\w+), (\d+) (\w+) (\d+) (.*)$/.exec(d);
  return m ? `${m[1]}, ${m[2]}-${m[3]}-${m[4]} ${m[5]}` : d;
}

export interface CookieSpec {
  name: string;
  value: string;
  /** 'page' = Domain=<host>; 'parent' = Domain=.<parent of host> (webwx_data_ticket). */
  scope: 'page' | 'parent';
  maxAgeMs: number;
}

export function setCookieHeader(o: Origin, c: CookieSpec): string {
  let s = `${c.name}=${c.value}`;
  if (!o.local) {
    const parts = o.hostname.split('.');
    const domain = c.scope === 'parent' && parts.length > 2 ? `.${parts.slice(1).join('.')}` : o.hostname;
    s += `; Domain=${domain}`;
  }
  s += `; Path=/; Expires=${cookieDate(Date.now() + c.maxAgeMs)}`;
  if (o.proto === 'https') s += '; Secure';
  return s;
}

/** Reads one cookie from the request's Cookie header (last one wins, like most servers). */
export function cookie(req: FastifyRequest, name: string): string | undefined {
  const h = req.headers.cookie;
  if (!h) return undefined;
  let found: string | undefined;
  for (const part of h.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    if (part.slice(0, i).trim() === name) found = part.slice(i + 1).trim();
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
  const q = query(req);
  if (q[name] !== undefined) return q[name];
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(q)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

export function sendServerJson(reply: FastifyReply, body: Record<string, unknown>, style: JsonStyle): FastifyReply {
  return reply.code(200).header('content-type', 'text/plain').send(formatServerJson(body, style));
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
