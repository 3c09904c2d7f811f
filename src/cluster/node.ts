/**
 * One controller as a member of a cluster sharing one PostgreSQL (docs/cluster.md). It plugs into the Host
 * (`HostCluster`) and:
 *
 * - answers the Controller routes for the whole cluster and forwards account routes to their owners
 *   (src/cluster/routes.ts, src/cluster/forward.ts);
 * - holds its accounts by leases with epochs (src/cluster/lease.ts): each account's session lives in PostgreSQL
 *   (src/store/pg/session-store.ts), its client asks "may I act" before every request to WeChat, its state changes
 *   and its storage (src/store/pg/pg-storage.ts: outbox, history, and the event log openwx_events, in the reports'
 *   own transactions) are written fenced by its epoch;
 * - heartbeats, and claims accounts whose lease expired (a dead controller's) up to its fair share of the load:
 *   `FOR UPDATE SKIP LOCKED`, on a timer and at once on `NOTIFY openwx_cluster` (an account freed);
 * - survives PostgreSQL going away: its periodic work backs off exponentially and logs once per outage; leases that
 *   cannot be renewed stop their accounts at the local deadline.
 */
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { Logger } from 'pino';
import { Account } from '../client/account.ts';
import { owxError } from '../errors.ts';
import { CLUSTER_DEFAULTS } from '../settings/defaults.ts';
import type { AccountSetup } from '../host/account.ts';
import type { Host, HostCluster } from '../host/host.ts';
import { PgSessionStore, type StoredSession } from '../store/pg/session-store.ts';
import { Coalesced } from '../store/pg/coalesce.ts';
import { PgStorage } from '../store/pg/pg-storage.ts';
import { connectionConfig, databaseLabel, inTransaction, openPool } from './db.ts';
import { DEFAULT_FORWARD_TIMEOUT_MS, Forwarder } from './forward.ts';
import { ClusterRoutes } from './routes.ts';
import { LeaseKeeper, type Fence } from './lease.ts';
import { Listener } from './listen.ts';
import { migrate } from './schema.ts';
import { claimView, heartbeat } from './workers.ts';

export const CLUSTER_CHANNEL = 'openwx_cluster';
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 2_000;
export const DEFAULT_WORKER_DEAD_AFTER_MS: number = CLUSTER_DEFAULTS.worker_dead_after_ms;
export const DEFAULT_EVENTS_RETENTION_HOURS: number = CLUSTER_DEFAULTS.events_retention_hours;
export const DEFAULT_EVENTS_PRUNE_INTERVAL_MS = 600_000;
export const DEFAULT_DB_BACKOFF_MAX_MS = 10_000;
export const DEFAULT_FORWARD_OWNER_WAIT_MS: number = CLUSTER_DEFAULTS.forward_owner_wait_ms;
export const DEFAULT_OWNER_POLL_INTERVAL_MS = 100;

export interface ClusterOptions {
  /** `postgres://USER:PASS@HOST:PORT/DB` (a secret: never logged). */
  databaseUrl: string;
  /** This controller's id in the cluster (unique). */
  workerId: string;
  /** How the other controllers reach this one's API; default its listen URL. */
  advertiseUrl?: string | undefined;
  logger: Logger;
  leaseTtlMs?: number | undefined;
  leaseRenewIntervalMs?: number | undefined;
  leaseSafetyMs?: number | undefined;
  heartbeatIntervalMs?: number | undefined;
  /** A controller without a heartbeat for this long is dead (no placement on it, its accounts are claimed). */
  workerDeadAfterMs?: number | undefined;
  /** How often this controller looks for accounts to claim (besides NOTIFY). */
  claimIntervalMs?: number | undefined;
  /** A forwarded request not answered within this gets OWX_ERR_FORWARD_TIMEOUT (never repeated). */
  forwardTimeoutMs?: number | undefined;
  /** An account route for an account changing owner waits up to this long for the new owner (then OWX_ERR_OWNER_MOVING). */
  forwardOwnerWaitMs?: number | undefined;
  /** How often such a request looks for the new owner meanwhile. */
  ownerPollIntervalMs?: number | undefined;
  /** openwx_events rows older than this are deleted. */
  eventsRetentionHours?: number | undefined;
  eventsPruneIntervalMs?: number | undefined;
  /** Longest wait between tries while PostgreSQL is unreachable. */
  dbBackoffMaxMs?: number | undefined;
  /** One query must answer within this (default 10 s), and a connection be made within `connectTimeoutMs` (5 s). */
  queryTimeoutMs?: number | undefined;
  connectTimeoutMs?: number | undefined;
  /** Accounts of the settings file (`clients:`): added to the cluster if absent; the least loaded controllers take them. */
  initialClients?: { client: string; settings: Record<string, string> }[] | undefined;
}

