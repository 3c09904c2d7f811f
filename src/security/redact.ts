/**
 * What never reaches a log: pino redaction paths for every place a secret can sit in a logged object (the client's
 * own list, plus the API token, the post_api secret, Authorization headers, access_token parameters and the WeChat
 * session keys and cookies under other names), and helpers for the few strings openwx prints itself.
 */

const SECRET_KEYS = [
  'token', 'access_token', 'accessToken', 'secret', 'postApiSecret', 'post_api_secret', 'authorization', 'password',
  'skey', 'sid', 'wxsid', 'uin', 'wxuin', 'pass_ticket', 'passTicket', 'ticket', 'webwx_data_ticket', 'webwx_auth_ticket',
  'dataTicket', 'cookie', 'cookies', 'set-cookie', 'x-openwx-signature',
];

/**
 * Redaction paths for the process logger: top level, one level down, and the headers of anything logged one level
 * down (`req.headers`, `options.headers`, @fastify/multipart's trace-level `busboyOptions.headers`, …).
 */
export const LOG_REDACT_PATHS: string[] = [
  ...new Set([
    'keys',
    'headers.cookie',
    'headers["set-cookie"]',
    ...['', '*', 'headers', '*.headers'].flatMap((at) =>
      SECRET_KEYS.map((k) => (/^[\w$]+$/.test(k) ? (at ? `${at}.${k}` : k) : `${at}["${k}"]`)),
    ),
  ]),
];

export const REDACT_CENSOR = '[redacted]';

/** A URL as it may be printed: without user:password and with the query string values hidden. */
export function printableUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    for (const k of [...u.searchParams.keys()]) u.searchParams.set(k, '…');
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}
