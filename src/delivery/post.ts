/**
 * What every post_api POST shares, whichever sink sends it (the durable outbox worker or the in-memory fallback):
 * the request of one attempt (headers with event id, account, attempt, signature; the body, streamed when the
 * report references a media file) and reading the receiver's answer with a size cap.
 */
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { streamedBody, type ReportMedia } from './media-body.ts';
import { sign, signChunks } from './sign.ts';

/** The receiver's answer to one report, as far as openwx reads it (the body feeds `reply`/`media`). */
export interface DeliveredResponse {
  status: number;
  contentType: string;
  body: string;
}

export interface ReportHeadersInput {
  account: string;
  eventId: string;
  /** 1 for the first attempt. */
  attempt: number;
  userAgent: string;
  secret?: string | undefined;
  body: string;
}

function baseHeaders(i: Omit<ReportHeadersInput, 'body' | 'secret'>): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-openwx-event-id': i.eventId,
    'x-openwx-account': i.account,
    'x-openwx-attempt': String(i.attempt),
    'user-agent': i.userAgent,
  };
}

const unixSeconds = () => String(Math.floor(Date.now() / 1000));

/** The headers of a report whose body is the given text. */
export function reportHeaders(i: ReportHeadersInput): Record<string, string> {
  const headers = baseHeaders(i);
  if (i.secret) {
    const ts = unixSeconds();
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
  const streamed = await streamedBody(i.body, i.media, i.logger);
  if (!streamed) return { headers: reportHeaders(i), body: i.body };
  const headers = baseHeaders(i);
  headers['content-length'] = String(streamed.length);
  if (i.secret) {
    const ts = unixSeconds();
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

/** Reads the first `maxBytes` of the answer; the rest is not read (the stream is closed quietly). */
export async function readAnswer(res: Dispatcher.ResponseData, maxBytes: number): Promise<DeliveredResponse> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of res.body) {
    const chunk = c as Buffer;
    if (size + chunk.length > maxBytes) {
      chunks.push(chunk.subarray(0, maxBytes - size));
      res.body.on('error', () => undefined).destroy();
      break;
    }
    size += chunk.length;
    chunks.push(chunk);
  }
  const ct = res.headers['content-type'];
  return {
    status: res.statusCode,
    contentType: Array.isArray(ct) ? ct.join(',') : (ct ?? ''),
    body: chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'),
  };
}
