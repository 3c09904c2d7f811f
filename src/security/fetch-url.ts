/**
 * Fetching media from a user-given URL: http(s) only, with a size cap and a time limit, streamed (never buffered
 * whole). Used by media_path URLs and post_api `media` replies.
 */
import { Readable } from 'node:stream';
import { request } from 'undici';
import { owxError } from '../errors.ts';
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
  maxRedirections?: number;
  signal?: AbortSignal;
}

export async function fetchMediaUrl(url: string, o: FetchUrlOptions): Promise<FetchedMedia> {
  if (!isHttpUrl(url)) throw owxError('OWX_ERR_MEDIA_INVALID', [`only http(s) URLs are allowed: ${url}`]);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw owxError('OWX_ERR_MEDIA_INVALID', [`malformed URL: ${url}`]);
  }
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error(`timed out after ${o.timeoutMs} ms`)), o.timeoutMs);
  const onAbort = () => ac.abort(o.signal?.reason);
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const done = () => {
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', onAbort);
  };
  let res!: Awaited<ReturnType<typeof request>>;
  try {
    // Redirects are followed here (not by an interceptor) so every hop is checked and the final URL names the file.
    for (let hop = 0; ; hop++) {
      res = await request(u, { method: 'GET', signal: ac.signal, headersTimeout: o.timeoutMs, bodyTimeout: o.timeoutMs });
      const loc = res.headers['location'];
      if (res.statusCode < 300 || res.statusCode >= 400 || !loc) break;
      res.body.resume();
      if (hop >= (o.maxRedirections ?? 5)) throw new Error('too many redirects');
      u = new URL(Array.isArray(loc) ? loc[0]! : loc, u);
      if (!isHttpUrl(u.href)) throw new Error(`redirect to a non-http(s) URL: ${u.href}`);
    }
  } catch (e) {
    done();
    throw owxError('OWX_ERR_DOWNLOAD_FAILED', [`${url}: ${(e as Error).message}`], { cause: e });
  }
  if (res.statusCode < 200 || res.statusCode >= 300) {
    res.body.resume();
    done();
    throw owxError('OWX_ERR_DOWNLOAD_FAILED', [`${url}: HTTP ${res.statusCode}`]);
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
  const stream = Readable.from(
    (async function* () {
      try {
        for await (const chunk of body) {
          seen += (chunk as Buffer).length;
          if (seen > o.maxBytes) throw owxError('OWX_ERR_MEDIA_TOO_LARGE', [o.maxBytes]);
          yield chunk as Buffer;
        }
      } finally {
        done();
        if (!body.destroyed) body.on('error', () => undefined).destroy();
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