interface Local {
  fence: Fence;
  off: () => void;
}

export class ClusterNode implements HostCluster {
  readonly workerId: string;
  readonly pool: pg.Pool;
  readonly lease: LeaseKeeper;
  /**
   * The host's storage of the hot path on PostgreSQL (history, outbox, answers, and the event log appended in the
   * same transactions): each account's handle bound to its lease's fence (docs/cluster.md, "Data").
   */
  readonly storage: PgStorage;
  readonly #o: ClusterOptions;
  readonly #log: Logger;
  readonly #forwarder: Forwarder;
  /** The control plane's own connections: lease renewals and heartbeats (never queued behind the data path). */
  readonly #control: pg.Pool;
  readonly #listener: Listener;
  readonly #deadAfterMs: number;
  /** Accounts placed/claimed here whose client is being made: the host's factory call picks its ownership up. */
  readonly #prepared = new Map<string, { epoch: number; initial: StoredSession | null }>();
  readonly #local = new Map<string, Local>();
  /** Accounts stop_client stopped here whose row could not be deleted yet: name → the epoch they ran under. */
  readonly #removals = new Map<string, number>();
  /** Accounts being unhosted after their lease was lost: a new start of the same name waits for it. */
  readonly #losing = new Map<string, Promise<void>>();
  #host: Host | null = null;
  #advertiseUrl = '';
  #tickTimer: NodeJS.Timeout | null = null;
  #tickFailures = 0;
  #lastPrune = 0;
  #claiming: Promise<void> | null = null;
  #claimAgain = false;
  #closing: Promise<void> | null = null;
  /** Ends the requests waiting for an account's new owner when this controller closes. */
  readonly #closed = new AbortController();

