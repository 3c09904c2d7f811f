/**
 * The Openwx plugin: `startOpenwx(client, options)` serves the API for one client, reports to post_api and feeds
 * check_event. It binds before login (as Mojo does), so get_client_info and check_event work while the QR waits.
 * `Weixin#load("Openwx", {listen, post_api, …})` calls this.
 */
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import type { WxClient } from '../client/interface.ts';
import { owxError } from '../errors.ts';
import { messagePostJson } from '../model/post-json.ts';
import type { Message } from '../model/types.ts';
import { EventQueue } from './check-event.ts';
import type { ApiContext } from './context.ts';
import type { Delivery } from '../delivery/sink.ts';
import { openDurableStore, type DurableStore } from './durable.ts';
import { isLoopback, listenAddresses, resolveOptions, type OpenwxOptions } from './options.ts';
import { Reporter, type MessageToJson, type PostJson } from './reporter.ts';
import { buildApiServer } from './server.ts';
import { QrWatch } from './qr-watch.ts';
import { startOps } from '../ops/plugin.ts';
import { LOG_REDACT_PATHS, REDACT_CENSOR } from '../security/redact.ts';

export type { OpenwxOptions } from './options.ts';

export interface StartOpenwxOptions extends OpenwxOptions {
  /** The post-JSON builder for messages; default: the model's `messagePostJson` over this client's contacts. */
  toJson?: MessageToJson;
  /** Extra fastify plugins served next to the API (operator console, metrics), inside the same auth. */
  plugins?: ((app: FastifyInstance) => Promise<void> | void)[];
}

export interface OpenwxHandle {
  app: FastifyInstance;
  /** `http://host:port` of every listen address. */
  urls: string[];
  reporter: Reporter;
  events: EventQueue<PostJson>;
  delivery: Delivery | null;
  /** The database-backed parts (outbox, history) when there is a data folder. */
  store: DurableStore;
  /** Stops the API server, the reporter (flushing up to `flushTimeoutMs`) and the delivery sink. */
  close(flushTimeoutMs?: number): Promise<void>;
}

/** Refuses a listen address beyond loopback without a token, unless explicitly allowed. */
export function checkAuthSetting(o: OpenwxOptions): void {
  const open = listenAddresses(o).filter((a) => !isLoopback(a.host));
  if (open.length && !o.token && !o.insecureNoAuth) {
    throw owxError('OWX_ERR_CONFIG', [
      `host ${open[0]!.host} is reachable from other machines: set a token (--token) or --insecure-no-auth`,
    ]);
  }
}

export async function startOpenwx(client: WxClient, o: StartOpenwxOptions): Promise<OpenwxHandle> {
  checkAuthSetting(o);
  const options = resolveOptions(o);
  // The API's logs are redacted whatever logger the host gave (token, post_api secret, cookies, session keys).
  const logger: Logger = (o.logger ?? pino({ level: 'silent' })).child({}, { redact: { paths: LOG_REDACT_PATHS, censor: REDACT_CENSOR } });
  const events = new EventQueue<PostJson>(options.checkEventMax, options.checkEventTimeoutMs);
  // post_api outbox (durable with a data folder, else in memory) and message history: src/api/durable.ts.
  const store = openDurableStore({ account: client.account, options, logger, delivery: o.delivery });
  const delivery = store.delivery;
  const toJson = o.toJson ?? ((m: Message) => messagePostJson(m, client));
  // Console, health, metrics, OpenAPI (src/ops/plugin.ts); the API uses the client with its sends counted.
  const qr = new QrWatch(client);
  const ops = startOps(client, { ...o, toJson, delivery, qr, version: options.version });
  const reporter = new Reporter(ops.client, {
    options,
    events,
    delivery,
    toJson,
    logger,
    history: store.history,
    // Only a real database transaction rolls back, which the reporter's batched commit relies on.
    transaction: store.db ? store.transaction : undefined,
  });
  reporter.start();

  let stopping: Promise<void> | null = null;
  let stopTimer: NodeJS.Timeout | null = null;
  const ctx: ApiContext = {
    client: ops.client,
    options,
    events,
    logger,
    store,
    stopClient: () =>
      (stopping ??= (async () => {
        o.onStopClientRequest?.();
        await client.stop('stop_client');
        await reporter.flush(5_000);
        await o.onStopClient?.();
      })()),
    scheduleStop: () => {
      stopTimer ??= setTimeout(() => {
        ctx.stopClient().catch((err: unknown) => logger.error({ err }, 'stop_client failed'));
      }, options.stopDelayMs);
    },
    qrcode: () => qr.image(),
  };
  let app: FastifyInstance | null = null;
  const urls: string[] = [];
  try {
    app = await buildApiServer(options, logger, { token: o.token, resolve: () => ctx });
    await app.register(async (scope) => ops.register(scope));
    for (const p of o.plugins ?? []) await app.register(async (scope) => p(scope));
    for (const a of listenAddresses(o)) {
      // fastify listens on one address per instance; extra addresses share the same handler.
      if (urls.length === 0) {
        await app.listen({ host: a.host, port: a.port });
        const addr = app.server.address();
        const port = typeof addr === 'object' && addr ? addr.port : a.port;
        urls.push(`http://${a.host.includes(':') ? `[${a.host}]` : a.host}:${port}`);
      } else {
        throw owxError('OWX_ERR_CONFIG', ['listen: only one address is supported']);
      }
    }
  } catch (e) {
    reporter.stop();
    events.close();
    ops.close();
    qr.close();
    await app?.close().catch(() => undefined);
    await store.close();
    throw e;
  }
  const server = app;

  let closing: Promise<void> | null = null;
  return {
    app: server,
    urls,
    reporter,
    events,
    delivery,
    store,
    close(flushTimeoutMs = 2_000) {
      closing ??= (async () => {
        reporter.stop();
        events.close();
        if (stopTimer) clearTimeout(stopTimer);
        await server.close();
        await reporter.flush(flushTimeoutMs);
        await store.close();
        ops.close();
        qr.close();
      })();
      return closing;
    },
  };
}
