/**
 * What every post_api POST shares, whichever sink sends it (the durable outbox worker or the in-memory fallback):
 * the report headers (event id, account, attempt, signature) and reading the receiver's answer with a size cap.
 */
import type { Dispatcher } from 'undici';
import { sign } from './sign.ts';

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

export function reportHeaders(i: ReportHeadersInput): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-openwx-event-id': i.eventId,
    'x-openwx-account': i.account,
    'x-openwx-attempt': String(i.attempt),
    'user-agent': i.userAgent,
  };
  if (i.secret) {
    const ts = String(Math.floor(Date.now() / 1000));
    headers['x-openwx-timestamp'] = ts;
    headers['x-openwx-signature'] = sign(i.secret, ts, i.body);
  }
  return headers;
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
