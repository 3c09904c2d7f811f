/**
 * HttpTransport: the client's one network door (undici 7 + a tough-cookie jar).
 *
 * - URLs are built on real WeChat names (`https://webpush.wx2.qq.com/…`) from the host family.
 * - Origin override (`wechatOrigin`): the request goes to that origin instead, with the real `Host` header and
 *   `X-Forwarded-Proto: https`, like a TLS-terminating proxy. Cookies are stored and matched against the real-name
 *   URL, redirects are resolved on real names, so the host-family logic runs exactly as against WeChat.
 * - Per-request timeouts (abort), gzip/deflate/br decoding, the configured User-Agent, Referer/Origin like the
 *   official page. Errors become `OWX_ERR_TIMEOUT` / `OWX_ERR_NETWORK`.
 */
import { publishWireRequest } from '../diagnostics.ts';
import { readStream } from '../read-stream.ts';
import { Answer } from './answer.ts';
import { AbortHubs } from './abort-hub.ts';
import { Agent } from 'undici';
import { CookieJar } from 'tough-cookie';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { owxError, isOpenwxError } from '../errors.ts';
import { hostFamily, type HostFamily } from '../wire/hosts.ts';
import type { Logger } from './logger.ts';
import { safeUrl } from './logger.ts';
import type { RawBody, Transport, TransportRequest, TransportResponse } from './transport-types.ts';

export interface HttpTransportOptions {
  userAgent: string;
  /** Page host the family starts from (login redirect may change it). */
  pageHost: string;
  wechatOrigin?: string;
  /** Account name in diagnostics (`openwx:wire:request`). */
  account?: string;
  requestTimeoutMs: number;
  logger: Logger;
  maxRedirects?: number;
  /**
   * A cluster's "may this controller act for the account now" (src/cluster/lease.ts): checked before each request is
   * sent and again before its answer is handed back; false → OWX_ERR_LEASE_LOST and nothing is sent / used.
   */
  mayAct?: () => boolean;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** How long a computed Cookie header is reused while the jar is unchanged (cookie expiries are hours away). */
const COOKIE_CACHE_MS = 1_000;
/** How much later an otherwise identical Set-Cookie's Expires may be before the header is applied again. */
const COOKIE_EXPIRES_SLACK_MS = 60_000;
const EXPIRES_ATTR = /;\s*expires=([^;]*)/i;

type Headers = Record<string, string | string[] | undefined>;

export class HttpTransport implements Transport {
  family: HostFamily;
  readonly #o: HttpTransportOptions;
  readonly #agent: Agent;
  #jar = new CookieJar(undefined, { looseMode: true });
  /**
   * The last Set-Cookie header applied per cookie name (with the URL it came from), so an identical header with
   * an absolute Expires is not re-applied: webwxsync re-sends the same five cookies on every call and tough-cookie
   * re-parses each one; a header that differs only by an Expires at most `COOKIE_EXPIRES_SLACK_MS` later than the
   * one applied counts as the same (the jar's expiry is then that much early: it is re-applied once it drifts
   * further, or every time once the applied expiry is less than the slack away, so a session kept alive for days and a
   * short-lived cookie extended by each answer keep their cookies). Keyed by name, so a header of the same name from
   * anywhere replaces the entry (A → B → A re-applies A). Cleared when the jar changes by any other way (import, clear).
   */
  #applied = new Map<string, { seen: string; expiresMs: number }>();
  /** Cookie header per origin+path, valid until the jar changes or for `COOKIE_CACHE_MS`. */
  #cookieCache = new Map<string, { value: string; until: number }>();
  readonly #origin: URL | null;
  #closed = false;
  /** The callers' signals (an account's run): one listener each, not one per request (src/client/abort-hub.ts). */
  readonly #hubs = new AbortHubs();

  constructor(o: HttpTransportOptions) {
    this.#o = o;
    this.family = hostFamily(o.pageHost);
    this.#origin = o.wechatOrigin ? new URL(o.wechatOrigin) : null;
    this.#agent = new Agent({ keepAliveTimeout: 30_000, connections: 16 });
  }

