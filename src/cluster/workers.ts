/**
 * The controllers of a cluster (`openwx_workers`): each one's id, the URL the others reach its API at, when it
 * started and its heartbeat. A controller is LIVE while its heartbeat is younger than `workerDeadAfterMs` by the
 * database clock. Placement reads the live ones with how many accounts each holds (live leases only).
 */
import type pg from 'pg';

export interface WorkerLoad {
  workerId: string;
  advertiseUrl: string;
  live: boolean;
  /** Accounts it holds by a live lease. */
  accounts: number;
}

export async function heartbeat(q: pg.Pool, workerId: string, advertiseUrl: string, first: boolean): Promise<void> {
  await q.query(
    `INSERT INTO openwx_workers (worker_id, advertise_url, started, heartbeat) VALUES ($1, $2, now(), now())
     ON CONFLICT (worker_id) DO UPDATE SET advertise_url = EXCLUDED.advertise_url, heartbeat = now()${first ? ', started = now()' : ''}`,
    [workerId, advertiseUrl],
  );
}

/** Every known controller with its load, live ones first, least loaded first (ties by id). */
export async function workerLoads(q: pg.Pool | pg.PoolClient, deadAfterMs: number): Promise<WorkerLoad[]> {
  const r = await q.query<{ worker_id: string; advertise_url: string; live: boolean; n: string }>(
    `SELECT w.worker_id, w.advertise_url, w.heartbeat > now() - $1 * interval '1 millisecond' AS live,
            (SELECT count(*) FROM openwx_accounts a WHERE a.worker = w.worker_id AND a.lease_until > now()) AS n
       FROM openwx_workers w
      ORDER BY live DESC, n, w.worker_id`,
    [deadAfterMs],
  );
  return r.rows.map((x) => ({ workerId: x.worker_id, advertiseUrl: x.advertise_url, live: x.live, accounts: Number(x.n) }));
}

export interface Owner {
  worker: string | null;
  epoch: number;
  /** Its lease is live (by the database clock). */
  leased: boolean;
  advertiseUrl: string | null;
  /** The owner's heartbeat is live. */
  workerLive: boolean;
}

/** Who holds `client` (null: no such account in the cluster). */
export async function ownerOf(q: pg.Pool, client: string, deadAfterMs: number): Promise<Owner | null> {
  const r = await q.query<{ worker: string | null; epoch: string; leased: boolean; advertise_url: string | null; live: boolean | null }>(
    `SELECT a.worker, a.epoch, coalesce(a.lease_until > now(), false) AS leased, w.advertise_url,
            w.heartbeat > now() - $2 * interval '1 millisecond' AS live
       FROM openwx_accounts a LEFT JOIN openwx_workers w ON w.worker_id = a.worker
      WHERE a.client = $1`,
    [client, deadAfterMs],
  );
  const x = r.rows[0];
  if (!x) return null;
  return { worker: x.worker, epoch: Number(x.epoch), leased: x.leased, advertiseUrl: x.advertise_url, workerLive: x.live === true };
}

/** Accounts without a live lease and every controller's load, from ONE statement (one snapshot: nothing counted twice). */
export async function claimView(q: pg.Pool, deadAfterMs: number): Promise<{ free: number; loads: WorkerLoad[] }> {
  const r = await q.query<{ worker_id: string | null; advertise_url: string | null; live: boolean | null; n: string | null; free: string }>(
    `WITH free AS (SELECT count(*) AS free FROM openwx_accounts WHERE lease_until IS NULL OR lease_until < now())
     SELECT w.worker_id, w.advertise_url, w.heartbeat > now() - $1 * interval '1 millisecond' AS live,
            (SELECT count(*) FROM openwx_accounts a WHERE a.worker = w.worker_id AND a.lease_until > now()) AS n, free.free
       FROM free LEFT JOIN openwx_workers w ON true`,
    [deadAfterMs],
  );
  const free = Number(r.rows[0]?.free ?? 0);
  const loads = r.rows
    .filter((x) => x.worker_id !== null)
    .map((x) => ({ workerId: x.worker_id!, advertiseUrl: x.advertise_url ?? '', live: x.live === true, accounts: Number(x.n) }));
  return { free, loads };
}
