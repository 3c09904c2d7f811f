/**
 * What every post_api POST shares, whichever sink sends it (the durable outbox worker or the in-memory fallback):
 * the request of one attempt (headers with event id, account, attempt, signature; the body, streamed when the
 * report references a media file) and reading the receiver's answer with a size cap.
 */
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { systemClock, type Clock } from '../client/clock.ts';
import type { AbortEntry, AbortHub } from '../client/abort-hub.ts';
import { parseRetryAfter } from './failure.ts';
import { streamedBody, type ReportMedia } from './media-body.ts';
import { sign, signChunks } from './sign.ts';

/** The receiver's answer to one report, as far as openwx reads it (the body feeds `reply`/`media`). */
export interface DeliveredResponse {
  status: number;
  contentType: string;
  body: string;
  /** The answer's `Retry-After` in ms (delay-seconds or an HTTP date), when it has one. */
  retryAfterMs?: number | null;
}

/** Where reports go: the post_api URL without `user:password@`, and those as an `Authorization: Basic` value. */
export interface PostTarget {
  url: string;
  /** `Basic base64(user:password)`; absent when the URL has no credentials. A secret: never logged. */
  authorization?: string;
}

/**
 * Splits the credentials off a post_api URL (`http://user:pass@host/path`): fetch and undici would drop them
 * silently; openwx sends them as HTTP Basic auth (RFC 7617, UTF-8) instead. Percent-escapes in them are decoded.
 */
export function postTarget(url: string): PostTarget {
  const u = new URL(url);
  if (!u.username && !u.password) return { url };
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const authorization = `Basic ${Buffer.from(`${decode(u.username)}:${decode(u.password)}`, 'utf8').toString('base64')}`;
  u.username = '';
  u.password = '';
  return { url: u.toString(), authorization };
}

export interface ReportHeadersInput {
  account: string;
  eventId: string;
  /** 1 for the first attempt. */
  attempt: number;
  userAgent: string;
  secret?: string | undefined;
  /** The `Authorization` header (Basic auth from the post_api URL's credentials). */
  authorization?: string | undefined;
  /**
   * Further headers (a OneBot webhook's); the report headers above win over them. A function gets the body text and
   * adds headers computed from it (OneBot 11's `X-Signature`); a sink with one sends no media (see reportRequest).
   */
  headers?: ExtraHeaders | undefined;
  body: string;
  /** The signature's timestamp comes from it; default the system clock. */
  clock?: Clock | undefined;
}

/** Further request headers: fixed, or computed from the body text. */
export type ExtraHeaders = Record<string, string> | ((body: string) => Record<string, string>);

function baseHeaders(i: Omit<ReportHeadersInput, 'secret' | 'clock'>): Record<string, string> {
  const h: Record<string, string> = {
    ...(typeof i.headers === 'function' ? i.headers(i.body) : i.headers),
    'content-type': 'application/json',
    'x-openwx-event-id': i.eventId,
    'x-openwx-account': i.account,
    'x-openwx-attempt': String(i.attempt),
    'user-agent': i.userAgent,
  };
  if (i.authorization) h['authorization'] = i.authorization;
  return h;
}

const unixSeconds = (clock: Clock = systemClock) => String(Math.floor(clock.now() / 1000));

/** The headers of a report whose body is the given text. */
export function reportHeaders(i: ReportHeadersInput): Record<string, string> {
  const headers = baseHeaders(i);
  if (i.secret) {
    const ts = unixSeconds(i.clock);
    headers['x-openwx-timestamp'] = ts;
    headers['x-openwx-signature'] = sign(i.secret, ts, i.body);
  }
  return headers;
}

export interface ReportRequestInput extends ReportHeadersInput {
  /** The media file whose base64 goes into the body as `media_data` (src/delivery/media-body.ts). */
  media?: ReportMedia | null | undefined;
  logger?: Logger | undefined;
}

export interface ReportRequest {
  headers: Record<string, string>;
  /** The JSON text, or a stream of exactly `content-length` bytes. */
  body: string | Readable;
}

/**
 * One attempt's request. A report with media gets a streamed body (Content-Length from the file size); with a
 * secret its signature is computed by a first pass over the same bytes (the file is read twice). When the file
 * cannot be attached (gone, changed) the report is sent without media_data.
 */
export async function reportRequest(i: ReportRequestInput): Promise<ReportRequest> {
  // Headers computed from the body text cannot cover a streamed body: such a report goes without media_data.
  const streamed = typeof i.headers === 'function' ? null : await streamedBody(i.body, i.media, i.logger);
  if (!streamed) return { headers: reportHeaders(i), body: i.body };
  const headers = baseHeaders(i);
  headers['content-length'] = String(streamed.length);
  if (i.secret) {
    const ts = unixSeconds(i.clock);
    try {
      headers['x-openwx-signature'] = await signChunks(i.secret, ts, streamed.chunks());
    } catch (err) {
      // The file changed under the signature pass: send the report without it.
      i.logger?.debug({ err, path: i.media?.path }, 'media_data not attached: the file could not be read');
      return { headers: reportHeaders(i), body: i.body };
    }
    headers['x-openwx-timestamp'] = ts;
  }
  // A byte stream (not object mode): at most about one chunk is buffered ahead of the socket.
  return { headers, body: Readable.from(streamed.chunks(), { objectMode: false }) };
}