  /** The real-name URL a request addresses (before any origin override). */
  realUrl(req: TransportRequest): URL {
    if (!req.query || req.query.length === 0) return new URL(req.url ?? `https://${req.host ?? this.family[req.role]}${req.path}`);
    let query = '';
    for (const [k, v] of req.query) {
      query += `${query ? '&' : ''}${encodeURIComponent(k)}=${typeof v === 'object' ? v.raw : encodeURIComponent(String(v))}`;
    }
    if (req.url) {
      // A full URL may carry a query and a fragment already: the parameters go after its query, the fragment goes.
      const base = new URL(req.url);
      return new URL(`${base.origin}${base.pathname}?${base.search.length > 1 ? base.search.slice(1) + '&' : ''}${query}`);
    }
    const path = req.path;
    const sep = !path.includes('?') ? '?' : path.endsWith('?') || path.endsWith('&') ? '' : '&';
    return new URL(`https://${req.host ?? this.family[req.role]}${path}${sep}${query}`);
  }

  async request(req: TransportRequest): Promise<TransportResponse> {
    if (this.#closed) throw owxError('OWX_ERR_NETWORK', [req.name, 'transport closed']);
    if (this.#o.mayAct && !this.#o.mayAct()) throw owxError('OWX_ERR_LEASE_LOST', [req.name]);
    const timeoutMs = req.timeoutMs ?? this.#o.requestTimeoutMs;
    /** The answer of the hop in flight: the deadline and the caller's signal abort it. */
    let current: Answer | null = null;
    let aborted: Error | null = null;
    let timedOut = false;
    const abort = (err: Error) => {
      aborted ??= err;
      current?.abort(err);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      abort(owxError('OWX_ERR_TIMEOUT', [req.name, timeoutMs]));
    }, timeoutMs);
    const hub = req.signal ? this.#hubs.for(req.signal) : null;
    const onAbort = hub?.on(() => abort(abortReason(hub.signal))) ?? null;
    const done = () => {
      clearTimeout(timer);
      hub?.off(onAbort);
    };
    let url = this.realUrl(req);
    let method = req.method ?? (req.json !== undefined || req.form !== undefined || req.body !== undefined ? 'POST' : 'GET');
    let body = method === 'GET' ? undefined : this.#body(req);
    const maxRedirects = this.#o.maxRedirects ?? 5;
    const started = performance.now();
    const publish = (status: number) =>
      publishWireRequest({
        account: this.#o.account ?? '',
        name: req.name,
        durationMs: performance.now() - started,
        status,
        ok: status >= 200 && status < 400,
      });
    try {
      for (let hop = 0; ; hop++) {
        if (aborted) throw aborted;
        current = new Answer();
        const res = await this.#send(url, method, body?.data, body?.headers, req, current);
        const location = firstHeader(res.headers['location']);
        if (req.followRedirects !== false && REDIRECT_STATUSES.has(res.status) && location && hop < maxRedirects) {
          await res.dump();
          url = new URL(location, url);
          if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
            method = 'GET';
            body = undefined;
          }
          continue;
        }
        publish(res.status);
        if (this.#o.mayAct && !this.#o.mayAct()) {
          await res.dump();
          throw owxError('OWX_ERR_LEASE_LOST', [req.name]);
        }
        return this.#response(res, url, req, done, () => timedOut);
      }
    } catch (err) {
      done();
      publish(0);
      throw this.#mapError(err, req, timeoutMs, timedOut);
    }
  }

  #body(req: TransportRequest): { data: string | RawBody; headers: Record<string, string> } | undefined {
    if (req.body !== undefined) {
      // undici writes an iterable piece by piece and checks the byte count against this Content-Length.
      return { data: req.body, headers: { 'content-type': req.body.contentType, 'content-length': String(req.body.length) } };
    }
    if (req.json !== undefined) {
      return { data: JSON.stringify(req.json), headers: { 'content-type': 'application/json;charset=UTF-8' } };
    }
    if (req.form !== undefined) {
      return {
        data: new URLSearchParams(req.form).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      };
    }
    return undefined;
  }