  private constructor(o: ClusterOptions, pool: pg.Pool) {
    this.#o = o;
    this.workerId = o.workerId;
    this.#log = o.logger.child({ module: 'cluster', worker: o.workerId });
    this.pool = pool;
    this.#deadAfterMs = o.workerDeadAfterMs ?? DEFAULT_WORKER_DEAD_AFTER_MS;
    // The lease renewals and the heartbeat on a connection of their own (at most 2): a busy data path (every account's
    // storage transactions share the main pool) must not make them wait, or the leases would run out under load.
    this.#control = openPool({ databaseUrl: o.databaseUrl, logger: this.#log, queryTimeoutMs: o.queryTimeoutMs, connectTimeoutMs: o.connectTimeoutMs, poolMax: 2 });
    this.lease = new LeaseKeeper({
      pool,
      renewPool: this.#control,
      workerId: o.workerId,
      logger: this.#log,
      leaseTtlMs: o.leaseTtlMs,
      leaseRenewIntervalMs: o.leaseRenewIntervalMs,
      leaseSafetyMs: o.leaseSafetyMs,
      onLost: (client, why) => this.#lost(client, why),
    });
    this.storage = new PgStorage({
      pool,
      logger: this.#log,
      // A handle is made when its account is adopted (the fence is there then); a refused write stops the account.
      fenceOf: (client) => {
        const f = this.lease.fence(client);
        return f ? { epoch: f.epoch, workerId: f.workerId, onFenced: (why) => this.#lost(client, `storage: ${why}`) } : null;
      },
      // Retention runs in the tick (one place, with its backoff).
      eventsPurgeIntervalMs: 0,
    });
    this.#forwarder = new Forwarder(o.workerId, o.forwardTimeoutMs ?? DEFAULT_FORWARD_TIMEOUT_MS);
    this.#listener = new Listener({
      config: connectionConfig({ databaseUrl: o.databaseUrl, logger: this.#log, queryTimeoutMs: o.queryTimeoutMs, connectTimeoutMs: o.connectTimeoutMs }),
      channels: [CLUSTER_CHANNEL],
      logger: this.#log,
      onNotify: () => this.#kickClaim(),
      onReconnect: () => this.#kickClaim(),
    });
  }

  /** Connects and migrates the schema (fails with a clear error when PostgreSQL cannot be reached). */
  static async open(o: ClusterOptions): Promise<ClusterNode> {
    const pool = openPool({ databaseUrl: o.databaseUrl, logger: o.logger, queryTimeoutMs: o.queryTimeoutMs, connectTimeoutMs: o.connectTimeoutMs });
    try {
      const m = await migrate(pool);
      o.logger.info({ db: databaseLabel(o.databaseUrl), schema: m.version, applied: m.applied, worker: o.workerId }, 'cluster database ready');
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw owxError('OWX_ERR_CLUSTER_DB', [`${databaseLabel(o.databaseUrl)}: ${(err as Error).message}`], { cause: err });
    }
    return new ClusterNode(o, pool);
  }

  // ---- HostCluster --------------------------------------------------------------------------------------

  register(app: FastifyInstance, host: Host): void {
    this.#host = host;
    const routes = new ClusterRoutes({
      workerId: this.workerId,
      pool: this.pool,
      lease: this.lease,
      forwarder: this.#forwarder,
      deadAfterMs: this.#deadAfterMs,
      ownerWaitMs: this.#o.forwardOwnerWaitMs ?? DEFAULT_FORWARD_OWNER_WAIT_MS,
      ownerPollIntervalMs: this.#o.ownerPollIntervalMs ?? DEFAULT_OWNER_POLL_INTERVAL_MS,
      signal: this.#closed.signal,
      logger: this.#log,
      host: () => this.#need(),
      localFence: (name) => this.#local.get(name)?.fence,
      isLocal: (name) => this.#local.has(name),
      startLocal: (name, settings, epoch, initial, created) => this.#startLocal(name, settings, epoch, initial, created),
      dropLocal: (name) => this.#dropLocal(name),
      removeStopped: (name, epoch) => this.#removeStopped(name, epoch),
    });
    app.addHook('preHandler', async (req, reply) => routes.handle(req, reply));
  }

  adopt(name: string, setup: AccountSetup): void {
    const p = this.#prepared.get(name);
    const fence = this.lease.fence(name);
    if (!p || !fence || fence.epoch !== p.epoch) throw owxError('OWX_ERR_CONFIG', [`cluster: account ${name} was not placed on this controller`]);
    this.#prepared.delete(name);
    const client = setup.client;
    if (!(client instanceof Account)) throw owxError('OWX_ERR_CONFIG', ['cluster: accounts must be openwx Accounts']);
    const lost = (why: string) => this.#lost(name, why);
    client.setOwnership({
      sessionStore: new PgSessionStore({ pool: this.pool, fence, initial: p.initial, onFenced: lost }),
      mayAct: () => this.lease.mayAct(name),
    });
    // The reports (their outbox rows and openwx_events rows, one transaction) are committed before WeChat is told a
    // sync answer was received; an account whose lease went meanwhile acknowledges nothing.
    const offBarrier = client.addDurabilityBarrier(async () => {
      await this.#host?.account(name)?.reporter.commitPending();
      if (!this.lease.mayAct(name)) throw owxError('OWX_ERR_LEASE_LOST', ['acknowledging a sync answer']);
    });
    const state = new Coalesced<string>(async (to) => {
      const user = to === 'running' ? client.user() : null;
      await this.pool.query(
        `UPDATE openwx_accounts SET state = $4, start_time = $5, user_id = $6, user_name = $7, user_displayname = $8, updated_at = now()
          WHERE client = $1 AND epoch = $2 AND worker = $3`,
        [name, fence.epoch, fence.workerId, to, client.startTime, user?.id ?? null, user?.name ?? null, user?.displayname ?? null],
      );
    });
    const onState = (_from: string, to: string) => {
      state.push(to).catch((err: unknown) => this.#log.warn({ account: name, err: (err as Error).message }, 'account state not written to PostgreSQL'));
    };
    client.on('state_change', onState);
    this.#local.set(name, {
      fence,
      off: () => {
        offBarrier();
        client.off('state_change', onState);
      },
    });
  }

