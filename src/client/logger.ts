/**
 * Logging for the client: an injected pino logger (a child per account), never console. Secrets (skey, sid,
 * pass_ticket, tickets, cookies, uin in URLs) are stripped from anything we log: URLs go through `safeUrl`.
 */
import { pino, type Logger } from 'pino';
import { LOG_REDACT_PATHS, REDACT_CENSOR } from '../security/redact.ts';

export type { Logger };

/** Paths pino redacts if a secret ever ends up in a logged object (one list for the whole process). */
export const REDACT_PATHS = LOG_REDACT_PATHS;

export function defaultLogger(): Logger {
  return pino(
    { level: process.env['OPENWX_LOG_LEVEL'] ?? 'info', redact: { paths: REDACT_PATHS, censor: REDACT_CENSOR } },
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
