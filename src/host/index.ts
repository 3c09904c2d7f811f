/**
 * Hosting entry points. `startOpenwx(client, options)`: the Openwx API for one client (the `openwx` command,
 * `load('Openwx')`, tests): a single-account Host. `startController(options)`: the Controller (many accounts).
 * Both bind before login (as Mojo does), so get_client_info and check_event work while the QR waits.
 */
import type { FastifyInstance } from 'fastify';
import type { WxClient } from '../client/interface.ts';
import type { Delivery } from '../delivery/sink.ts';
import type { EventQueue } from '../api/check-event.ts';
import type { DurableStore } from '../api/durable.ts';
import type { OpenwxOptions } from '../api/options.ts';
import type { MessageToJson, PostJson, Reporter } from '../api/reporter.ts';
import type { Metrics } from '../ops/metrics.ts';
import { Host, type HostOptions } from './host.ts';
import type { OneBotOptions } from '../onebot/settings.ts';

export { Host, checkAuthSetting, type HostOptions, type AccountFactory } from './host.ts';
export type { OpenwxOptions } from '../api/options.ts';

export interface StartOpenwxOptions extends OpenwxOptions {
  /** The post-JSON builder for messages; default: the model's `messagePostJson` over this client's contacts. */
  toJson?: MessageToJson;
  /** Extra fastify plugins served next to the API, inside the same guards. */
  plugins?: ((app: FastifyInstance) => Promise<void> | void)[];
  /** Share a metrics registry between several APIs; default one of this API, closed with it. */
  metrics?: Metrics;
  /** `/readyz`: a successful sync must be at most this old. Default 60 s. */
  readySyncMaxAgeMs?: number;
  /** OneBot v11/v12 beside the API (docs/onebot.md); absent: off. */
  onebot?: OneBotOptions | undefined;
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
  host: Host;
  /** Stops the API server, the reporter (flushing up to `flushTimeoutMs`) and the delivery sink. */
  close(flushTimeoutMs?: number): Promise<void>;
}

export async function startOpenwx(client: WxClient, o: StartOpenwxOptions): Promise<OpenwxHandle> {
  const { toJson, plugins, delivery, onStopClientRequest, onStopClient, ...rest } = o;
  const host = await Host.start({
    ...rest,
    mode: 'single',
    serverPlugins: plugins,
    account: { client, options: rest, toJson, delivery, onStopClientRequest, onStopClient },
  });
  const a = host.accounts()[0]!;
  return {
    app: host.app,
    urls: host.urls,
    reporter: a.reporter,
    events: a.events,
    delivery: a.delivery,
    store: a.store,
    host,
    close: (flushTimeoutMs = 2_000) => host.close(flushTimeoutMs),
  };
}

/** The Controller: many accounts in this process (src/host/host.ts); `accounts` makes them. */
export async function startController(o: Omit<HostOptions, 'mode' | 'account'>): Promise<Host> {
  return Host.start({ ...o, mode: 'controller' });
}