  /** Sends one hop through undici's dispatch; resolves with its answer once the head arrived. */
  async #send(url: URL, method: string, body: string | RawBody | undefined, bodyHeaders: Record<string, string> | undefined, req: TransportRequest, answer: Answer): Promise<Answer> {
    const headers: Record<string, string> = {
      'user-agent': this.#o.userAgent,
      accept: req.json !== undefined ? 'application/json, text/plain, */*' : '*/*',
      'accept-encoding': 'gzip, deflate, br',
      'accept-language': 'zh-CN,zh;q=0.9,en-US;q=0.8,en;q=0.7',
      referer: `https://${this.family.page}/`,
    };
    if (method === 'POST') headers['origin'] = `https://${this.family.page}`;
    if (bodyHeaders) for (const k in bodyHeaders) headers[k.toLowerCase()] = bodyHeaders[k]!;
    if (req.headers) for (const k in req.headers) headers[k.toLowerCase()] = req.headers[k]!;
    const cookie = this.#cookieHeader(url);
    if (cookie) headers['cookie'] = cookie;
    let origin = url.origin;
    if (this.#origin) {
      origin = this.#origin.origin;
      headers['host'] = url.host;
      headers['x-forwarded-proto'] = 'https';
    }
    // safeUrl parses the URL again: only pay for it when trace logging is on.
    if (this.#o.logger.isLevelEnabled('trace')) this.#o.logger.trace({ req: req.name, method, url: safeUrl(url.toString()) }, 'http request');
    try {
      this.#agent.dispatch({ origin, path: `${url.pathname}${url.search}`, method: method as 'GET' | 'POST', headers, body: (body ?? null) as string | null }, answer.handler);
    } catch (err) {
      answer.abort(err instanceof Error ? err : new Error(String(err)));
    }
    const res = await answer.head;
    this.#storeCookies(res.headers, url);
    this.#o.logger.trace({ req: req.name, status: res.status }, 'http response');
    return res;
  }

