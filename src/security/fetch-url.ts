/**
 * Fetching media from a user-given URL: http(s) only, with a size cap and a time limit, streamed (never buffered
 * whole). Used by media_path URLs and post_api `media` replies.
 *
 * Destinations (docs/security.md, "Media URL destinations"): every connection goes through one undici Agent whose
 * connector refuses a literal IP outside the address policy before connecting, resolves names with a lookup that
 * refuses the name when any resolved address is outside the policy (so the address connected to is the address
 * checked: DNS rebinding between a check and the connect cannot pass), and checks the socket's remote address once
 * more. Redirects are followed here, hop by hop through the same Agent, at most `maxRedirections` of them.
 *
 * Every failure to get a 2xx answer (refused destination, DNS failure, connection refused, timeout, non-2xx, too
 * many redirects, a reset mid-body) is the same error, OWX_ERR_MEDIA_URL_FAILED with the same text, so the answer is
 * no port scanner; the reason is only in a debug log line (host and reason, never the path or query).
 */
import { lookup as dnsLookup } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import { Agent, buildConnector, request } from 'undici';
import { isOpenwxError, owxError } from '../errors.ts';
import { anyAddress, makePublicAddressPolicy, type AddressPolicy } from './address-policy.ts';
import { isHttpUrl } from './media-path.ts';

export interface FetchedMedia {
  /** The body; it errors with OWX_ERR_MEDIA_TOO_LARGE if it grows past the limit. */
  stream: Readable;
  /** From Content-Length when the server sent one. */
  size: number | null;
  mime: string | null;
  /** The last path segment of the URL, decoded. */
  name: string;
}

export interface FetchUrlOptions {
  maxBytes: number;
  timeoutMs: number;
  /** Redirects followed at most (each hop is checked like the first). */
  maxRedirections?: number;
  signal?: AbortSignal;
  /** Fetch from any address, loopback and private ones included (setting allow_private_media_urls). */
  allowPrivate?: boolean;
  /** Decides which addresses may be connected to; overrides `allowPrivate` (for tests and embedders). */
  addressPolicy?: AddressPolicy;
  /** Resolves host names instead of `dns.lookup` (for tests: no real DNS). */
  lookup?: LookupFunction;
  /** Gets one debug line per failure (host and reason only). */
  logger?: { debug(obj: object, msg: string): void };
}

export const DEFAULT_MAX_REDIRECTIONS = 5;

/** A destination outside the address policy. */
class DestinationRefused extends Error {
  readonly code = 'OWX_DESTINATION_REFUSED';
  constructor(what: string) {
    super(`destination refused: ${what}`);
  }
}

/** The one error of every URL that could not be fetched (no reason: the reason is only logged). */
const unfetchable = (cause?: unknown) => owxError('OWX_ERR_MEDIA_URL_FAILED', [], cause === undefined ? {} : { cause });

/** A resolver that refuses a name when any of its addresses is outside the policy. */
function guardedLookup(policy: AddressPolicy, resolve: LookupFunction): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = Array.isArray(addresses) ? addresses : [{ address: addresses, family: isIP(addresses) }];
      const bad = list.find((a) => !policy(a.address));
      if (list.length === 0 || bad) {
        return callback(new DestinationRefused(`${hostname} resolves to ${bad?.address ?? 'nothing'}`), '', 0);
      }
      if (options.all) return callback(null, list);
      return callback(null, list[0]!.address, list[0]!.family);
    });
  };
}

/** An Agent whose every connection is to an address the policy allows. */
function guardedAgent(policy: AddressPolicy, resolve: LookupFunction, timeoutMs: number): Agent {
  const base = buildConnector({ lookup: guardedLookup(policy, resolve), timeout: timeoutMs });
  const connect: buildConnector.connector = (opts, callback) => {
    const host = opts.hostname.startsWith('[') ? opts.hostname.slice(1, -1) : opts.hostname;
    if (isIP(host) && !policy(host)) return callback(new DestinationRefused(host), null);
    base(opts, (err, socket) => {
      if (err) return callback(err, null);
      const remote = socket!.remoteAddress;
      if (!remote || !policy(remote)) {
        socket!.destroy();
        return callback(new DestinationRefused(`connected to ${remote ?? 'an unknown address'}`), null);
      }
      return callback(null, socket!);
    });
  };
  return new Agent({ connect, connections: 1 });
}

