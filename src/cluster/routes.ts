/**
 * The Controller routes of a cluster member (docs/cluster.md, "Placement, forwarding, the Controller routes"), run by
 * the cluster's request hook before the host's own routes: start_client places the account (here, or forwarded to
 * the controller chosen), check_client lists the whole cluster from the accounts table, stop_client stops it on its
 * owner (forwarded) and removes it, and every other account route for an account another controller runs is
 * forwarded to it. A handler returning undefined lets the host's route answer (an account hosted here, or none).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { Logger } from 'pino';
import { setTimeout as delay } from 'node:timers/promises';
import { errorBody, isOpenwxError, owxError, type OpenwxError } from '../errors.ts';
import { clientEntry, settingsOf, startAnswer } from '../host/controller-routes.ts';
import type { Host } from '../host/host.ts';
import type { StoredSession } from '../store/pg/session-store.ts';
import { FORWARDED_HEADER, REFUSED_HEADER, type Forwarder } from './forward.ts';
import type { Fence, LeaseKeeper } from './lease.ts';
import { ownerOf, workerLoads } from './workers.ts';

/** What the routes need of the cluster member. */
export interface ClusterRouteDeps {
  workerId: string;
  pool: pg.Pool;
  lease: LeaseKeeper;
  forwarder: Forwarder;
  deadAfterMs: number;
  /** An account route for an account changing owner waits this long for the new owner (docs/cluster.md). */
  ownerWaitMs: number;
  /** How often it looks for the new owner meanwhile. */
  ownerPollIntervalMs: number;
  /** Aborted when the controller closes: waits end at once. */
  signal: AbortSignal;
  logger: Logger;
  host(): Host;
  /** The fence of an account this controller runs (adopted), or undefined. */
  localFence(name: string): Fence | undefined;
  isLocal(name: string): boolean;
  /** Runs an account this controller now holds (created: a new account, removed again if it cannot start). */
  startLocal(name: string, settings: Record<string, string>, epoch: number, initial: StoredSession | null, created: boolean): Promise<boolean>;
  /** Forgets the cluster bookkeeping of an account no longer run here. */
  dropLocal(name: string): void;
  /**
   * Removes an account stop_client stopped here from the cluster (its row, its lease, the bookkeeping). If PostgreSQL
   * cannot delete the row it rejects, and the controller keeps the lease and tries again on each heartbeat.
   */
  removeStopped(name: string, epoch: number): Promise<void>;
}

export class ClusterRoutes {
  readonly #d: ClusterRouteDeps;

  constructor(d: ClusterRouteDeps) {
    this.#d = d;
  }

