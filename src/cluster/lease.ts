/**
 * Leases with epochs (fencing tokens): how one controller holds an account in the cluster (docs/cluster.md).
 *
 * - **Acquire**: one UPDATE of the account's row takes it when its lease is free (none, or expired by the DATABASE
 *   clock `now()`), sets `worker` to this controller, gives it a new `epoch` (from one sequence: epochs only grow and
 *   are never reused, even by an account deleted and added again), sets `lease_until = now() + ttl` and puts `state`
 *   back to `init` (the new owner has not started it yet: the old owner's last state, often `running`, would else be
 *   shown under the new owner until its first state write). The epoch
 *   is the account's fencing token for as long as this controller runs it: every write made for the account
 *   (session, state, events) is conditioned on `epoch = $held AND worker = $me AND lease_until > now()`, so a stale
 *   owner's writes are refused by the database itself.
 * - **Renew**: every `leaseRenewIntervalMs` one UPDATE extends every lease held whose epoch still matches and that has
 *   not expired. An account missing from its answer is lost (another controller took it): it is stopped at once.
 * - **Local deadline**: each lease also has a deadline on this process' MONOTONIC clock, set from the moment the
 *   acquiring/renewing query was SENT (so it always falls before the database's `lease_until`) minus a safety margin.
 *   `mayAct(client)` is false past it: the client consults it before every request to WeChat (each sync step, each
 *   send). A process that was paused (SIGSTOP) or starved past its lease therefore does nothing on resuming: its
 *   first check stops the account, before any renewal could run, and its writes carry a stale epoch anyway. The same
 *   deadline is kept on the wall clock too, and both must be ahead: the monotonic clock stands still while the machine
 *   is suspended (Linux CLOCK_MONOTONIC), the wall clock is set forward on resuming; a wall clock set back extends
 *   nothing.
 *
 * A renewal that fails (PostgreSQL down, connection dropped) changes nothing: the deadlines keep running and the
 * accounts stop when they pass, so no account is ever run by two controllers at once.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import { CLUSTER_DEFAULTS } from '../settings/defaults.ts';

export const DEFAULT_LEASE_TTL_MS: number = CLUSTER_DEFAULTS.lease_ttl_ms;
export const MAX_LEASE_TTL_MS = 15_000;
export const DEFAULT_LEASE_RENEW_INTERVAL_MS: number = CLUSTER_DEFAULTS.lease_renew_interval_ms;
export const DEFAULT_LEASE_SAFETY_MS = 1_000;

export interface LeaseOptions {
  pool: pg.Pool;
  /**
   * Where the renewals run: a pool of their own (the node's control connection), so that the data path's queries,
   * however many or slow, never make a renewal wait for a connection and the leases run out. Default `pool`.
   */
  renewPool?: pg.Pool | undefined;
  workerId: string;
  logger: Logger;
  /** A lease lasts this long after each renewal (at most 15 s). */
  leaseTtlMs?: number | undefined;
  /** How often the leases are renewed. */
  leaseRenewIntervalMs?: number | undefined;
  /** The local deadline falls this much before the lease's end. */
  leaseSafetyMs?: number | undefined;
  /** An account's lease is lost (taken by another controller, or its local deadline passed): stop it now. */
  onLost(client: string, why: string): void;
  /** Monotonic milliseconds; default performance.now. */
  monotonicNow?: (() => number) | undefined;
  /**
   * Wall-clock milliseconds; default Date.now. The local deadline is kept on both clocks: the monotonic one does not
   * advance while the machine is suspended, the wall clock is set forward on resuming.
   */
  wallNow?: (() => number) | undefined;
}

interface Held {
  epoch: number;
  /** Monotonic ms past which the account may not act. */
  deadline: number;
  /** The same deadline on the wall clock (a suspend stops the monotonic clock, not this one). */
  wallDeadline: number;
}

/** The SQL fragment (and its values) that makes a write count only for the current holder of an account. */
export interface Fence {
  client: string;
  epoch: number;
  workerId: string;
}

export class LeaseKeeper {
  readonly workerId: string;
  readonly ttlMs: number;
  readonly renewIntervalMs: number;
  readonly #o: LeaseOptions;
  readonly #held = new Map<string, Held>();
  readonly #now: () => number;
  readonly #wall: () => number;
  readonly #safetyMs: number;
  #timer: NodeJS.Timeout | null = null;
  #renewing: Promise<void> | null = null;
  #renewFailing = false;

