/**
 * post_api request signing: `X-Openwx-Signature: sha256=HMAC_SHA256(secret, timestamp + "." + body)` (hex), with
 * `X-Openwx-Timestamp` in unix seconds. A streamed body (src/delivery/media-body.ts) is signed over the same bytes
 * it sends. docs/delivery.md shows how a receiver verifies it and rejects replays.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export function sign(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** The same signature over a body given as chunks (a streamed media report): one pass, nothing held. */
export async function signChunks(secret: string, timestamp: string, body: AsyncIterable<Uint8Array>): Promise<string> {
  const hmac = createHmac('sha256', secret).update(`${timestamp}.`);
  for await (const chunk of body) hmac.update(chunk);
  return `sha256=${hmac.digest('hex')}`;
}

/** Receiver-side check (also used by our tests): signature matches and the timestamp is within `toleranceS`. */
export function verify(
  secret: string,
  headers: { timestamp?: string; signature?: string },
  body: string,
  nowS = Math.floor(Date.now() / 1000),
  toleranceS = 300,
): boolean {
  const { timestamp, signature } = headers;
  if (!timestamp || !signature || !/^\d+$/.test(timestamp)) return false;
  if (Math.abs(nowS - Number(timestamp)) > toleranceS) return false;
  const want = Buffer.from(sign(secret, timestamp, body));
  const got = Buffer.from(signature);
  return want.length === got.length && timingSafeEqual(want, got);
}