  /** The request hook: answers (returns the reply) or lets the host's route answer (undefined). */
  handle(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> | undefined {
    // The route the router matched (it decodes escapes: /openwx/stop%5Fclient IS stop_client), else the raw path.
    const path = req.routeOptions.url ?? req.url.split('?')[0]!;
    if (!path.startsWith('/openwx/')) return undefined;
    const route = path.slice('/openwx/'.length);
    if (route === 'openapi.json') return undefined;
    if (route === 'check_client') return this.checkClient(req, reply);
    if (route === 'start_client') return this.startClient(req, reply);
    if (route === 'stop_client') return this.stopClient(req, reply);
    return this.accountRoute(req, reply);
  }

  async #db<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (isOpenwxError(err)) throw err;
      throw owxError('OWX_ERR_CLUSTER_DB', [(err as Error).message], { cause: err });
    }
  }

  async startClient(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const host = this.#d.host();
    const p = req.owx.params;
    const name = p['client'];
    if (name === undefined || name === '') throw owxError('OWX_ERR_CLIENT_NOT_FOUND');
    if (host.account(name)) return undefined; // hosted here: the route answers "client already exists"
    const raw = settingsOf(p);
    host.checkStart(name, raw);
    const wanted = p['worker'] || undefined;
    const loads = await this.#db(() => workerLoads(this.#d.pool, this.#d.deadAfterMs));
    let target = loads.find((w) => w.live);
    if (wanted !== undefined) {
      target = loads.find((w) => w.workerId === wanted);
      if (!target) throw owxError('OWX_ERR_CLUSTER_WORKER', [JSON.stringify(wanted), 'no such controller in the cluster']);
      if (!target.live && wanted !== this.#d.workerId) {
        throw owxError('OWX_ERR_CLUSTER_WORKER', [JSON.stringify(wanted), `not live (no heartbeat within ${this.#d.deadAfterMs} ms)`]);
      }
    }
    if (target && target.workerId !== this.#d.workerId) {
      const owner = await this.#db(() => ownerOf(this.#d.pool, name, this.#d.deadAfterMs));
      if (owner) return reply.send(startAnswer(name, raw, true));
      if (req.headers[FORWARDED_HEADER] !== undefined) throw owxError('OWX_ERR_FORWARD_LOOP', [name]);
      return this.#d.forwarder.forward(req, reply, { client: name, workerId: target.workerId, advertiseUrl: target.advertiseUrl }, { worker: target.workerId });
    }
    const epoch = await this.#db(() => this.#d.lease.create(name, raw));
    if (epoch === null) return reply.send(startAnswer(name, raw, true));
    const existed = await this.#d.startLocal(name, raw, epoch, null, true);
    return reply.send(startAnswer(name, raw, existed));
  }

  async stopClient(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const host = this.#d.host();
    const name = req.owx.params['client'];
    if (name === undefined || name === '') throw owxError('OWX_ERR_CLIENT_NOT_FOUND');
    const answer = { client: name, account: name, pid: process.pid, code: 0, status: 'success' };
    const local = this.#d.localFence(name);
    if (local && host.account(name)) {
      await host.stopClient(name);
      try {
        await this.#d.removeStopped(name, local.epoch);
      } catch (err) {
        throw owxError('OWX_ERR_CLUSTER_REMOVE_PENDING', [name, (err as Error).message], { cause: err });
      }
      this.#d.logger.info({ account: name }, 'account stopped and removed from the cluster');
      return reply.send(answer);
    }
    const owner = await this.#db(() => ownerOf(this.#d.pool, name, this.#d.deadAfterMs));
    if (!owner) return undefined; // not in the cluster: the route answers (client not exists, or a local one)
    if (owner.worker && owner.worker !== this.#d.workerId && owner.leased && owner.workerLive && owner.advertiseUrl) {
      if (req.headers[FORWARDED_HEADER] !== undefined) throw owxError('OWX_ERR_FORWARD_LOOP', [name]);
      return this.#d.forwarder.forward(req, reply, { client: name, workerId: owner.worker, advertiseUrl: owner.advertiseUrl });
    }
    // Nobody runs it (its owner died, or it waits to be claimed): removed here.
    const r = await this.#db(() =>
      this.#d.pool.query('DELETE FROM openwx_accounts WHERE client = $1 AND (lease_until IS NULL OR lease_until < now() OR worker = $2)', [name, this.#d.workerId]),
    );
    if (!r.rowCount) throw owxError('OWX_ERR_FORWARD_LOOP', [name]);
    this.#d.logger.info({ account: name }, 'account (not running anywhere) removed from the cluster');
    return reply.send(answer);
  }

  async checkClient(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const host = this.#d.host();
    const name = req.owx.params['client'] || undefined;
    const r = await this.#db(() =>
      this.#d.pool.query<{
        client: string; worker: string | null; state: string; start_time: string; user_id: string | null; user_name: string | null; user_displayname: string | null;
      }>(
        `SELECT client, worker, state, start_time, user_id, user_name, user_displayname FROM openwx_accounts
          ${name !== undefined ? 'WHERE client = $1' : ''} ORDER BY added_at, client`,
        name !== undefined ? [name] : [],
      ),
    );
    const now = Math.floor(Date.now() / 1000);
    const entries = r.rows.map((row) => {
      const a = host.account(row.client);
      if (a && this.#d.isLocal(row.client)) return { ...clientEntry(a, now), worker: this.#d.workerId };
      const start = Number(row.start_time) || 0;
      return {
        client: row.client,
        account: row.client,
        state: row.state,
        start_time: start,
        runtime: start ? Math.max(0, now - start) : 0,
        ...(row.state === 'running' && row.user_id ? { user_id: row.user_id, user_name: row.user_name ?? '', user_displayname: row.user_displayname ?? '' } : {}),
        worker: row.worker,
      };
    });
    if (name !== undefined && entries.length === 0) throw owxError('OWX_ERR_CLIENT_NOT_EXISTS');
    return reply.send({ code: 0, client: entries });
  }

  /**
   * An account route: answered here when this controller runs the account, else forwarded to its owner. While the
   * account changes owner (no live owner yet, or placed here and still starting, or the owner asked refused: it no
   * longer runs it) the request waits up to `ownerWaitMs` for the new owner, looking again every
   * `ownerPollIntervalMs`: nothing has been done for it yet, so nothing is repeated. A request forwarded TO this
   * controller for an account another one runs is refused at once (OWX_ERR_FORWARD_LOOP marked REFUSED_HEADER): its
   * sender does the waiting.
   */
  async accountRoute(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const host = this.#d.host();
    const name = req.owx.params['client'];
    if (name === undefined || name === '' || host.account(name)) return undefined;
    const forwarded = req.headers[FORWARDED_HEADER] !== undefined;
    const until = Date.now() + this.#d.ownerWaitMs;
    for (;;) {
      const owner = await this.#db(() => ownerOf(this.#d.pool, name, this.#d.deadAfterMs));
      if (!owner || host.account(name)) return undefined; // the host answers: not in the cluster, or started here meanwhile
      const mine = owner.worker === this.#d.workerId;
      if (owner.worker && !mine && owner.leased && owner.workerLive && owner.advertiseUrl) {
        if (forwarded) return this.#refuse(reply, owxError('OWX_ERR_FORWARD_LOOP', [name]));
        if (await this.#d.forwarder.forwardRefusable(req, reply, { client: name, workerId: owner.worker, advertiseUrl: owner.advertiseUrl })) return reply;
        // The owner asked no longer runs it and did nothing: look for the new one.
      } else if (forwarded && !(mine && owner.leased)) {
        return this.#refuse(reply, owxError('OWX_ERR_FORWARD_LOOP', [name]));
      }
      if (Date.now() >= until) throw owxError('OWX_ERR_OWNER_MOVING', [name, this.#d.ownerWaitMs]);
      await delay(Math.max(1, Math.min(this.#d.ownerPollIntervalMs, until - Date.now())), undefined, { signal: this.#d.signal }).catch(() => {
        throw owxError('OWX_ERR_OWNER_MOVING', [name, this.#d.ownerWaitMs]);
      });
    }
  }

  /** Answers a forwarded request that was not acted on, marked so that its sender may send it to the new owner. */
  #refuse(reply: FastifyReply, err: OpenwxError): FastifyReply {
    return reply.code(err.statusCode).header(REFUSED_HEADER, '1').send(errorBody(err));
  }
}
