/**
 * Backpressure of the console's event stream (`/console/api/stream`) against a real stack: a reader that stops
 * reading is closed once its backlog in openwx passes the bound (it no longer grows with every message), a reader
 * that reads gets everything, and the number of streams open at once is capped (HTTP 503 JSON beyond it).
 * Measured on the server's own response objects (bytes waiting, destroyed), never by timing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { request } from 'undici';
import { startStack, type Stack } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait-for.ts';

const MAX_BUFFERED = 1024 * 1024; // the default streamMaxBufferedBytes
const MAX_STREAMS = 32; // the default maxStreams

/** The server's side of every event stream opened from now on, in order. */
function serverStreams(s: Stack): ServerResponse[] {
  const out: ServerResponse[] = [];
  s.api.app.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.url?.startsWith('/console/api/stream')) out.push(res);
  });
  return out;
}

/** A raw connection that asks for the stream and resolves once its first event arrived; `text` is what it read. */
async function openStream(s: Stack): Promise<{ sock: Socket; text: () => string }> {
  const { hostname, port } = new URL(s.base);
  const sock = connect(Number(port), hostname);
  await once(sock, 'connect');
  sock.write(`GET /console/api/stream HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAccept: text/event-stream\r\n\r\n`);
  let text = '';
  sock.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    const onData = (d: string) => {
      text += d;
      if (text.includes('event: state\n')) {
        sock.off('data', onData).off('error', reject);
        resolve();
      }
    };
    sock.on('data', onData).on('error', reject);
  });
  return { sock, text: () => text };
}

async function inject(s: Stack, body: Record<string, unknown>): Promise<void> {
  const r = await request(`${s.sb.url}/__sandbox/messages`, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(r.statusCode, 200, await r.body.text());
  await r.body.dump();
}

test('console stream: a reader that stops reading is closed once 1 MiB waits for it; a reader that reads gets every message', async (t) => {
  const s = await startStack();
  t.after(() => s.close());
  const server = serverStreams(s);

  // The slow reader: reads the headers and the first event, then never reads again (its receive window fills up).
  const slow = await openStream(s);
  slow.sock.pause();
  t.after(() => slow.sock.destroy());
  const slowRes = server[0]!;
  // A reader that keeps reading, counting messages.
  const fast = await openStream(s);
  t.after(() => fast.sock.destroy());
  let fastText = fast.text();
  fast.sock.on('data', (d: string) => (fastText += d));

  let received = 0;
  s.client.on('receive_message', () => received++);
  const PER_ROUND = 100;
  const CONTENT = 'x'.repeat(8_000); // ~8 KB per message event
  let maxWaiting = 0;
  let injected = 0;
  // Rounds of 100 × 8 KB until the server closed the slow stream, or (before the fix) its backlog passed the bound.
  for (let round = 0; round < 40 && !slowRes.destroyed && maxWaiting <= MAX_BUFFERED + 16 * 1024; round++) {
    await inject(s, { type: 'text', from: '张伟', content: `${CONTENT} ${round}`, count: PER_ROUND });
    injected += PER_ROUND;
    await waitFor(() => received >= injected, `${injected} messages received by the client`, 30_000);
    maxWaiting = Math.max(maxWaiting, slowRes.destroyed ? 0 : slowRes.writableLength);
  }
  t.diagnostic(`slow reader: at most ${maxWaiting} bytes waiting in openwx; closed: ${slowRes.destroyed}; after ${injected} messages`);
  assert.ok(slowRes.destroyed, `the slow stream is closed (at most ${maxWaiting} bytes waited for it after ${injected} messages)`);
  assert.ok(maxWaiting <= MAX_BUFFERED + 16 * 1024, `bytes waiting for the slow reader stayed bounded: ${maxWaiting}`);

  // The reading one got every message and is still open.
  const count = () => fastText.split('event: message\n').length - 1;
  await waitFor(() => count() >= injected, `the reading stream got all ${injected} messages (has ${count()})`, 30_000);
  assert.equal(count(), injected);
  assert.equal(server[1]!.destroyed, false);

  // The slow reader, reading again, finds its connection closed by the server.
  let slowClosed = false;
  slow.sock.on('error', () => undefined).on('close', () => (slowClosed = true));
  slow.sock.resume();
  await waitFor(() => slowClosed, 'the slow reader sees its connection closed', 20_000);
});

test('console stream: at most 32 streams at once; one more is HTTP 503 JSON; a closed one frees its slot', async (t) => {
  const s = await startStack();
  t.after(() => s.close());
  const open: Socket[] = [];
  t.after(() => open.forEach((x) => x.destroy()));
  for (let i = 0; i < MAX_STREAMS; i++) open.push((await openStream(s)).sock);

  const refused = await request(`${s.base}/console/api/stream`);
  assert.equal(refused.statusCode, 503);
  assert.match(String(refused.headers['content-type']), /^application\/json/);
  assert.deepEqual(await refused.body.json(), { code: -1, status: `too many console event streams open (${MAX_STREAMS}; the limit is ${MAX_STREAMS})` });

  // One reader leaves: its slot is free again (the server sees the close by itself).
  open.shift()!.destroy();
  const again = await waitFor(
    async () => {
      const r = await request(`${s.base}/console/api/stream`);
      if (r.statusCode === 503) {
        await r.body.dump();
        return null;
      }
      return r;
    },
    'a stream accepted after one was closed',
    10_000,
  );
  assert.equal(again.statusCode, 200);
  assert.match(String(again.headers['content-type']), /^text\/event-stream/);
  await again.body.destroy();
});
