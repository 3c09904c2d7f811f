/**
 * The web console served next to the Openwx API: the page (`/`) and its files (`/console/*`), the API docs page
 * (`/docs`), the console's data routes (`/console/api/overview`, `recent`, `onebot`, `stream` — server-sent events); the
 * login QR image is the API's `/openwx/get_qrcode`. The pages are public (they ask for the token and keep it in the
 * browser); every data route follows the API's token rule. Everything is served from this folder: no CDN.
 */
import { readFile } from 'node:fs/promises';
import type { QrWatch } from '../api/qr-watch.ts';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { WxClient } from '../client/interface.ts';
import type { Message } from '../model/types.ts';
import { owxError } from '../errors.ts';
import { component, Failure } from '../api/responses.ts';
import type { RouteDoc } from '../api/route-table.ts';
import type { MessagePostType, MessageToJson } from '../api/report/report-json.ts';
import type { OneBotStatus } from '../onebot/status.ts';

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
      post_type: z.enum(['receive_message', 'send_message']).optional(),
    })
    .describe('a message as post_api receives it, without media_data'),
);
const ConsoleMessages = component('ConsoleMessages', z.array(ConsoleMessage));

/** One account as the console shows it: its recent messages and the events its open streams receive. */
export interface ConsoleFeedOptions {
  client: WxClient;
  /** The account's login QR (its stamp changes with each new QR). */
  qr: QrWatch;
  /** Message → the JSON a post_api receiver would get (sender/receiver/group names filled in, its post_type). */
  toJson: MessageToJson;
  /** post_api reports waiting, or null when post_api is off. */
  outboxDepth?: () => number | null;
  /** Messages kept for the console's "latest messages" list (default 100). */
  recentSize?: number;
}

/** Where a feed's events go: the host's open event streams of that account. */
interface Broadcaster {
  broadcast(feed: ConsoleFeed, event: string, data: unknown): void;
  /** A stream is open on this feed. */
  watching(feed: ConsoleFeed): boolean;
}

const CONTACT_EVENTS = ['new_friend', 'lose_friend', 'new_group', 'lose_group', 'update_friend', 'update_group'] as const;

/**
 * What the console keeps of one account: the latest messages (as post_api gets them, without media_data) and its
 * live events (state, message, qrcode, contacts), handed to the streams open on this account.
 */