export interface AttemptOptions {
  /** The post_api URL without credentials (postTarget). */
  url: string;
  dispatcher: Dispatcher;
  /** The whole attempt (writing the request, the answer's headers and its body) fails after this. */
  timeoutMs: number;
  maxResponseBytes: number;
  /** Aborts the attempt when the sink stops (the sink's signal, one listener for all its attempts). */
  stop: AbortHub;
  /** undici options for a pipelined connection (the outbox worker's). */
  pipelined?: boolean;
  /** The deadline's timer; default the system clock. */
  clock?: Clock | undefined;
}

/** Thrown (as the abort reason) when an attempt ran out of post_api_timeout_ms. */
export class AttemptTimeoutError extends Error {
  readonly code = 'OWX_POST_API_TIMEOUT';
  constructor(timeoutMs: number) {
    super(`no whole answer within post_api_timeout_ms (${timeoutMs} ms)`);
    this.name = 'AttemptTimeoutError';
  }
}

/**
 * One attempt: hands the request to undici at once (synchronously, so requests keep their call order) and reads
 * the answer, all under ONE deadline. undici's own timeouts are idle timeouts (a receiver dripping one byte a
 * second never trips them); this one is overall, counted from the moment the request is handed over.
 *
 * Through undici's `dispatch` with a handler that collects the answer (at most `maxResponseBytes`, then the request
 * is aborted): `request()` would build an abort-signal listener, an async resource and a body stream per report,
 * which the 1,000 msg/s Controller benchmark showed in its CPU and garbage profiles.
 */
export function sendAttempt(req: ReportRequest, o: AttemptOptions): Promise<DeliveredResponse> {
  const clock = o.clock ?? systemClock;
  return new Promise<DeliveredResponse>((resolve, reject) => {
    let controller: Dispatcher.DispatchController | null = null;
    /** Why we abort (deadline, stop): set before undici handed us its controller, applied when it does. */
    let reason: Error | null = null;
    let settled = false;
    let onStop: AbortEntry | null = null;
    let status = 0;
    let headers: Record<string, string | string[] | undefined> = {};
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (err: Error | null, value?: DeliveredResponse) => {
      if (settled) return;
      settled = true;
      clock.clearTimeout(timer);
      o.stop.off(onStop);
      if (err) reject(err);
      else resolve(value!);
    };
    const answer = (): DeliveredResponse => {
      const ct = headers['content-type'];
      return {
        status,
        contentType: Array.isArray(ct) ? ct.join(',') : (ct ?? ''),
        body: (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)).toString('utf8'),
        ...(status >= 300 ? { retryAfterMs: parseRetryAfter(headers['retry-after'], clock.now()) } : {}),
      };
    };
    const abort = (why: Error) => {
      reason ??= why;
      if (controller && !controller.aborted) controller.abort(why);
      settle(why);
    };
    const timer = clock.setTimeout(() => abort(new AttemptTimeoutError(o.timeoutMs)), o.timeoutMs);
    // Runs at once (and settles) when the sink has stopped already.
    onStop = o.stop.on(() => {
      const why: unknown = o.stop.signal.reason;
      abort(why instanceof Error ? why : new Error(String(why ?? 'stopped')));
    });
    if (settled) return;
    const url = new URL(o.url);
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (reason) c.abort(reason);
      },
      onResponseStart(_c, statusCode, h) {
        if (statusCode < 200) return; // 1xx: the answer comes after
        status = statusCode;
        headers = h;
      },
      onResponseData(c, chunk) {
        if (settled) return;
        if (size + chunk.length > o.maxResponseBytes) {
          // The first maxResponseBytes are the answer; the rest is not read (the request is aborted).
          chunks.push(chunk.subarray(0, o.maxResponseBytes - size));
          size = o.maxResponseBytes;
          const value = answer();
          settle(null, value);
          c.abort(new Error('answer longer than post_api_max_response_bytes: the rest was not read'));
          return;
        }
        size += chunk.length;
        chunks.push(chunk);
      },
      onResponseEnd() {
        settle(null, answer());
      },
      onResponseError(_c, err) {
        settle(reason ?? err);
      },
    };
    try {
      o.dispatcher.dispatch(
        {
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method: 'POST',
          headers: req.headers,
          body: req.body,
          // Lets undici pipeline the POSTs: it never pipelines non-idempotent requests, and waits for the answer's
          // headers before writing the next request unless `blocking` is off. Receivers de-duplicate with
          // X-Openwx-Event-Id: a report may be sent again anyway (at least once).
          ...(o.pipelined ? { idempotent: true, blocking: false } : {}),
          headersTimeout: o.timeoutMs,
          bodyTimeout: o.timeoutMs,
        },
        handler,
      );
    } catch (err) {
      settle(err instanceof Error ? err : new Error(String(err)));
    }
  });
}
