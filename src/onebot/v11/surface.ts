/**
 * OneBot 11 transports of the hub: HTTP actions at /onebot/v11/<action> (GET with a query, POST with JSON or a
 * form), forward WebSocket at /onebot/v11/ws (events and actions), /onebot/v11/api (actions) and /onebot/v11/event
 * (events), and the accepting side of reverse connections. One account per connection: the account is named by the
 * `X-Self-ID` header or a `self_id` query parameter (its v11 self_id), or `client=` (its name); with one account
 * hosted it may be left out. Token: missing → HTTP 401, wrong → 403 (the spec's rule).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { checkToken } from '../auth.ts';
import type { Bot, BotEvent } from '../bot.ts';
import type { OneBotHub } from '../hub.ts';
import type { OneBotV11Options } from '../settings.ts';
import { heartbeat, sendJson } from '../socket.ts';
import { hasV11Action, runV11 } from './actions.ts';
import { v11Event, v11Heartbeat, v11Lifecycle, type V11Event } from './events.ts';

type Role = 'universal' | 'api' | 'event';

export class V11Surface {
  readonly #hub: OneBotHub;
  readonly #o: OneBotV11Options;
  /** Event-receiving sockets per bot name. */
  readonly #sockets = new Map<string, Set<WebSocket>>();

  constructor(hub: OneBotHub, o: OneBotV11Options) {
    this.#hub = hub;
    this.#o = o;
  }

  /** The v11 event of `e`, sent to the account's forward sockets (the hub sends it on to the other transports). */
  dispatch(bot: Bot, e: BotEvent): V11Event | null {
    const ev = v11Event(bot, e, { format: this.#o.message_format, reportSelf: this.#o.report_self_message === true });
    if (!ev) return null;
    for (const ws of this.#sockets.get(bot.name) ?? []) sendJson(ws, ev);
    return ev;
  }

  /** The forward WebSockets that receive a bot's events (ws and event roles). */
  connections(bot: Bot): number {
    return this.#sockets.get(bot.name)?.size ?? 0;
  }

  dropBot(bot: Bot): void {
    for (const ws of this.#sockets.get(bot.name) ?? []) ws.close(1001, 'account stopped');
    this.#sockets.delete(bot.name);
  }

  /** The account a request is for; null with an answer sent. */
  #which(req: FastifyRequest): Bot | string {
    const bots = this.#hub.bots();
    const h = req.headers['x-self-id'];
    const q = req.query as Record<string, string | undefined>;
    const selfId = (Array.isArray(h) ? h[0] : h) ?? q['self_id'];
    if (selfId !== undefined) return bots.find((b) => String(b.selfNum()) === selfId) ?? `no account with self_id ${selfId}`;
    if (q['client'] !== undefined) return this.#hub.bot(q['client']) ?? `no account ${q['client']}`;
    if (bots.length === 1) return bots[0]!;
    return bots.length === 0 ? 'no account is hosted' : 'several accounts are hosted: give X-Self-ID, self_id= or client=';
  }

  register(app: FastifyInstance): void {
    const auth = async (req: FastifyRequest, reply: FastifyReply) => {
      const r = checkToken(this.#hub.token, req);
      if (r === 'missing') return reply.code(401).header('connection', 'close').send({ status: 'failed', retcode: 1401, data: null, message: 'access token missing' });
      if (r === 'wrong') return reply.code(403).header('connection', 'close').send({ status: 'failed', retcode: 1403, data: null, message: 'access token wrong' });
    };
    const config = { public: true };
    if (this.#o.ws) {
      for (const role of ['universal', 'api', 'event'] as const) {
        const path = role === 'universal' ? '/onebot/v11/ws' : `/onebot/v11/${role}`;
        app.get(path, {
          config,
          onRequest: async (req, reply) => {
            const denied = await auth(req, reply);
            if (denied) return denied;
            const bot = this.#which(req);
            if (typeof bot === 'string') return reply.code(400).send({ status: 'failed', retcode: 1400, data: null, message: bot });
          },
          websocket: true,
        }, (ws, req) => {
          const bot = this.#which(req);
          if (typeof bot === 'string') return ws.close(1008, bot);
          this.accept(ws, bot, role, false);
        });
      }
    }
    if (this.#o.http) {
      const handler = async (req: FastifyRequest, reply: FastifyReply) => {
        const action = (req.params as { action: string }).action;
        const bot = this.#which(req);
        if (!hasV11Action(action)) return reply.code(404).send({ status: 'failed', retcode: 1404, data: null, message: `action ${action} is not supported` });
        if (typeof bot === 'string') return reply.code(400).send({ status: 'failed', retcode: 1400, data: null, message: bot });
        const body = req.body;
        const params: Record<string, unknown> = { ...(req.query as Record<string, unknown>) };
        if (body && typeof body === 'object' && !Array.isArray(body)) Object.assign(params, body);
        delete params['access_token'];
        return reply.send(await this.#run(bot, action, params, undefined));
      };
      app.get('/onebot/v11/:action', { config, onRequest: auth }, handler);
      app.post('/onebot/v11/:action', { config, onRequest: auth }, handler);
    }
  }

  async #run(bot: Bot, action: string, params: Record<string, unknown>, echo: unknown) {
    const log = (err: unknown) => this.#hub.log.error({ err }, 'onebot v11 action failed');
    if (action.endsWith('_async')) {
      void runV11(bot, action.slice(0, -6), params, undefined, this.#hub.version, log);
      return { status: 'async', retcode: 1, data: null, ...(echo === undefined ? {} : { echo }) };
    }
    return runV11(bot, action, params, echo, this.#hub.version, log);
  }

  /** A v11 WebSocket of one account (forward or reverse). */
  accept(ws: WebSocket, bot: Bot, role: Role, reverse: boolean): void {
    if (role !== 'api') {
      if (!reverse) {
        const set = this.#sockets.get(bot.name) ?? new Set<WebSocket>();
        set.add(ws);
        this.#sockets.set(bot.name, set);
        ws.on('close', () => set.delete(ws));
      }
      sendJson(ws, v11Lifecycle(bot));
      heartbeat(ws, this.#o.heartbeat_ms, () => v11Heartbeat(bot, this.#o.heartbeat_ms));
    }
    if (role === 'event') return;
    ws.on('message', (raw) => {
      let req: { action?: unknown; params?: unknown; echo?: unknown };
      try {
        req = JSON.parse(raw.toString()) as typeof req;
      } catch {
        sendJson(ws, { status: 'failed', retcode: 1400, data: null, message: 'not JSON' });
        return;
      }
      if (!req || typeof req !== 'object' || typeof req.action !== 'string') {
        sendJson(ws, { status: 'failed', retcode: 1400, data: null, message: 'expected {action, params, echo}', ...(req?.echo === undefined ? {} : { echo: req.echo }) });
        return;
      }
      const params = req.params && typeof req.params === 'object' ? (req.params as Record<string, unknown>) : {};
      void this.#run(bot, req.action, params, req.echo).then((r) => sendJson(ws, r));
    });
  }

  close(): void {
    for (const set of this.#sockets.values()) for (const ws of set) ws.close(1001, 'openwx stopping');
    this.#sockets.clear();
  }
}
