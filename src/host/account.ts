/**
 * One account as the host serves it: the client (its sends counted by the host's metrics), that account's resolved
 * settings, its check_event queue, its post_api sink and history in the host's shared database, its reporter, its
 * login QR and sync watch, and the `ApiContext` every route gets for a request resolved to it. Nothing here is shared
 * with another account except the database handle and the metrics registry, so one account's trouble (a throwing
 * handler, a stuck post_api receiver, a relogin loop) stays in it.
 */
import type { Logger } from 'pino';
import type { WxClient } from '../client/interface.ts';
import type { DB } from '../store/db.ts';
import type { Storage } from '../store/storage.ts';
import { messagePostJson } from '../model/post-json.ts';
import type { Message } from '../model/types.ts';
import type { Delivery } from '../delivery/sink.ts';
import { EventQueue } from '../api/check-event.ts';
import type { ApiContext } from '../api/context.ts';
import { openDurableStore, type DurableStore } from '../api/durable.ts';
import { resolveOptions, type OpenwxOptions, type ResolvedOptions } from '../api/options.ts';
import { QrWatch } from '../api/qr-watch.ts';
import { Reporter, type MessageToJson, type PostJson } from '../api/reporter.ts';
import { ConsoleFeed } from '../console/plugin.ts';
import type { Metrics } from '../ops/metrics.ts';
import type { DeliverySource } from '../ops/metrics.ts';
import { SyncWatch } from '../ops/sync-watch.ts';
import type { WireRequestRouter } from '../diagnostics.ts';

export interface AccountSetup {
  /** The account's client (its `account` is the account's name). */
  client: WxClient;
  /** The account layer of the settings (post_api…, media folders, broadcast_max, check_event size, …). */
  options: OpenwxOptions;
  /** The post-JSON builder for messages; default: the model's `messagePostJson` over this client's contacts. */
  toJson?: MessageToJson | undefined;
  /** Swaps the post_api sink (tests, library hosts). */
  delivery?: Delivery | undefined;
  /** Called when stop_client's delay is over, just before the client stops (single-account command). */
  onStopClientRequest?: (() => void) | undefined;
  /** Called after stop_client stopped the client (the single-account command exits there). */
  onStopClient?: (() => void | Promise<void>) | undefined;
}

export interface AccountShared {
  /** The host's database (null: none; undefined: the account opens its own from its dataDir). */
  db: DB | null | undefined;
  /** The host's storage over `db` (every account's writes of one event-loop turn in one transaction). */
  storage?: Storage | null | undefined;
  metrics: Metrics;
  /** The host's one subscription to the transport's wire events, routed by account (readiness). */
  wire?: WireRequestRouter | undefined;
  logger: Logger;
  version: string;
}

export class HostedAccount {
  readonly name: string;
  /** The client as given (the API uses `ctx.client`, the same object with its sends counted). */
  readonly client: WxClient;
  readonly options: ResolvedOptions;
  readonly events: EventQueue<PostJson>;
  readonly store: DurableStore;
  readonly reporter: Reporter;
  readonly qr: QrWatch;
  readonly sync: SyncWatch;
  readonly toJson: MessageToJson;
  /** What the web console shows of this account (recent messages, live events). */
  readonly feed: ConsoleFeed;
  readonly ctx: ApiContext;
  readonly #unwatch: (() => void)[] = [];
  #stopTimer: NodeJS.Timeout | null = null;
  #stopping: Promise<void> | null = null;
  #closing: Promise<void> | null = null;

  constructor(setup: AccountSetup, shared: AccountShared) {
    const { client } = setup;
    this.name = client.account;
    this.client = client;
    const options = resolveOptions({ ...setup.options, version: shared.version });
    this.options = options;
    const logger = shared.logger.child({ account: client.account });
    this.events = new EventQueue<PostJson>(options.checkEventMax, options.checkEventTimeoutMs);
    // post_api outbox (durable with a database, else in memory) and message history: src/api/durable.ts.
    this.store = openDurableStore({ account: client.account, options, logger, delivery: setup.delivery, db: shared.db, storage: shared.storage });
    // Built once per message, when it arrives: the reporter and the console read the same JSON (both call this in
    // the client's emit, while the contact book is as the message found it).
    // With its post_type (the event it came with): the reporter then reports this object as it is, no copy.
    const build: MessageToJson = setup.toJson ?? ((m, postType) => messagePostJson(m, client, postType));
    const built = new WeakMap<Message, PostJson>();
    this.toJson = (m, postType) => {
      let j = built.get(m);
      if (!j) built.set(m, (j = build(m, postType)));
      return j;
    };
    this.qr = new QrWatch(client);
    this.sync = new SyncWatch(client, shared.wire);
    const { metrics } = shared;
    this.#unwatch.push(metrics.watchClient(client, this.sync));
    if (this.store.delivery) this.#unwatch.push(metrics.watchDelivery(client.account, this.store.delivery as unknown as DeliverySource));
    // The API and the reporter use the client with its sends counted (openwx_sends_total).
    const counted = metrics.instrument(client);
    this.reporter = new Reporter(counted, {
      options,
      events: this.events,
      delivery: this.store.delivery,
      toJson: this.toJson,
      logger,
      // The host's storage: history records and outbox rows committed together (src/store/storage.ts).
      storage: this.store.storage,
      history: this.store.keepsHistory,
    });
    this.reporter.start();
    this.feed = new ConsoleFeed({ client, qr: this.qr, toJson: this.toJson, outboxDepth: () => this.store.delivery?.depth ?? null });
    const stopClient = () =>
      (this.#stopping ??= (async () => {
        setup.onStopClientRequest?.();
        await client.stop('stop_client');
        await this.reporter.flush(5_000);
        await setup.onStopClient?.();
      })());
    this.ctx = {
      client: counted,
      options,
      events: this.events,
      logger,
      store: this.store,
      stopClient,
      scheduleStop: () => {
        if (this.#closing) return;
        this.#stopTimer ??= setTimeout(() => {
          stopClient().catch((err: unknown) => logger.error({ err }, 'stop_client failed'));
        }, options.stopDelayMs);
      },
      qrcode: () => this.qr.image(),
    };
  }

  get delivery(): Delivery | null {
    return this.store.delivery;
  }

  /** Stops reporting (flushing up to `flushTimeoutMs`), closes the sink and the watches. The client is not stopped. */
  close(flushTimeoutMs = 2_000): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#stopTimer) clearTimeout(this.#stopTimer);
      this.reporter.stop();
      this.events.close();
      await this.reporter.flush(flushTimeoutMs);
      await this.store.close();
      for (const u of this.#unwatch) u();
      this.sync.close();
      this.feed.close();
      this.qr.close();
    })();
    return this.#closing;
  }
}