export class ConsoleFeed {
  readonly client: WxClient;
  /**
   * The latest messages: each one's post JSON as built when it arrived (`toJson` reads the contact book, which a
   * rename or a relogin changes later), its copy without media_data made when first needed (a read of `recent`, or a
   * live stream).
   */
  readonly #recent: { base: Record<string, unknown>; j: Record<string, unknown> | null }[] = [];
  readonly #o: ConsoleFeedOptions;
  readonly #recentSize: number;
  #out: Broadcaster | null = null;
  readonly #onReceived = (m: Message) => this.#onMessage(m, 'receive_message');
  readonly #onSent = (m: Message) => this.#onMessage(m, 'send_message');
  #onMessage(m: Message, postType: MessagePostType): void {
    // Without an open stream nothing reads the JSON now: its copy is made on the first read (most never are).
    const live = this.#out?.watching(this) === true;
    const base = this.#base(m, postType);
    const entry = { base, j: live ? this.#json(base) : null };
    this.#recent.push(entry);
    if (this.#recent.length > this.#recentSize) this.#recent.shift();
    if (live) this.#out!.broadcast(this, 'message', entry.j);
  }
  readonly #onState = (_old: string, state: string) => this.#out?.broadcast(this, 'state', { state });
  // The QR watch was created before this listener: its stamp is already the new QR's.
  readonly #onQr = () => this.#out?.broadcast(this, 'qrcode', { qrcode: String(this.#o.qr.seq) });
  readonly #onContacts = () => this.#out?.broadcast(this, 'contacts', {});

  constructor(o: ConsoleFeedOptions) {
    this.#o = o;
    this.client = o.client;
    this.#recentSize = o.recentSize ?? 100;
    const c = o.client;
    c.on('receive_message', this.#onReceived);
    c.on('send_message', this.#onSent);
    c.on('state_change', this.#onState);
    c.on('input_qrcode', this.#onQr);
    for (const e of CONTACT_EVENTS) c.on(e, this.#onContacts);
  }

  /** The latest messages, oldest first, as post_api gets them (without media_data). */
  get recent(): Record<string, unknown>[] {
    return this.#recent.map((e) => (e.j ??= this.#json(e.base)));
  }

  /** The message's post JSON now, while the contact book is in the state the message arrived in. */
  #base(m: Message, postType: MessagePostType): Record<string, unknown> {
    try {
      return this.#o.toJson(m, postType);
    } catch {
      return { ...m };
    }
  }

  #json(base: Record<string, unknown>): Record<string, unknown> {
    const j = { ...base };
    delete j['media_data'];
    return j;
  }

  /** @internal the console routes attach here. */
  attach(out: Broadcaster | null): void {
    this.#out = out;
  }

  overview(): z.output<typeof ConsoleOverview> {
    const client = this.client;
    const user = client.user();
    const start = client.startTime || Math.floor(Date.now() / 1000 - process.uptime());
    return {
      state: client.state,
      account: client.account,
      user: user ? { id: user.id, displayname: user.displayname } : null,
      uptime: Math.max(0, Math.floor(Date.now() / 1000) - start),
      outbox: this.#o.outboxDepth ? this.#o.outboxDepth() : null,
      friends: client.friends().length,
      groups: client.groups().length,
      qrcode: this.#o.qr.waiting ? String(this.#o.qr.seq) : null,
    };
  }

  close(): void {
    const c = this.client;
    c.off('receive_message', this.#onReceived);
    c.off('send_message', this.#onSent);
    c.off('state_change', this.#onState);
    c.off('input_qrcode', this.#onQr);
    for (const e of CONTACT_EVENTS) c.off(e, this.#onContacts);
    this.#out = null;
  }
}

export interface ConsoleOptions {
  /** The feed of the account a request is for (the one account, or the one `client=` names under the Controller). */
  feed: (req: FastifyRequest) => ConsoleFeed;
  /** Every account's feed, by name (the account list of the page). */
  feeds: () => [string, ConsoleFeed][];
  /** Controller: the page lists the accounts and can start and stop them. */
  controller: boolean;
  /** The OneBot endpoints of an account and their state (absent: OneBot is off). */
  onebot?: ((account: string) => OneBotStatus | null) | undefined;
  /** Keep-alive comment interval of the event stream (default 15 s). */
  streamPingMs?: number;
  /** Event streams open at once (every account together); one more is HTTP 503 `OWX_ERR_TOO_MANY_STREAMS` (default 32). */
  maxStreams?: number;
  /**
   * Bytes an event stream may have waiting to be sent (in openwx, beyond what the kernel's socket buffers took) before
   * it is closed as a reader that stopped reading (default 1 MiB). The page reconnects by itself.
   */
  streamMaxBufferedBytes?: number;
}

export const ConsoleAccounts = component(
  'ConsoleAccounts',
  z.strictObject({
    controller: z.boolean().describe('true under the Controller: the page may start and stop accounts'),
    accounts: z.array(z.strictObject({ client: z.string(), state: z.string(), user: z.string().nullable(), qrcode: z.string().nullable() })),
  }),
);

export const ConsoleOneBot = component(
  'ConsoleOneBot',
  z.strictObject({
    enabled: z.boolean().describe('OneBot is configured (docs/onebot.md)'),
    token: z.boolean().describe('the OneBot routes ask for a token'),
    self: z.strictObject({ v12: z.string().optional(), v11: z.number().int().optional() }).describe('the bot: v12 self.user_id, v11 self_id (once logged in)'),
    endpoints: z.array(
      z.strictObject({
        version: z.enum(['12', '11']),
        transport: z.enum(['http', 'ws', 'ws_reverse', 'webhook', 'http_post']),
        url: z.string().describe('a path on this port (served), or the URL openwx reaches (without credentials and query values)'),
        state: z.string().describe('listening; open / connecting / down / waiting for login (reverse WebSocket); active / idle (webhook, http_post)'),
        connections: z.number().int().optional().describe('forward WebSocket connections open now'),
        waiting: z.number().int().optional().describe('events buffered for a reverse WebSocket, or reports waiting in the outbox'),
        dead: z.number().int().optional().describe('webhook / http_post dead letters'),
      }),
    ),
  }),
);

const ONEBOT_OFF: z.output<typeof ConsoleOneBot> = { enabled: false, token: false, self: {}, endpoints: [] };

export async function registerConsole(app: FastifyInstance, o: ConsoleOptions): Promise<void> {
  const pingMs = o.streamPingMs ?? 15_000;
  const maxStreams = o.maxStreams ?? 32;
  const maxBufferedBytes = o.streamMaxBufferedBytes ?? 1024 * 1024;
  /** Open event streams → their keep-alive timer and the account they follow. */
  const streams = new Map<ServerResponse, { ping: NodeJS.Timeout; feed: ConsoleFeed }>();

  const drop = (res: ServerResponse) => {
    const s = streams.get(res);
    if (s === undefined) return;
    clearInterval(s.ping);
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
  const out: Broadcaster = {
    broadcast(feed, event, data) {
      if (streams.size === 0) return; // nobody watching: no JSON per message
      const chunk = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
      // a send that closes a stream deletes it: Map iteration allows that
      for (const [res, s] of streams) if (s.feed === feed) send(res, chunk);
    },
    watching(feed) {
      for (const s of streams.values()) if (s.feed === feed) return true;
      return false;
    },
  };
  app.addHook('preClose', async () => {
    for (const res of [...streams.keys()]) {
      drop(res);
      res.end();
    }
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
  app.get('/console/api/overview', { config: { doc: overviewDoc } }, async (req) => o.feed(req).overview());

  const accountsDoc: RouteDoc = {
    summary: 'The accounts the console can show (one, or every account under the Controller)',
    tag: 'operations',
    responses: { 200: { description: 'accounts', json: ConsoleAccounts } },
  };
  app.get('/console/api/accounts', { config: { doc: accountsDoc } }, async () => ({
    controller: o.controller,
    accounts: o.feeds().map(([name, f]) => {
      const ov = f.overview();
      return { client: name, state: ov.state, user: ov.user?.displayname ?? null, qrcode: ov.qrcode };
    }),
  }));

  const oneBotDoc: RouteDoc = {
    summary: 'The account’s OneBot endpoints: served paths and connections, reverse WebSocket links, webhooks (docs/onebot.md)',
    tag: 'operations',
    responses: { 200: { description: 'OneBot endpoints (enabled false when OneBot is off)', json: ConsoleOneBot } },
  };
  app.get('/console/api/onebot', { config: { doc: oneBotDoc } }, async (req) => o.onebot?.(o.feed(req).client.account) ?? ONEBOT_OFF);

  const recentDoc: RouteDoc = {
    summary: 'The latest messages received and sent (oldest first)',
    tag: 'operations',
    responses: { 200: { description: 'messages', json: ConsoleMessages } },
  };
  app.get('/console/api/recent', { config: { doc: recentDoc } }, async (req) => o.feed(req).recent);

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
    const feed = o.feed(req);
    if (streams.size >= maxStreams) throw owxError('OWX_ERR_TOO_MANY_STREAMS', [streams.size, maxStreams]);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    // A feed's events reach only its streams, so it is attached here (again for each stream: the same broadcaster).
    feed.attach(out);
    streams.set(res, { ping: setInterval(() => send(res, ': ping\n\n'), pingMs), feed });
    res.on('close', () => drop(res));
    if (req.raw.socket.destroyed) return drop(res); // the reader left before we held the stream
    send(res, `event: state\ndata: ${JSON.stringify({ state: feed.client.state })}\n\n`);
  });
}