export async function fetchMediaUrl(url: string, o: FetchUrlOptions): Promise<FetchedMedia> {
  if (!isHttpUrl(url)) throw owxError('OWX_ERR_MEDIA_INVALID', [`only http(s) URLs are allowed: ${url}`]);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw owxError('OWX_ERR_MEDIA_INVALID', [`malformed URL: ${url}`]);
  }
  const policy = o.addressPolicy ?? (o.allowPrivate ? anyAddress : makePublicAddressPolicy());
  const agent = guardedAgent(policy, o.lookup ?? (dnsLookup as LookupFunction), o.timeoutMs);
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error(`timed out after ${o.timeoutMs} ms`)), o.timeoutMs);
  const onAbort = () => ac.abort(o.signal?.reason);
  o.signal?.addEventListener('abort', onAbort, { once: true });
  let finished = false;
  const done = () => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', onAbort);
    agent.destroy().catch(() => undefined);
  };
  const fail = (hop: number, reason: unknown) => {
    const e = reason as { code?: unknown; message?: unknown } | undefined;
    const why = typeof e?.code === 'string' && e.code !== 'OWX_DESTINATION_REFUSED' ? `${e.code}: ${String(e.message)}` : String(e?.message ?? e);
    o.logger?.debug({ host: u.host, hop, reason: why }, 'media URL could not be fetched');
    done();
    return unfetchable(reason);
  };
  if (o.signal?.aborted) throw fail(0, o.signal.reason);
  let res!: Awaited<ReturnType<typeof request>>;
  let hop = 0;
  try {
    for (; ; hop++) {
      res = await request(u, {
        method: 'GET', dispatcher: agent, signal: ac.signal, headersTimeout: o.timeoutMs, bodyTimeout: o.timeoutMs,
      });
      const loc = res.headers['location'];
      if (res.statusCode < 300 || res.statusCode >= 400 || !loc) break;
      res.body.resume();
      if (hop >= (o.maxRedirections ?? DEFAULT_MAX_REDIRECTIONS)) throw new Error('too many redirects');
      u = new URL(Array.isArray(loc) ? loc[0]! : loc, u);
      if (!isHttpUrl(u.href)) throw new Error(`redirect to a ${u.protocol} URL`);
    }
  } catch (e) {
    throw fail(hop, e);
  }
  if (res.statusCode < 200 || res.statusCode >= 300) {
    res.body.on('error', () => undefined).destroy();
    throw fail(hop, new Error(`HTTP ${res.statusCode}`));
  }
  const len = Number(res.headers['content-length']);
  const size = Number.isFinite(len) && len >= 0 ? len : null;
  if (size !== null && size > o.maxBytes) {
    res.body.on('error', () => undefined).destroy();
    done();
    throw owxError('OWX_ERR_MEDIA_TOO_LARGE', [o.maxBytes]);
  }
  const ct = res.headers['content-type'];
  const mime = (Array.isArray(ct) ? ct[0] : ct)?.split(';')[0]?.trim() || null;
  let seen = 0;
  const body = res.body;
  const lastHop = hop;
  const stream = Readable.from(
    (async function* () {
      try {
        for await (const chunk of body) {
          seen += (chunk as Buffer).length;
          if (seen > o.maxBytes) throw owxError('OWX_ERR_MEDIA_TOO_LARGE', [o.maxBytes]);
          yield chunk as Buffer;
        }
      } catch (e) {
        if (isOpenwxError(e)) throw e;
        throw fail(lastHop, e);
      } finally {
        if (!body.destroyed) body.on('error', () => undefined).destroy();
        done();
      }
    })(),
  );
  const last = u.pathname.split('/').filter(Boolean).pop() ?? '';
  let name = last;
  try {
    name = decodeURIComponent(last);
  } catch {
    /* keep raw */
  }
  return { stream, size, mime, name };
}