  #storeCookies(headers: Headers, url: URL): void {
    const raw = headers['set-cookie'];
    const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    for (const c of list) {
      const eq = c.indexOf('=');
      const name = (eq < 0 ? c : c.slice(0, eq)).trim();
      // The header without its Expires: webwxsync sends the same cookies with an Expires one second later each time.
      const expires = EXPIRES_ATTR.exec(c);
      const expiresMs = expires ? Date.parse(expires[1]!) : NaN;
      const seen = `${url.host}${url.pathname}\n${expires ? c.slice(0, expires.index) + c.slice(expires.index + expires[0].length) : c}`;
      const last = this.#applied.get(name);
      // Only while the applied expiry is over the slack away: a short-lived cookie extended by each answer would
      // otherwise lapse in the jar while the server keeps it alive.
      if (
        last &&
        last.seen === seen &&
        (expires
          ? expiresMs >= last.expiresMs && expiresMs - last.expiresMs <= COOKIE_EXPIRES_SLACK_MS && last.expiresMs - Date.now() > COOKIE_EXPIRES_SLACK_MS
          : true)
      )
        continue;
      try {
        this.#jar.setCookieSync(c, url.toString(), { ignoreError: true });
        this.#cookieCache.clear();
        // Max-Age is relative to now: such a header is never "the same" as before.
        if (/max-age/i.test(c) || (expires && Number.isNaN(expiresMs))) this.#applied.delete(name);
        else this.#applied.set(name, { seen, expiresMs });
      } catch (err) {
        this.#o.logger.debug({ err: (err as Error).message }, 'ignored a bad Set-Cookie');
      }
    }
  }

  #jarChanged(): void {
    this.#applied.clear();
    this.#cookieCache.clear();
  }

  #cookieHeader(url: URL): string {
    const key = `${url.protocol}//${url.host}${url.pathname}`;
    const now = Date.now();
    const hit = this.#cookieCache.get(key);
    if (hit && hit.until > now) return hit.value;
    const value = this.#jar.getCookieStringSync(url.toString());
    if (this.#cookieCache.size > 64) this.#cookieCache.clear();
    this.#cookieCache.set(key, { value, until: now + COOKIE_CACHE_MS });
    return value;
  }

  #response(res: Answer, url: URL, req: TransportRequest, done: () => void, timedOut: () => boolean): TransportResponse {
    const encoding = String(firstHeader(res.headers['content-encoding']) ?? '').toLowerCase();
    let consumed = false;
    const open = (): Readable => {
      if (consumed) throw owxError('OWX_ERR_NETWORK', [req.name, 'response body read twice']);
      consumed = true;
      res.onSettled(done);
      const raw = res.stream();
      const dec = encoding === 'gzip' ? createGunzip() : encoding === 'deflate' ? createInflate() : encoding === 'br' ? createBrotliDecompress() : null;
      if (!dec) return raw;
      raw.on('error', (e) => dec.destroy(e));
      // A reader that gives up on the decoded stream gives up on the answer: the request is aborted (after the end
      // this does nothing), or the connection would wait paused for undici's own body timeout.
      dec.on('close', () => raw.destroy());
      const out = raw.pipe(dec);
      out.on('close', done);
      out.on('end', done);
      out.on('error', done);
      return out;
    };
    const buffer = async (): Promise<Buffer> => {
      try {
        if (encoding) return (await readStream(open())).data;
        if (consumed) throw owxError('OWX_ERR_NETWORK', [req.name, 'response body read twice']);
        consumed = true;
        return await res.buffer();
      } catch (err) {
        throw this.#mapError(err, req, req.timeoutMs ?? this.#o.requestTimeoutMs, timedOut());
      } finally {
        done();
      }
    };
    return {
      status: res.status,
      headers: res.headers,
      url: url.toString(),
      buffer,
      async text() {
        return (await buffer()).toString('utf8');
      },
      async json<T>() {
        const text = (await buffer()).toString('utf8');
        try {
          return JSON.parse(text) as T;
        } catch {
          throw owxError('OWX_ERR_WX_BAD_RESPONSE', [req.name, `not JSON (HTTP ${res.status}): ${text.slice(0, 80)}`]);
        }
      },
      stream() {
        return open();
      },
    };
  }

  #mapError(err: unknown, req: TransportRequest, timeoutMs: number, timedOut: boolean): Error {
    if (isOpenwxError(err)) return err;
    if (timedOut) return owxError('OWX_ERR_TIMEOUT', [req.name, timeoutMs], { cause: err });
    if (req.signal?.aborted) return (req.signal.reason as Error) ?? (err as Error);
    const e = err as { code?: string; message?: string };
    return owxError('OWX_ERR_NETWORK', [req.name, e.code ? `${e.code} ${e.message ?? ''}`.trim() : e.message ?? String(err)], {
      cause: err,
    });
  }

  cookie(name: string): string | undefined {
    const urls = [`https://${this.family.page}/`, `https://${this.family.file}/`, `https://${this.family.push}/`];
    for (const u of urls) {
      const c = this.#jar.getCookiesSync(u).find((x) => x.key === name);
      if (c) return c.value;
    }
    return undefined;
  }

  exportCookies(): unknown {
    return this.#jar.serializeSync();
  }

  importCookies(state: unknown): void {
    if (!state || typeof state !== 'object') return;
    this.#jar = CookieJar.deserializeSync(state as Parameters<typeof CookieJar.deserializeSync>[0]);
    this.#jarChanged();
  }

  clearCookies(): void {
    this.#jar.removeAllCookiesSync();
    this.#jarChanged();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // destroy, not close: a pending long-poll must not hold stop() for 35 s.
    await this.#agent.destroy().catch(() => undefined);
  }
}

/** Why a caller's signal aborted, as an Error (AbortController's default reason is a DOMException, an Error too). */
function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  return r instanceof Error ? r : Object.assign(new Error(r === undefined ? 'aborted' : String(r)), { name: 'AbortError' });
}

function firstHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
