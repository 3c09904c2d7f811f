/**
 * What both commands (`openwx`, `openwx controller`) print: console lines for people (where things are) and the
 * pino logger everything else goes through — readable lines on a terminal (or `log_format: pretty`), JSON lines
 * otherwise. Secrets (tokens, post_api secrets, cookies, skey, sid, pass_ticket, tickets) never reach the log:
 * src/security/redact.ts. Also the constants both commands share (the version, the embedded sandbox's auto-login).
 */
import { readFileSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import { LOG_REDACT_PATHS, REDACT_CENSOR } from '../security/redact.ts';

export const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** How long an embedded sandbox (`--sandbox`) waits before it scans and confirms a QR code by itself. */
export const SANDBOX_AUTO_LOGIN_MS = 1_500;

export function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

interface LogSettings {
  log_level: string;
  log_format: 'auto' | 'pretty' | 'json';
}

/** Readable lines (a terminal, or log_format pretty) rather than JSON lines. */
export function prettyOutput(s: LogSettings): boolean {
  return s.log_format === 'pretty' || (s.log_format === 'auto' && process.stdout.isTTY === true);
}

export async function commandLogger(s: LogSettings): Promise<Logger> {
  const pretty = prettyOutput(s);
  const logOptions = { level: s.log_level, redact: { paths: LOG_REDACT_PATHS, censor: REDACT_CENSOR } };
  // pino-pretty is imported only when used (a terminal).
  return pretty
    ? pino(logOptions, (await import('pino-pretty')).default({ colorize: process.stdout.isTTY === true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname', singleLine: true, sync: true }))
    : pino(logOptions);
}
