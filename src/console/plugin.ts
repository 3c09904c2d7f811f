/**
 * The web console served next to the Openwx API: the page (`/`) and its files (`/console/*`), the API docs page
 * (`/docs`), the console's data routes (`/console/api/overview`, `recent`, `stream` — server-sent events); the
 * login QR image is the API's `/openwx/get_qrcode`. The pages are public (they ask for the token and keep it in the
 * browser); every data route follows the API's token rule. Everything is served from this folder: no CDN.
 */
import { readFile } from 'node:fs/promises';
import type { QrWatch } from '../api/qr-watch.ts';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { WxClient } from '../client/interface.ts';
import type { Message } from '../model/types.ts';
import { owxError } from '../errors.ts';
import { component, Failure } from '../api/responses.ts';
import type { RouteDoc } from '../api/route-table.ts';

const STATIC_DIR = fileURLToPath(new URL('./static/', import.meta.url));

/** Files under `/console/`: name → content type. */
const STATIC_FILES: Record<string, string> = {
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
  'docs.js': 'text/javascript; charset=utf-8',
};

/** Pages: route → file. */
const PAGES: Record<string, { file: string; summary: string }> = {
  '/': { file: 'index.html', summary: 'The web console (asks for the token when the server has one)' },
  '/docs': { file: 'docs.html', summary: 'The API documentation page (renders /openwx/openapi.json)' },
};

/** Everything the page may load: only this origin; the QR image is a blob: URL made from an authorised fetch. */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

export const ConsoleOverview = component(
  'ConsoleOverview',
  z.strictObject({
    state: z.string(),
    account: z.string(),
    user: z.strictObject({ id: z.string(), displayname: z.string() }).nullable(),
    uptime: z.number().int().describe('seconds since the client started (run()), else since the process started'),
    outbox: z.number().int().nullable().describe('post_api reports waiting; null without post_api'),
    friends: z.number().int(),
    groups: z.number().int(),
    qrcode: z.string().nullable().describe('changes with each new login QR; null when none is waiting'),
  }),
);

export const ConsoleMessage = component(
  'ConsoleMessage',
  z
    .looseObject({
      id: z.string(),
      type: z.string(),
      class: z.enum(['send', 'recv']),
      format: z.string(),
      time: z.number(),
      content: z.string(),
    })
    .describe('a message as post_api receives it, without media_data'),
);
const ConsoleMessages = component('ConsoleMessages', z.array(ConsoleMessage));

export interface ConsoleOptions {
  client: WxClient;
  /** The account's login QR (its stamp changes with each new QR). */
  qr: QrWatch;
  /** Message → the JSON a post_api receiver would get (sender/receiver/group names filled in). */
  toJson: (m: Message) => Record<string, unknown>;
  /** post_api reports waiting, or null when post_api is off. */
  outboxDepth?: () => number | null;
  /** Messages kept for the console's "latest messages" list (default 100). */
  recentSize?: number;
  /** Keep-alive comment interval of the event stream (default 15 s). */
  streamPingMs?: number;
  /** Event streams open at once; one more is answered HTTP 503 `OWX_ERR_TOO_MANY_STREAMS` (default 32). */
  maxStreams?: number;
  /**
   * Bytes an event stream may have waiting to be sent (in openwx, beyond what the kernel's socket buffers took) before
   * it is closed as a reader that stopped reading (default 1 MiB). The page reconnects by itself.
   */
  streamMaxBufferedBytes?: number;
}

