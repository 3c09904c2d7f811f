/**
 * Logging for the client: an injected pino logger (a child per account), never console. Secrets (skey, sid,
 * pass_ticket, tickets, cookies, uin in URLs) are stripped from anything we log: URLs go through `safeUrl`.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

/** Paths pino redacts if a secret ever ends up in a logged object. */
export const REDACT_PATHS = [
  'skey', 'sid', 'wxsid', 'passTicket', 'pass_ticket', 'ticket', 'cookie', 'cookies', 'headers.cookie',
  'headers["set-cookie"]', 'keys', '*.skey', '*.sid', '*.passTicket', '*.pass_ticket', '*.cookies',
];

export function defaultLogger(): Logger {
  return pino(
    { level: process.env['OPENWX_LOG_LEVEL'] ?? 'info', redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    pino.destination(2),
  );
}

const SECRET_PARAMS = new Set([
  'skey', 'sid', 'pass_ticket', 'ticket', 'uin', 'wxuin', 'wxsid', 'webwx_data_ticket', 'synckey', 'uuid', 'deviceid',
]);

/** `https://wx.qq.com/cgi-bin/mmwebwx-bin/webwxsync?sid=…&skey=…` → the same URL with secret values replaced. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    for (const k of [...u.searchParams.keys()]) {
      if (SECRET_PARAMS.has(k.toLowerCase())) u.searchParams.set(k, '…');
    }
    return decodeURIComponent(u.toString());
  } catch {
    return url.replace(/([?&](?:skey|sid|pass_ticket|ticket|uin|synckey)=)[^&]*/gi, '$1…');
  }
}
