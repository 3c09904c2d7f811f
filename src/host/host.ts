/**
 * The process: one fastify server, one shared SQLite database (`<data_dir>/openwx.db`, rows keyed by account), one
 * metrics registry and N accounts. The API server asks the host, per request, which account it is for:
 *
 * - **single** (the `openwx` command, `load('Openwx')`, startOpenwx): one account; every request is for it (a
 *   `client=` parameter is ignored, as Mojo's single client ignores it). Serves the console too.
 * - **controller** (`openwx controller`): the account `client=` names (Mojo's Controller-API); the Controller's own
 *   routes (start_client, stop_client, check_client: src/host/controller-routes.ts) start, stop and list accounts
 *   made by the `AccountFactory` the command gives; the list is kept in the database, so a restarted controller
 *   starts them again (each resumes its saved session).
 *
 * Account names are unique in a host and, under the Controller, safe for files and URLs (src/host/names.ts).
 */
import { join } from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { pino, type Logger } from 'pino';
import type { WxClient } from '../client/interface.ts';
import { isOpenwxError, owxError } from '../errors.ts';
import { openDatabase, type DB } from '../store/db.ts';
import { SqliteStorage } from '../store/sqlite-storage.ts';
import type { Storage } from '../store/storage.ts';
import { DATABASE_FILE } from '../api/durable.ts';
import { isLoopback, listenAddresses, resolveOptions, type OpenwxOptions, type ResolvedOptions } from '../api/options.ts';
import { accountRoutesOf, buildApiServer } from '../api/server.ts';
import { registerConsole } from '../console/plugin.ts';
import { Metrics } from '../ops/metrics.ts';
import { WireRequestRouter } from '../diagnostics.ts';
import { registerOps } from '../ops/plugin.ts';
import { LOG_REDACT_PATHS, REDACT_CENSOR } from '../security/redact.ts';
import { HostedAccount, type AccountSetup } from './account.ts';
import { AccountList } from './account-list.ts';
import { registerControllerRoutes } from './controller-routes.ts';
import { checkClientName } from './names.ts';
import { OneBotHub } from '../onebot/hub.ts';
import type { OneBotOptions } from '../onebot/settings.ts';
import { CONTROLLER_DEFAULTS } from '../settings/defaults.ts';

export const DEFAULT_MAX_CLIENTS = CONTROLLER_DEFAULTS.max_clients;

/** Controller: how an account is made from its name and its per-account settings. */
export interface AccountFactory {
  /**
   * Checks the per-account settings of start_client (request parameters) or of the persisted list, as strings.
   * Throws an Error whose message is the one-line settings error.
   */
  check(raw: Record<string, string>): void;
  /** The client and its account settings; the client's files go under `<data_dir>/accounts/NAME/`. */
  create(name: string, raw: Record<string, string>): AccountSetup;
}

/**
 * A cluster of controllers sharing one PostgreSQL that this host belongs to (src/cluster/node.ts; docs/cluster.md):
 * it answers the Controller routes for the whole cluster, forwards account routes to their owners and holds the
 * accounts this host runs (their sessions, may-act check and report log).
 */
export interface HostCluster {
  /** Called once the API server is built (before it listens): adds the cluster's request hook. */
  register(app: FastifyInstance, host: Host): void | Promise<void>;
  /** A new account's setup, before the host adds it: the cluster sets its ownership and report tap. */
  adopt(name: string, setup: AccountSetup): void;
  /** The host closes (its accounts are stopped): leave the cluster. */
  close(): Promise<void>;
  /** The cluster's storage of the hot path (PostgreSQL), used instead of SQLite's (`hostStorage`). */
  readonly storage?: Storage | undefined;
}