  constructor(o: LeaseOptions) {
    this.#o = o;
    this.workerId = o.workerId;
    this.ttlMs = o.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
    if (!(this.ttlMs > 0 && this.ttlMs <= MAX_LEASE_TTL_MS)) throw new RangeError(`leaseTtlMs must be in (0, ${MAX_LEASE_TTL_MS}] ms`);
    this.renewIntervalMs = o.leaseRenewIntervalMs ?? DEFAULT_LEASE_RENEW_INTERVAL_MS;
    this.#safetyMs = o.leaseSafetyMs ?? Math.min(DEFAULT_LEASE_SAFETY_MS, Math.floor(this.ttlMs / 4));
    if (this.renewIntervalMs >= this.ttlMs - this.#safetyMs) throw new RangeError('leaseRenewIntervalMs must be well below leaseTtlMs');
    this.#now = o.monotonicNow ?? (() => performance.now());
    this.#wall = o.wallNow ?? (() => Date.now());
  }

  /** Starts the renewal timer. */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.renewNow(), this.renewIntervalMs);
  }

  /** Stops renewing (the leases run out by themselves unless released). */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#renewing;
  }

  /**
   * Takes `client` when its lease is free (or already this controller's); returns the new epoch, or null when another
   * controller holds a live lease. `q` may be a connection inside a transaction. The account is held from then on.
   */
  async acquire(client: string, q: pg.Pool | pg.PoolClient = this.#o.pool): Promise<number | null> {
    const sent = this.#now();
    const sentWall = this.#wall();
    const r = await q.query<{ epoch: string }>(
      `UPDATE openwx_accounts SET worker = $2, epoch = nextval('openwx_epoch_seq'), lease_until = now() + $3 * interval '1 millisecond', state = 'init', updated_at = now()
        WHERE client = $1 AND (lease_until IS NULL OR lease_until < now() OR worker = $2)
        RETURNING epoch`,
      [client, this.workerId, this.ttlMs],
    );
    if (r.rowCount === 0) return null;
    const epoch = Number(r.rows[0]!.epoch);
    this.#held.set(client, { epoch, ...this.#deadlines(sent, sentWall) });
    return epoch;
  }

  /**
   * Adds `client` to the cluster held by this controller (start_client placed it here) with a fresh epoch; null when
   * the account exists already.
   */
  async create(client: string, settings: Record<string, string>): Promise<number | null> {
    const sent = this.#now();
    const sentWall = this.#wall();
    const r = await this.#o.pool.query<{ epoch: string }>(
      `INSERT INTO openwx_accounts (client, settings, worker, epoch, lease_until, state)
       VALUES ($1, $2::jsonb, $3, nextval('openwx_epoch_seq'), now() + $4 * interval '1 millisecond', 'init')
       ON CONFLICT (client) DO NOTHING RETURNING epoch`,
      [client, JSON.stringify(settings), this.workerId, this.ttlMs],
    );
    if (!r.rowCount) return null;
    const epoch = Number(r.rows[0]!.epoch);
    this.#held.set(client, { epoch, ...this.#deadlines(sent, sentWall) });
    return epoch;
  }

  /** The epoch this controller holds `client` by, or undefined. */
  epoch(client: string): number | undefined {
    return this.#held.get(client)?.epoch;
  }

  /** The fence of a held account (for conditioned writes), or null. */
  fence(client: string): Fence | null {
    const h = this.#held.get(client);
    return h ? { client, epoch: h.epoch, workerId: this.workerId } : null;
  }

  held(): string[] {
    return [...this.#held.keys()];
  }

  /**
   * May this controller act for `client` now (talk to WeChat, write its state)? False once the local deadline passed
   * (the account is then reported lost, once) or when it is not held.
   */
  mayAct(client: string): boolean {
    const h = this.#held.get(client);
    if (!h) return false;
    // Both clocks: a suspended machine's monotonic clock stood still; a wall clock set back extends nothing.
    if (this.#now() < h.deadline && this.#wall() < h.wallDeadline) return true;
    this.#lose(client, 'its lease ran out before it could be renewed (the process was paused, starved or cut off from PostgreSQL)');
    return false;
  }

  /** Gives `client` up: forgotten here, its lease freed in the database (if still ours) so another can take it at once. */
  release(client: string, q: pg.Pool | pg.PoolClient = this.#o.pool): Promise<void> {
    return this.releaseAll([client], q);
  }

  /** Releases the leases of `clients` held here, in one statement (a controller leaving the cluster). */
  async releaseAll(clients: readonly string[], q: pg.Pool | pg.PoolClient = this.#o.pool): Promise<void> {
    const held = clients.flatMap((c) => {
      const h = this.#held.get(c);
      this.#held.delete(c);
      return h ? [{ client: c, epoch: h.epoch }] : [];
    });
    if (held.length === 0) return;
    await q.query(
      `UPDATE openwx_accounts a SET lease_until = NULL, updated_at = now()
         FROM unnest($1::text[], $2::bigint[]) AS r(client, epoch)
        WHERE a.client = r.client AND a.epoch = r.epoch AND a.worker = $3`,
      [held.map((h) => h.client), held.map((h) => h.epoch), this.workerId],
    );
  }

  /** Forgets `client` without touching the database (its row is being deleted, or it is already lost). */
  forget(client: string): void {
    this.#held.delete(client);
  }

  /**
   * One renewal round now (the timer calls it): expired deadlines first, then one UPDATE for the rest. The deadlines
   * are checked even while the previous round's UPDATE still waits for PostgreSQL (a silent server answers nothing
   * until the query timeout): what ran out stops at its deadline, not when that query gives up.
   */
  renewNow(): Promise<void> {
    for (const client of [...this.#held.keys()]) this.mayAct(client);
    this.#renewing ??= this.#renew().finally(() => {
      this.#renewing = null;
    });
    return this.#renewing;
  }

  async #renew(): Promise<void> {
    if (this.#held.size === 0) return;
    const clients = [...this.#held.keys()];
    const epochs = clients.map((c) => this.#held.get(c)!.epoch);
    const sent = this.#now();
    const sentWall = this.#wall();
    let renewed: Set<string>;
    try {
      const r = await (this.#o.renewPool ?? this.#o.pool).query<{ client: string }>(
        `UPDATE openwx_accounts a SET lease_until = now() + $3 * interval '1 millisecond'
           FROM unnest($1::text[], $2::bigint[]) AS o(client, epoch)
          WHERE a.client = o.client AND a.epoch = o.epoch AND a.worker = $4 AND a.lease_until > now()
          RETURNING a.client`,
        [clients, epochs, this.ttlMs, this.workerId],
      );
      renewed = new Set(r.rows.map((x) => x.client));
      if (this.#renewFailing) this.#o.logger.info({ accounts: clients.length }, 'lease renewal works again');
      this.#renewFailing = false;
    } catch (err) {
      if (!this.#renewFailing) {
        this.#o.logger.warn(
          { err: (err as Error).message, accounts: clients.length },
          'lease renewal failed (PostgreSQL unreachable?); retrying; accounts stop when their lease runs out',
        );
      }
      this.#renewFailing = true;
      return;
    }
    for (const [i, client] of clients.entries()) {
      const h = this.#held.get(client);
      if (!h || h.epoch !== epochs[i]) continue; // released or re-acquired meanwhile
      if (renewed.has(client)) Object.assign(h, this.#deadlines(sent, sentWall));
      else this.#lose(client, 'another controller holds its lease now (or it expired)');
    }
  }

  /** The local deadlines of a lease whose acquiring or renewing query was sent at these times. */
  #deadlines(sent: number, sentWall: number): { deadline: number; wallDeadline: number } {
    const left = this.ttlMs - this.#safetyMs;
    return { deadline: sent + left, wallDeadline: sentWall + left };
  }

  #lose(client: string, why: string): void {
    if (!this.#held.delete(client)) return;
    this.#o.logger.warn({ account: client, why }, 'lease lost: stopping the account here at once');
    try {
      this.#o.onLost(client, why);
    } catch (err) {
      this.#o.logger.error({ err, account: client }, 'stopping an account whose lease was lost failed');
    }
  }
}
