/**
 * OneBot for every account of a host (docs/onebot.md): one `Bot` per hosted account, the event fan-out to the
 * connected apps of each version, and the routes under /onebot/v12/ and /onebot/v11/ on the API server. The routes
 * are outside the Openwx token (route config `public`) and behind the OneBot access token instead (src/onebot/auth.ts;
 * without `onebot.access_token` the Openwx token is used, so a token-protected API never serves OneBot openly).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import websocket from '@fastify/websocket';
import type { WebSocket } from 'ws';
import type { Logger } from 'pino';
import type { WxClient } from '../client/interface.ts';
import type { DB } from '../store/db.ts';
import type { MessageHistory } from '../store/history.ts';
import { addApiDocPaths } from '../api/route-table.ts';
import { checkToken } from './auth.ts';
import { ONEBOT_TAGS, oneBotApiPaths } from './openapi.ts';
import { oneBotStatus, type OneBotStatus } from './status.ts';
import { Bot, type BotEvent } from './bot.ts';
import type { OneBotOptions } from './settings.ts';
import { heartbeat, sendJson } from './socket.ts';
import { runV12, type Directory } from './v12/actions.ts';
import { v12Connect, v12Event, v12Heartbeat, v12StatusUpdate } from './v12/events.ts';
import { V11Surface } from './v11/surface.ts';
import { QuickOperations } from './v11/quick.ts';
import { IdWriter } from './ids.ts';
import { ReverseLinks } from './reverse.ts';
import { Webhooks, type DeliveryOptions } from './webhook.ts';

export interface HubOptions {
  onebot: OneBotOptions;
  /** The Openwx API token (the OneBot token when onebot.access_token is not set). */
  apiToken?: string | undefined;
  version: string;
  logger: Logger;
  db: DB | null;
}

export interface HubAccount {
  client: WxClient;
  history: MessageHistory | null;
  mediaDirs: readonly string[];
  /** Days the message history keeps messages: v11 message ids are kept as long (0 = for good). */
  historyRetentionDays?: number | undefined;
  /** The account's post_api delivery settings, which webhooks and http_post use too. */
  delivery: DeliveryOptions;
}

interface Hooks {
  delivery: DeliveryOptions;
  v12: Webhooks | null;
  /** Made at the first event (X-Self-ID needs the logged-in user). */
  v11: Webhooks | null;
  /** Acts on the http_post receivers' answers (v11 quick operations). */
  quick: QuickOperations | null;
}

export class OneBotHub implements Directory {
  readonly version: string;
  readonly options: OneBotOptions;
  readonly token: string | undefined;
  readonly #o: HubOptions;
  readonly #bots = new Map<string, Bot>();
  readonly #offs = new Map<string, () => void>();
  readonly #hooks = new Map<string, Hooks>();
  readonly #v12Sockets = new Set<WebSocket>();
  readonly v11: V11Surface | null;
  readonly reverse: ReverseLinks;
  readonly log: Logger;
  /** Every bot's new v11 id rows, one transaction per turn. */
  readonly #ids: IdWriter | null;

  constructor(o: HubOptions) {
    this.#o = o;
    this.options = o.onebot;
    this.version = o.version;
    this.token = o.onebot.accessToken ?? o.apiToken;
    this.log = o.logger.child({ module: 'onebot' });
    this.#ids = o.db ? new IdWriter(o.db, this.log) : null;
    this.v11 = o.onebot.v11 ? new V11Surface(this, o.onebot.v11) : null;
    this.reverse = new ReverseLinks(this);
  }

