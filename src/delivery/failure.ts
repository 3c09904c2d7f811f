/**
 * Which post_api failures are retried, how, and whether a failing report may be passed by the reports behind it
 * (docs/delivery.md, "Failures and retries"). Four classes:
 *
 * - `unreachable`: no connection could be made (refused, DNS, host/network unreachable, connect timeout, TLS).
 *   The receiver is down: every report would fail the same way, so the line waits (strict order) and the report
 *   is retried on the full schedule (post_api_max_attempts / post_api_max_age_hours).
 * - `busy`: the receiver answered "later" (503, 429, 408, or 502/504 from a proxy whose application is down or
 *   slow). Same as unreachable, and a `Retry-After` is honoured (up to post_api_backoff_max_ms).
 * - `no_answer`: the request went out but no whole answer came back within post_api_timeout_ms, or the connection
 *   was lost before it. The receiver is reachable; the report may or may not have been handled. Retried on the full
 *   schedule; in bounded order the reports behind it go on after post_api_hold_ms.
 * - `rejected`: any other answer that is not 2xx (500 from a crashed handler, 400, 404, …). The receiver got the
 *   report and refused it: retried post_api_rejected_max_attempts times in all, then a dead letter; in bounded
 *   order the reports behind it go on after post_api_hold_ms (or as soon as it is dead).
 */

export type FailureClass = 'unreachable' | 'busy' | 'no_answer' | 'rejected';

/** HTTP statuses that mean "the receiver (or the proxy in front of it) cannot take reports now, try later". */
const BUSY_STATUSES: ReadonlySet<number> = new Set([408, 429, 502, 503, 504]);

/** Error codes of a connection that could not be made. */
const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAI_NONAME',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

export function classifyStatus(status: number): FailureClass {
  return BUSY_STATUSES.has(status) ? 'busy' : 'rejected';
}

/** The codes of an error and of its causes (undici wraps some; happy eyeballs gives an AggregateError). */
function codesOf(err: unknown, depth = 0): string[] {
  if (!err || typeof err !== 'object' || depth > 4) return [];
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown };
  const out: string[] = typeof e.code === 'string' ? [e.code] : [];
  out.push(...codesOf(e.cause, depth + 1));
  if (Array.isArray(e.errors)) for (const x of e.errors) out.push(...codesOf(x, depth + 1));
  return out;
}

export function classifyError(err: unknown): FailureClass {
  return codesOf(err).some((c) => UNREACHABLE_CODES.has(c)) ? 'unreachable' : 'no_answer';
}

/** Whether the reports behind a report failing this way may pass it (bounded order): the receiver is reachable. */
export const isReportFailure = (c: FailureClass): boolean => c === 'no_answer' || c === 'rejected';

/**
 * A `Retry-After` header in ms: delay-seconds or an HTTP date; null when absent or unreadable. Never negative.
 */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | null {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return null;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