  // ---- start ----------------------------------------------------------------------------------------------

  /** Heartbeats, renews, listens and claims from now on (the host listens: its URL is the default advertise URL). */
  async start(): Promise<void> {
    const host = this.#need();
    this.#advertiseUrl = this.#o.advertiseUrl ?? host.urls[0]!;
    await heartbeat(this.#control, this.workerId, this.#advertiseUrl, true);
    for (const c of this.#o.initialClients ?? []) {
      await this.pool.query(`INSERT INTO openwx_accounts (client, settings) VALUES ($1, $2::jsonb) ON CONFLICT (client) DO NOTHING`, [
        c.client,
        JSON.stringify(c.settings),
      ]);
    }
    this.lease.start();
    await this.#listener.start();
    this.#log.info({ advertiseUrl: this.#advertiseUrl }, 'joined the cluster');
    this.#schedule(0);
  }

  /** The heartbeat (and claim) period: its option, else at most 2 s and never longer than the lease renewal. */
  #heartbeatMs(): number {
    return this.#o.heartbeatIntervalMs ?? Math.min(DEFAULT_HEARTBEAT_INTERVAL_MS, this.lease.renewIntervalMs);
  }

  #need(): Host {
    if (!this.#host) throw owxError('OWX_ERR_CONFIG', ['cluster: not registered with a host']);
    return this.#host;
  }

  #schedule(delayMs: number): void {
    if (this.#closing) return;
    this.#tickTimer = setTimeout(() => void this.#tick(), delayMs);
  }

