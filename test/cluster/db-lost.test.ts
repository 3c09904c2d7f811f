/**
 * The control plane's transactions (src/cluster/db.ts inTransaction: claims, placement; schema.ts migrate) when the
 * connection is cut in the middle: the transaction fails with an error its caller handles, the process does not
 * crash (pg emits 'error' on a checked-out client, which the pool no longer listens to), and the broken connection is
 * not handed out again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { inTransaction } from '../../src/cluster/db.ts';
import { migrate } from '../../src/cluster/schema.ts';
import { cutter, postgresForFile } from '../helpers/postgres.ts';

const server = postgresForFile();

test('inTransaction: a connection cut mid-transaction rejects the call, no crash; the next transaction runs on a new connection', async () => {
  const direct = await server.createDatabase('owx_db_lost');
  const proxy = await cutter(direct, 'owx_cut_here');
  const pool = new pg.Pool({ connectionString: proxy.url, max: 1 });
  pool.on('error', () => undefined); // idle-client errors, as openPool logs them
  try {
    await assert.rejects(
      inTransaction(pool, async (c) => {
        await c.query('SELECT 1');
        await c.query("SELECT 'owx_cut_here'");
      }),
    );
    assert.equal(proxy.cuts(), 1);
    // The pool (max 1) gives a working connection next: the broken one was not returned to it.
    const n = await inTransaction(pool, async (c) => (await c.query<{ n: number }>('SELECT 2 AS n')).rows[0]!.n);
    assert.equal(n, 2);
  } finally {
    await pool.end();
    await proxy.close();
  }
});

test('migrate: a connection cut while migrating rejects, no crash; a later migrate completes', async () => {
  const direct = await server.createDatabase('owx_db_lost_migrate');
  const proxy = await cutter(direct, 'openwx_schema_migrations (version, name)');
  const pool = new pg.Pool({ connectionString: proxy.url, max: 1 });
  pool.on('error', () => undefined);
  try {
    await assert.rejects(migrate(pool));
    assert.equal(proxy.cuts(), 1);
  } finally {
    await pool.end();
    await proxy.close();
  }
  const ok = new pg.Pool({ connectionString: direct, max: 1 });
  try {
    const r = await migrate(ok);
    assert.ok(r.version > 0);
  } finally {
    await ok.end();
  }
});