export interface HostOptions extends OpenwxOptions {
  mode: 'single' | 'controller';
  logger?: Logger | undefined;
  /** Share a metrics registry; default one of this host, closed with it. */
  metrics?: Metrics | undefined;
  /** Extra fastify plugins served next to the API, inside the same guards (tests, library hosts). */
  serverPlugins?: ((app: FastifyInstance) => Promise<void> | void)[] | undefined;
  /** `/readyz`: a successful sync must be at most this old. Default 60 s. */
  readySyncMaxAgeMs?: number | undefined;
  /** Single: the one account (required). */
  account?: AccountSetup | undefined;
  /** Controller: most accounts at once (start_client beyond → code 5). Default 100. */
  maxClients?: number | undefined;
  /** Controller: makes accounts (required). */
  accounts?: AccountFactory | undefined;
  /** Controller: the accounts to start at launch besides the persisted ones (settings file `clients:`). */
  initialClients?: { client: string; settings: Record<string, string> }[] | undefined;
  /** OneBot v11/v12 for every account, under /onebot/ on the API port (docs/onebot.md); absent: off. */
  onebot?: OneBotOptions | undefined;
  /** Controller: a member of a cluster (docs/cluster.md); its account list then lives in PostgreSQL, not SQLite. */
  cluster?: HostCluster | undefined;
}

/**
 * The storage of the host's hot path (src/store/storage.ts): a cluster member's PostgreSQL one (`--database`,
 * docs/cluster.md "Data"), else SQLite over the data folder's database, else none.
 */