  bots(): Bot[] {
    return [...this.#bots.values()];
  }

  bot(name: string): Bot | undefined {
    return this.#bots.get(name);
  }

  addAccount(a: HubAccount): void {
    const days = a.historyRetentionDays ?? 0;
    const bot = new Bot(a.client, { db: this.#o.db, idWriter: this.#ids, history: a.history, mediaDirs: a.mediaDirs, logger: this.log, msgRetentionMs: days * 86_400_000 });
    const v12 = this.options.v12?.webhook.length ? new Webhooks(bot, '12', this.options.v12.webhook, this.#hookOptions(a.delivery)) : null;
    const quick = this.options.v11?.http_post.length ? new QuickOperations(bot, { version: this.version, logger: this.log }) : null;
    this.#hooks.set(bot.name, { delivery: a.delivery, v12, v11: null, quick });
    this.#bots.set(bot.name, bot);
    this.#offs.set(bot.name, bot.subscribe((e) => this.#dispatch(bot, e)));
    this.reverse.add(bot);
  }

  #hookOptions(delivery: DeliveryOptions) {
    return { db: this.#o.db, token: this.token, version: this.version, delivery, logger: this.log };
  }

  /** Stops the account's bot; its webhooks are flushed up to `flushTimeoutMs`. */
  async removeAccount(name: string, flushTimeoutMs = 2_000): Promise<void> {
    const bot = this.#bots.get(name);
    if (!bot) return;
    const hooks = this.#hooks.get(name);
    this.#hooks.delete(name);
    hooks?.quick?.stop();
    this.reverse.remove(bot);
    this.v11?.dropBot(bot);
    this.#offs.get(name)?.();
    this.#offs.delete(name);
    bot.close();
    this.#bots.delete(name);
    await Promise.all([hooks?.v12?.close(flushTimeoutMs), hooks?.v11?.close(flushTimeoutMs)]);
  }

  #dispatch(bot: Bot, e: BotEvent): void {
    if (this.options.v12 && e.kind === 'online') {
      // meta.status_update: a bot went on or off line (the status lists every bot).
      const st = v12StatusUpdate(this.bots());
      for (const ws of this.#v12Sockets) sendJson(ws, st);
      this.reverse.v12Event(bot, st);
    }
    if (this.options.v12) {
      const ev = v12Event(bot, e);
      if (ev) {
        for (const ws of this.#v12Sockets) sendJson(ws, ev);
        this.reverse.v12Event(bot, ev);
        this.#hooks.get(bot.name)?.v12?.send(ev);
      }
    }
    const ev11 = this.v11?.dispatch(bot, e);
    if (ev11) {
      this.reverse.v11Event(bot, ev11);
      const urls = this.options.v11!.http_post;
      const hooks = this.#hooks.get(bot.name);
      if (hooks && urls.length) {
        const quick = hooks.quick;
        hooks.v11 ??= new Webhooks(bot, '11', urls, {
          ...this.#hookOptions(hooks.delivery),
          secret: this.options.v11!.secret,
          onAnswer: quick ? (report, res, sink) => quick.onAnswer(report, res, sink) : undefined,
        });
        hooks.v11.send(ev11);
      }
    }
  }

  /** The account's OneBot endpoints and their state (the console's OneBot panel); null for an account not hosted. */
  status(name: string): OneBotStatus | null {
    const bot = this.#bots.get(name);
    if (!bot) return null;
    const hooks = this.#hooks.get(name);
    return oneBotStatus({
      options: this.options,
      token: this.token !== undefined,
      self: { ...(this.options.v12 ? { v12: bot.selfId() } : {}), ...(this.options.v11 && bot.client.user() ? { v11: bot.selfNum() } : {}) },
      v12Sockets: this.#v12Sockets.size,
      v11Sockets: this.v11?.connections(bot) ?? 0,
      v12Links: this.reverse.v12Links(),
      v11Links: this.reverse.v11Links(bot),
      v12Hooks: hooks?.v12 ?? null,
      v11Hooks: hooks?.v11 ?? null,
    });
  }

  /** Registers the routes of the configured versions on the API server, and documents them in its OpenAPI document. */
  async register(app: FastifyInstance): Promise<void> {
    if (app.apiDocExtras) addApiDocPaths(app, oneBotApiPaths(this.options), ONEBOT_TAGS);
    await app.register(async (scope) => {
      await scope.register(websocket, { options: { maxPayload: 16 * 1024 * 1024 } });
      scope.setErrorHandler((err, req, reply) => this.#error(err, req, reply));
      if (this.options.v12) this.#registerV12(scope);
      if (this.v11) this.v11.register(scope);
    });
  }

  #error(err: unknown, req: FastifyRequest, reply: FastifyReply): void {
    const message = (err as Error)?.message ?? String(err);
    if (req.url.startsWith('/onebot/v11')) {
      void reply.code(400).send({ status: 'failed', retcode: 1400, data: null, message, wording: message });
      return;
    }
    void reply.code(200).send({ status: 'failed', retcode: 10001, data: null, message });
  }

  #registerV12(app: FastifyInstance): void {
    const v = this.options.v12!;
    const auth = async (req: FastifyRequest, reply: FastifyReply) => {
      if (checkToken(this.token, req) !== 'ok') {
        return reply.code(401).header('www-authenticate', 'Bearer').header('connection', 'close').send({ status: 'failed', retcode: 10001, data: null, message: 'access token missing or wrong' });
      }
    };
    const config = { public: true };
    if (v.http) {
      for (const url of ['/onebot/v12', '/onebot/v12/']) {
        app.post(url, { config, onRequest: auth }, async (req, reply) => {
          if (!/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) {
            return reply.code(415).send({ status: 'failed', retcode: 10001, data: null, message: 'expected Content-Type: application/json' });
          }
          const r = await runV12(this, req.body, (err) => this.log.error({ err }, 'onebot v12 action failed'));
          return reply.code(200).send(r);
        });
      }
    }
    if (v.ws) {
      app.get('/onebot/v12/ws', { config, onRequest: auth, websocket: true }, (ws) => this.acceptV12(ws));
    }
  }

  /** A v12 WebSocket (forward or reverse): connect event, heartbeats, events, actions. */
  acceptV12(ws: WebSocket, reverse = false): void {
    const v = this.options.v12!;
    if (!reverse) this.#v12Sockets.add(ws);
    ws.on('close', () => this.#v12Sockets.delete(ws));
    sendJson(ws, v12Connect(this.version));
    heartbeat(ws, v.heartbeat_ms, () => v12Heartbeat(v.heartbeat_ms));
    ws.on('message', (raw) => {
      let req: unknown;
      try {
        req = JSON.parse(raw.toString());
      } catch {
        sendJson(ws, { status: 'failed', retcode: 10001, data: null, message: 'not JSON' });
        return;
      }
      void runV12(this, req, (err) => this.log.error({ err }, 'onebot v12 action failed')).then((r) => sendJson(ws, r));
    });
  }

  async close(flushTimeoutMs = 2_000): Promise<void> {
    this.reverse.close();
    for (const ws of this.#v12Sockets) ws.close(1001, 'openwx stopping');
    this.v11?.close();
    await Promise.all([...this.#bots.keys()].map((name) => this.removeAccount(name, flushTimeoutMs)));
    this.#ids?.flush();
  }
}
