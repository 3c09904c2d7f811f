/**
 * The cluster's PostgreSQL connections: one `pg.Pool` per controller. A dropped connection or a PostgreSQL restart
 * never crashes the process: the pool's idle-client errors are logged (without the URL's password), the next query
 * opens a new connection, and every caller of a query handles its failure (the lease keeper stops what it can no
 * longer renew; the claimer and the heartbeat retry with backoff). The LISTEN connection is a separate client
 * (src/cluster/listen.ts).
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { printableUrl } from '../security/redact.ts';

export interface ClusterDbOptions {
  /** `postgres://USER:PASS@HOST:PORT/DB` (a secret: never logged). */
  databaseUrl: string;
  logger: Logger;
  /** Most connections of this controller's pool. */
  poolMax?: number | undefined;
  /** A new connection must be up within this. */
  connectTimeoutMs?: number | undefined;
  /** One query must answer within this (server-side statement_timeout and client-side query_timeout). */
  queryTimeoutMs?: number | undefined;
}

export const DEFAULT_POOL_MAX = 10;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_QUERY_TIMEOUT_MS = 10_000;

/** The URL as a log line may show it: host, port and database, never the user's password. */
export function databaseLabel(url: string): string {
  return printableUrl(url);
}

export function connectionConfig(o: ClusterDbOptions): pg.ClientConfig {
  return {
    connectionString: o.databaseUrl,
    connectionTimeoutMillis: o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    query_timeout: o.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS,
    statement_timeout: o.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS,
    application_name: 'openwx',
  };
}

export function openPool(o: ClusterDbOptions): pg.Pool {
  const pool = new pg.Pool({ ...connectionConfig(o), max: o.poolMax ?? DEFAULT_POOL_MAX });
  // An idle client whose connection dropped (PostgreSQL restarted, network cut): logged, then replaced on demand.
  pool.on('error', (err) => o.logger.warn({ db: databaseLabel(o.databaseUrl), err: err.message }, 'PostgreSQL connection lost (idle); a new one is opened at the next query'));
  return pool;
}

/**
 * Runs `fn` in one transaction on one connection of the pool (rolled back if it throws). While the client is checked
 * out the pool no longer listens to its 'error' event: a connection lost mid-transaction (PostgreSQL restarted,
 * network cut) would be an uncaught exception that kills the process. The listener here turns it into the failure
 * of this call, and the broken connection is destroyed instead of going back to the pool.
 */
export async function inTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  let lost: Error | null = null;
  const onError = (err: Error) => {
    lost = err;
  };
  c.on('error', onError);
  try {
    await c.query('BEGIN');
    const out = await fn(c);
    await c.query('COMMIT');
    return out;
  } catch (err) {
    if (!lost) await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    c.off('error', onError);
    c.release(lost ?? undefined);
  }
}