  /** Heartbeat, claims, retention; on a database failure the next try backs off (logged once per outage). */
  async #tick(): Promise<void> {
    this.#tickTimer = null;
    const every = this.#heartbeatMs();
    try {
      await heartbeat(this.#control, this.workerId, this.#advertiseUrl, false);
      await this.#retryRemovals();
      await this.#claimNow();
      const pruneEvery = this.#o.eventsPruneIntervalMs ?? DEFAULT_EVENTS_PRUNE_INTERVAL_MS;
      if (Date.now() - this.#lastPrune >= pruneEvery) {
        this.#lastPrune = Date.now();
        await this.storage.purgeEvents(this.#o.eventsRetentionHours ?? DEFAULT_EVENTS_RETENTION_HOURS);
      }
      if (this.#tickFailures > 0) this.#log.info({ failures: this.#tickFailures }, 'PostgreSQL reachable again');
      this.#tickFailures = 0;
      this.#schedule(Math.min(every, this.#o.claimIntervalMs ?? every));
    } catch (err) {
      const delay = Math.min(this.#o.dbBackoffMaxMs ?? DEFAULT_DB_BACKOFF_MAX_MS, every * 2 ** Math.min(this.#tickFailures, 10));
      if (this.#tickFailures === 0) {
        this.#log.warn({ db: databaseLabel(this.#o.databaseUrl), err: (err as Error).message, retryInMs: delay }, 'PostgreSQL unreachable: heartbeat and claims back off; accounts stop if their leases run out');
      }
      this.#tickFailures++;
      this.#schedule(delay);
    }
  }

  // ---- claims (failover) ----------------------------------------------------------------------------------

  #kickClaim(): void {
    if (this.#closing || !this.#advertiseUrl) return;
    this.#claimNow().catch((err: unknown) => this.#log.debug({ err: (err as Error).message }, 'claim round failed'));
  }

  /** Claims accounts without a live lease while this controller is among the least loaded live ones. */
  #claimNow(): Promise<void> {
    if (this.#claiming) {
      this.#claimAgain = true;
      return this.#claiming;
    }
    this.#claiming = (async () => {
      do {
        this.#claimAgain = false;
        // Up to this controller's fair share at once: the others claim theirs in parallel (SKIP LOCKED), so a dead
        // controller's accounts are spread in one round instead of one account per controller per period.
        const share = await this.#claimBudget();
        let taken = 0;
        while (taken < share && (await this.#claimOne())) taken++;
        if (share > 0 && taken === share) this.#claimAgain = true; // took its whole share: look again (others may be full)
      } while (this.#claimAgain && !this.#closing);
    })().finally(() => {
      this.#claiming = null;
    });
    return this.#claiming;
  }

  /**
   * How many accounts without a live lease this controller takes now: up to its fair share of every account among the
   * live controllers (ceil(held + free) / live), within its max_clients; 0 when there is nothing to take.
   */
  async #claimBudget(): Promise<number> {
    const host = this.#need();
    if (this.#closing) return 0;
    const { free, loads } = await claimView(this.pool, this.#deadAfterMs);
    if (free === 0) return 0;
    const live = loads.filter((w) => w.live || w.workerId === this.workerId);
    const held = live.reduce((n, w) => n + w.accounts, 0);
    const mine = live.find((w) => w.workerId === this.workerId)?.accounts ?? this.#local.size;
    const share = Math.ceil((held + free) / Math.max(1, live.length));
    const budget = Math.max(0, Math.min(share - mine, free, host.maxClients - host.accounts().length));
    this.#log.debug({ free, held, live: live.length, mine, share, budget }, 'claim round');
    return budget;
  }

  async #claimOne(): Promise<boolean> {
    const host = this.#need();
    if (this.#closing || host.accounts().length >= host.maxClients) return false;
    let claimed: { client: string; settings: Record<string, string>; epoch: number; initial: StoredSession | null } | null = null;
    // Not an account still hosted here (its lease just lapsed: the renewal unhosts it first, then it may come back).
    const here = [...new Set([...host.accounts().map((a) => a.name), ...this.#losing.keys()])];
    try {
      claimed = await inTransaction(this.pool, async (c) => {
        const r = await c.query<{ client: string; settings: Record<string, string> }>(
          `SELECT client, settings FROM openwx_accounts WHERE (lease_until IS NULL OR lease_until < now()) AND client <> ALL($1::text[])
            ORDER BY added_at, client LIMIT 1 FOR UPDATE SKIP LOCKED`,
          [here],
        );
        const row = r.rows[0];
        if (!row) return null;
        const epoch = await this.lease.acquire(row.client, c);
        if (epoch === null) return null;
        return { client: row.client, settings: row.settings ?? {}, epoch, initial: await PgSessionStore.preload(c, row.client) };
      });
    } catch (err) {
      for (const c of this.lease.held()) if (!this.#local.has(c) && !this.#prepared.has(c)) this.lease.forget(c);
      throw err;
    }
    if (!claimed) return false;
    this.#log.info({ account: claimed.client, epoch: claimed.epoch, resumes: claimed.initial?.session ? 'stored session' : 'no session' }, 'account taken over');
    try {
      await this.#startLocal(claimed.client, claimed.settings, claimed.epoch, claimed.initial, false);
    } catch (err) {
      // Freed again (#startLocal released it); not a database failure: the next round tries again.
      this.#log.warn({ account: claimed.client, err: (err as Error).message }, 'a claimed account could not be started here; released');
      return false;
    }
    return true;
  }

  /** Runs an account this controller now holds; on failure frees it (a claim) or removes it (a new account). */
  async #startLocal(name: string, settings: Record<string, string>, epoch: number, initial: StoredSession | null, created: boolean): Promise<boolean> {
    const host = this.#need();
    // Taken again right after this controller lost it: the old instance must be gone first (else the host would
    // answer "already hosted" and the new epoch would run nothing).
    await this.#losing.get(name);
    this.#prepared.set(name, { epoch, initial });
    try {
      const { existed } = await host.startClient(name, settings, false);
      return existed;
    } catch (err) {
      this.#prepared.delete(name);
      this.#dropLocal(name);
      if (created) await this.pool.query('DELETE FROM openwx_accounts WHERE client = $1 AND epoch = $2', [name, epoch]).catch(() => undefined);
      else await this.lease.release(name).catch(() => undefined);
      this.lease.forget(name);
      throw err;
    } finally {
      this.#prepared.delete(name);
    }
  }

  /**
   * An account stop_client stopped here leaves the cluster: its row deleted (only while this controller's epoch is
   * still the row's), its lease and bookkeeping dropped. If the DELETE fails (PostgreSQL unreachable) the account
   * stays stopped, its lease is kept (renewed while PostgreSQL answers renewals, so no other controller starts it)
   * and each heartbeat tries again (#retryRemovals).
   */
  async #removeStopped(name: string, epoch: number): Promise<void> {
    try {
      await this.pool.query('DELETE FROM openwx_accounts WHERE client = $1 AND epoch = $2', [name, epoch]);
    } catch (err) {
      if (!this.#removals.has(name)) this.#log.warn({ account: name, err: (err as Error).message }, 'stopped account not removed from the cluster yet (PostgreSQL): retried on each heartbeat');
      this.#removals.set(name, epoch);
      throw err;
    }
    this.#removals.delete(name);
    this.lease.forget(name);
    this.#dropLocal(name);
  }

  /** The removals stop_client could not finish; the first failure ends the round (the tick backs off). */
  async #retryRemovals(): Promise<void> {
    for (const [name, epoch] of [...this.#removals]) {
      await this.#removeStopped(name, epoch);
      this.#log.info({ account: name }, 'stopped account removed from the cluster (PostgreSQL answers again)');
    }
  }

  #dropLocal(name: string): void {
    const l = this.#local.get(name);
    this.#local.delete(name);
    l?.off();
  }

  /** The lease of `name` is gone: stop it here at once (its client aborts everything in flight), then unhost it. */
  #lost(name: string, why: string): void {
    if (this.#losing.has(name)) return;
    this.lease.forget(name);
    const host = this.#host;
    const a = host?.account(name);
    const stopping = a ? a.client.stop(`lease lost: ${why}`).catch(() => undefined) : Promise.resolve();
    const unhosting = (async () => {
      try {
        await stopping;
        await host?.stopClient(name, 0);
      } catch (err) {
        this.#log.warn({ err, account: name }, 'unhosting an account whose lease was lost failed');
      } finally {
        this.#dropLocal(name);
        this.#losing.delete(name);
      }
    })();
    this.#losing.set(name, unhosting);
  }

  // ---- close ----------------------------------------------------------------------------------------------

  /**
   * Leaves the cluster (the host has stopped its accounts): the event logs drained, every lease released and the
   * other controllers told (NOTIFY), so they take the accounts over at once; this controller marked dead.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed.abort();
      if (this.#tickTimer) clearTimeout(this.#tickTimer);
      this.#tickTimer = null;
      await this.#claiming?.catch(() => undefined);
      await this.#listener.close();
      await this.lease.stop();
      // What the accounts stored is committed before their leases go.
      await this.storage.close().catch(() => undefined);
      // Each step below needs PostgreSQL; after the first that fails (unreachable, or silent: each one would wait its
      // query timeout) the others are skipped: the leases then run out by themselves and the heartbeat goes stale,
      // which the other controllers notice as they do for a crash.
      let reachable = true;
      const step = async (what: string, f: () => Promise<unknown>) => {
        if (!reachable) return;
        try {
          await f();
        } catch (err) {
          reachable = false;
          this.#log.warn({ err: (err as Error).message, step: what }, 'PostgreSQL failed while leaving the cluster: the rest is left to the leases and the heartbeat running out');
        }
      };
      // A stopped account's row goes before its lease does (released, another controller would start it again).
      await step('removing stopped accounts', () => this.#retryRemovals());
      if (this.#removals.size > 0) this.#log.warn({ accounts: [...this.#removals.keys()] }, 'stopped accounts still in the cluster at close: another controller may start them again');
      const names = [...this.#local.keys()];
      await step('releasing leases', () => this.lease.releaseAll(names));
      for (const name of names) this.#dropLocal(name);
      await step('marking this controller gone', () => this.pool.query(`UPDATE openwx_workers SET heartbeat = 'epoch' WHERE worker_id = $1`, [this.workerId]));
      await step('telling the others', () => this.pool.query(`SELECT pg_notify('${CLUSTER_CHANNEL}', $1)`, [`left:${this.workerId}`]));
      await this.#forwarder.close().catch(() => undefined);
      await this.pool.end().catch(() => undefined);
      await this.#control.end().catch(() => undefined);
    })();
    return this.#closing;
  }
}