export async function registerConsole(app: FastifyInstance, o: ConsoleOptions): Promise<void> {
  const { client } = o;
  const recentSize = o.recentSize ?? 100;
  const pingMs = o.streamPingMs ?? 15_000;
  const maxStreams = o.maxStreams ?? 32;
  const maxBufferedBytes = o.streamMaxBufferedBytes ?? 1024 * 1024;
  const recent: Record<string, unknown>[] = [];
  /** Open event streams → their keep-alive timer. */
  const streams = new Map<ServerResponse, NodeJS.Timeout>();

  const drop = (res: ServerResponse) => {
    const ping = streams.get(res);
    if (ping === undefined) return;
    clearInterval(ping);
    streams.delete(res);
  };
  /**
   * Writes one chunk to one stream. A reader that stopped reading (its socket does not drain) is closed once more than
   * `maxBufferedBytes` wait for it, so its backlog is freed instead of growing with every event.
   */
  const send = (res: ServerResponse, chunk: string) => {
    if (res.destroyed) return;
    res.write(chunk);
    if (res.writableLength > maxBufferedBytes) {
      app.log.warn({ bufferedBytes: res.writableLength, maxBufferedBytes }, 'console event stream closed: its reader stopped reading');
      drop(res);
      res.destroy();
    }
  };
  const broadcast = (event: string, data: unknown) => {
    if (streams.size === 0) return; // nobody watching: no JSON per message
    const chunk = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const res of streams.keys()) send(res, chunk); // a send that closes a stream deletes it: Map iteration allows that
  };
  const onMessage = (m: Message) => {
    let j: Record<string, unknown>;
    try {
      j = { ...o.toJson(m) };
    } catch {
      j = { ...m };
    }
    delete j['media_data'];
    recent.push(j);
    if (recent.length > recentSize) recent.shift();
    broadcast('message', j);
  };
  const onState = (_old: string, state: string) => broadcast('state', { state });
  // The QR watch was created before this listener: its stamp is already the new QR's.
  const onQr = () => broadcast('qrcode', { qrcode: String(o.qr.seq) });
  const onContacts = () => broadcast('contacts', {});
  const contactEvents = ['new_friend', 'lose_friend', 'new_group', 'lose_group', 'update_friend', 'update_group'] as const;
  client.on('receive_message', onMessage);
  client.on('send_message', onMessage);
  client.on('state_change', onState);
  client.on('input_qrcode', onQr);
  for (const e of contactEvents) client.on(e, onContacts);
  app.addHook('preClose', async () => {
    for (const res of [...streams.keys()]) {
      drop(res);
      res.end();
    }
  });
  app.addHook('onClose', async () => {
    client.off('receive_message', onMessage);
    client.off('send_message', onMessage);
    client.off('state_change', onState);
    client.off('input_qrcode', onQr);
    for (const e of contactEvents) client.off(e, onContacts);
  });

  const page = (reply: FastifyReply, body: Buffer) =>
    reply.type('text/html; charset=utf-8').headers({ ...SECURITY_HEADERS, 'cache-control': 'no-cache' }).send(body);
  for (const [url, p] of Object.entries(PAGES)) {
    const body = await readFile(join(STATIC_DIR, p.file));
    const doc: RouteDoc = { summary: p.summary, tag: 'operations', responses: { 200: { description: 'HTML page', raw: ['text/html'] } } };
    app.get(url, { config: { public: true, doc } }, async (_req, reply) => page(reply, body));
  }
  for (const [name, type] of Object.entries(STATIC_FILES)) {
    const body = await readFile(join(STATIC_DIR, name));
    const doc: RouteDoc = {
      summary: `Console file ${name}`,
      tag: 'operations',
      responses: { 200: { description: name, raw: [type.split(';')[0]!] } },
    };
    app.get(`/console/${name}`, { config: { public: true, doc } }, async (_req, reply) =>
      reply.type(type).headers({ 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' }).send(body),
    );
  }

  const overviewDoc: RouteDoc = {
    summary: 'State, account, uptime, outbox depth, contact counts and the QR stamp',
    tag: 'operations',
    responses: { 200: { description: 'overview', json: ConsoleOverview } },
  };
  app.get('/console/api/overview', { config: { doc: overviewDoc } }, async () => {
    const user = client.user();
    const start = client.startTime || Math.floor(Date.now() / 1000 - process.uptime());
    const waiting = o.qr.waiting;
    return {
      state: client.state,
      account: client.account,
      user: user ? { id: user.id, displayname: user.displayname } : null,
      uptime: Math.max(0, Math.floor(Date.now() / 1000) - start),
      outbox: o.outboxDepth ? o.outboxDepth() : null,
      friends: client.friends().length,
      groups: client.groups().length,
      qrcode: waiting ? String(o.qr.seq) : null,
    };
  });

  const recentDoc: RouteDoc = {
    summary: 'The latest messages received and sent (oldest first)',
    tag: 'operations',
    responses: { 200: { description: 'messages', json: ConsoleMessages } },
  };
  app.get('/console/api/recent', { config: { doc: recentDoc } }, async () => recent);

  const streamDoc: RouteDoc = {
    summary: 'Live events (server-sent events): state, message, qrcode, contacts',
    description:
      'A `state` event first; then `message` (as /console/api/recent items), `state`, `qrcode` (a new login QR) and `contacts` as they happen. ' +
      `A stream whose reader stops reading is closed once ${maxBufferedBytes} bytes wait for it (reconnect). At most ${maxStreams} streams at once: one more is HTTP 503 (code -1).`,
    tag: 'operations',
    responses: {
      200: { description: 'text/event-stream', raw: ['text/event-stream'] },
      503: { description: 'too many event streams open (code -1)', json: Failure },
    },
  };
  app.get('/console/api/stream', { config: { doc: streamDoc } }, (req, reply) => {
    if (streams.size >= maxStreams) throw owxError('OWX_ERR_TOO_MANY_STREAMS', [streams.size, maxStreams]);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    streams.set(res, setInterval(() => send(res, ': ping\n\n'), pingMs));
    res.on('close', () => drop(res));
    if (req.raw.socket.destroyed) return drop(res); // the reader left before we held the stream
    send(res, `event: state\ndata: ${JSON.stringify({ state: client.state })}\n\n`);
  });
}