function hostStorage(o: HostOptions, db: DB | null): Storage | null {
  return o.cluster?.storage ?? (db ? new SqliteStorage(db) : null);
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

/** `url` with `client=NAME` merged into its query (replacing a client= it had). */
export function withClientParam(url: string, name: string): string {
  const u = new URL(url);
  u.searchParams.set('client', name);
  return u.toString();
}

export class Host {
  readonly mode: 'single' | 'controller';
  readonly metrics: Metrics;
  /** Wire events of the transports, routed to their account's sync watch (one channel subscription). */
  readonly #wire = new WireRequestRouter();
  readonly db: DB | null;
  /** The one storage of the host: every account's history and outbox writes of a turn in one transaction (`hostStorage`). */
  readonly storage: Storage | null;
  readonly logger: Logger;
  readonly maxClients: number;
  readonly version: string;
  app!: FastifyInstance;
  readonly urls: string[] = [];
  readonly #o: HostOptions;
  readonly #resolved: ResolvedOptions;
  readonly #ownMetrics: boolean;
  readonly #accounts = new Map<string, HostedAccount>();
  /** Accounts being started or stopped: a second start/stop of one name waits for the first. */
  readonly #busy = new Map<string, Promise<unknown>>();
  readonly #list: AccountList | null;
  readonly #onebot: OneBotHub | null;

  /** A member of a cluster (docs/cluster.md): start_client's `worker=` means something only then. */
  get clustered(): boolean {
    return this.#o.cluster !== undefined;
  }
  #closing: Promise<void> | null = null;

  private constructor(o: HostOptions) {
    this.#o = o;
    this.mode = o.mode;
    this.maxClients = o.maxClients ?? DEFAULT_MAX_CLIENTS;
    // The API's logs are redacted whatever logger the host was given (token, post_api secret, cookies, session keys).
    this.logger = (o.logger ?? pino({ level: 'silent' })).child({}, { redact: { paths: LOG_REDACT_PATHS, censor: REDACT_CENSOR } });
    this.#ownMetrics = !o.metrics;
    this.#resolved = resolveOptions(o);
    this.version = this.#resolved.version;
    this.metrics = o.metrics ?? new Metrics({ version: this.version });
    this.db = o.dataDir ? openDatabase(join(o.dataDir, DATABASE_FILE)) : null;
    this.storage = hostStorage(o, this.db);
    this.#list = o.mode === 'controller' && this.db && !o.cluster ? new AccountList(this.db) : null;
    this.#onebot = o.onebot ? new OneBotHub({ onebot: o.onebot, apiToken: o.token, version: this.version, logger: this.logger, db: this.db }) : null;
  }

  /** Builds the server, adds the single account (or restores the Controller's), then listens. */
  static async start(o: HostOptions): Promise<Host> {
    checkAuthSetting(o);
    if (o.mode === 'single' && !o.account) throw new TypeError('Host: single mode needs its account');
    if (o.mode === 'controller' && !o.accounts) throw new TypeError('Host: controller mode needs an account factory');
    const host = new Host(o);
    try {
      await host.#serve();
      if (o.mode === 'controller') await host.#restore();
    } catch (e) {
      await host.close(0).catch(() => undefined);
      throw e;
    }
    return host;
  }

  async #serve(): Promise<void> {
    const o = this.#o;
    let single: HostedAccount | null = null;
    if (o.mode === 'single') single = this.#add(o.account!);
    const accountOf = single ? () => single : (req: FastifyRequest) => this.#resolve(req);
    const app = await buildApiServer(this.#resolved, this.logger, {
      token: o.token,
      resolve: (req) => accountOf(req).ctx,
      // Under the Controller only the routes declared per account; /openwx/stop_client is its own (as in Mojo).
      accountRoutes: accountRoutesOf(o.mode),
    });
    this.app = app;
    await o.cluster?.register(app, this);
    await this.#onebot?.register(app);
    await app.register(async (scope) => {
      // The console shows the request's account (client= under the Controller, which also lists them all).
      await registerConsole(scope, {
        feed: (req) => accountOf(req).feed,
        feeds: () => [...this.#accounts].map(([n, a]): [string, typeof a.feed] => [n, a.feed]),
        controller: !single,
        onebot: this.#onebot ? (name) => this.#onebot!.status(name) : undefined,
      });
      if (!single) registerControllerRoutes(scope, this);
      registerOps(scope, {
        metrics: this.metrics,
        version: this.version,
        metricsPublic: o.metricsPublic,
        readySyncMaxAgeMs: o.readySyncMaxAgeMs,
        ...(single ? { sync: single.sync } : { accounts: () => [...this.#accounts].map(([n, a]): [string, typeof a.sync] => [n, a.sync]) }),
      });
    });
    for (const p of o.serverPlugins ?? []) await app.register(async (scope) => p(scope));
    for (const a of listenAddresses(o)) {
      // fastify listens on one address per instance.
      if (this.urls.length > 0) throw owxError('OWX_ERR_CONFIG', ['listen: only one address is supported']);
      await app.listen({ host: a.host, port: a.port });
      const addr = app.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : a.port;
      this.urls.push(`http://${a.host.includes(':') ? `[${a.host}]` : a.host}:${port}`);
    }
  }

  #resolve(req: FastifyRequest): HostedAccount {
    // The merged parameters (query, form, JSON body); the console's GET routes have only a query.
    const name = req.owx?.params['client'] ?? (req.query as Record<string, string | undefined> | undefined)?.['client'];
    if (name === undefined || name === '') throw owxError('OWX_ERR_CLIENT_NOT_FOUND');
    const a = this.#accounts.get(name);
    if (!a) throw owxError('OWX_ERR_CLIENT_NOT_EXISTS');
    return a;
  }

  #add(setup: AccountSetup): HostedAccount {
    const name = setup.client.account;
    if (this.#accounts.has(name)) throw owxError('OWX_ERR_CONFIG', [`account ${name} is already hosted`]);
    const a = new HostedAccount(setup, { db: this.db, storage: this.storage, metrics: this.metrics, wire: this.#wire, logger: this.logger, version: this.version });
    this.#accounts.set(name, a);
    this.#onebot?.addAccount({ client: a.ctx.client, history: a.store.history, mediaDirs: a.options.mediaDirs, delivery: a.options, historyRetentionDays: a.options.historyRetentionDays });
    return a;
  }

  /** The hosted accounts, in the order they were added. */
  accounts(): HostedAccount[] {
    return [...this.#accounts.values()];
  }

  account(name: string): HostedAccount | undefined {
    return this.#accounts.get(name);
  }

  /** The checks of startClient, without starting (a cluster checks before it places the account): name, settings. */
  checkStart(name: string, raw: Record<string, string>): void {
    checkClientName(name);
    try {
      this.#o.accounts!.check(raw);
    } catch (e) {
      throw owxError('OWX_ERR_CLIENT_SETTING', [(e as Error).message]);
    }
  }

  /**
   * Controller start_client: adds and runs account `name` with these per-account settings (strings, as the
   * request gave them). Answers Mojo's codes: already present → code 0 `client already exists`.
   */
  async startClient(name: string, raw: Record<string, string>, persist = true): Promise<{ existed: boolean }> {
    checkClientName(name);
    const pending = this.#busy.get(name);
    if (pending) await pending.catch(() => undefined);
    if (this.#closing) throw owxError('OWX_ERR_STOPPED');
    if (this.#accounts.has(name)) return { existed: true };
    if (this.#accounts.size >= this.maxClients) throw owxError('OWX_ERR_MAX_CLIENTS');
    const factory = this.#o.accounts!;
    try {
      factory.check(raw);
    } catch (e) {
      throw owxError('OWX_ERR_CLIENT_SETTING', [(e as Error).message]);
    }
    const setup = factory.create(name, raw);
    this.#o.cluster?.adopt(name, setup);
    // Each account reports to its own post_api (its setting, else the controller's) with client=NAME in the
    // query, as Mojo's controller does (the X-Openwx-Account header names it too).
    const postApi = setup.options.post_api;
    if (postApi) setup.options = { ...setup.options, post_api: withClientParam(postApi, name) };
    const a = this.#add(setup);
    if (persist) this.#list?.put(name, raw);
    this.logger.info({ account: name }, 'account started');
    this.#run(a.client);
    return { existed: false };
  }

  #run(client: WxClient): void {
    client.run().catch((err: unknown) => {
      if (isOpenwxError(err, 'OWX_ERR_LOGIN_CANCELLED')) return;
      this.logger.warn({ err, account: client.account }, 'account stopped: login failed');
    });
  }

  /** Controller stop_client: stops account `name` (its `stop` event is reported), removes it from the list. */
  async stopClient(name: string, flushTimeoutMs = 5_000): Promise<boolean> {
    const pending = this.#busy.get(name);
    if (pending) await pending.catch(() => undefined);
    const a = this.#accounts.get(name);
    if (!a) return false;
    const p = (async () => {
      this.#list?.remove(name);
      await a.client.stop('stop_client').catch((err: unknown) => this.logger.warn({ err, account: name }, 'stop failed'));
      await this.#onebot?.removeAccount(name, flushTimeoutMs);
      await a.close(flushTimeoutMs);
      this.#accounts.delete(name);
      this.logger.info({ account: name }, 'account stopped and removed');
    })();
    this.#busy.set(name, p);
    try {
      await p;
    } finally {
      if (this.#busy.get(name) === p) this.#busy.delete(name);
    }
    return true;
  }

  /**
   * Controller launch: the persisted accounts and the settings file's. A file entry wins over the persisted settings
   * of the same name (the file is the operator's configuration) and is persisted in their place.
   */
  async #restore(): Promise<void> {
    const todo = [...(this.#list?.all() ?? []).map((l) => ({ client: l.name, settings: l.settings, persisted: true }))];
    for (const c of this.#o.initialClients ?? []) {
      const i = todo.findIndex((t) => t.client === c.client);
      if (i >= 0) todo[i] = { ...c, persisted: false };
      else todo.push({ ...c, persisted: false });
    }
    for (const t of todo) {
      try {
        await this.startClient(t.client, t.settings, !t.persisted);
      } catch (err) {
        if (!t.persisted) throw err; // a bad entry in the settings file stops the launch
        this.logger.error({ err, account: t.client }, 'a persisted account could not be started');
      }
    }
  }

  /**
   * Stops serving, then closes every account (flushing its reports up to `flushTimeoutMs`). The Controller also
   * stops its accounts' clients (it made them); a single account's client is its owner's to stop.
   */
  close(flushTimeoutMs = 2_000): Promise<void> {
    this.#closing ??= (async () => {
      // With PostgreSQL away the accounts' last writes fail at once rather than after its retry window.
      this.storage?.stopRetrying?.();
      const accounts = this.accounts();
      if (this.mode === 'controller') {
        await Promise.all(accounts.map((a) => a.client.stop('controller stopping').catch(() => undefined)));
      }
      for (const a of accounts) {
        a.reporter.stop();
        a.events.close();
      }
      await this.#onebot?.close(flushTimeoutMs);
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
      await this.app?.close().catch((err: unknown) => this.logger.warn({ err }, 'API server close failed'));
      await Promise.all(accounts.map((a) => a.close(flushTimeoutMs)));
      await this.#o.cluster?.close();
      await this.storage?.close();
      this.db?.close();
      if (this.#ownMetrics) this.metrics.close();
    })();
    return this.#closing;
  }
}
