import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { pino } from 'pino';
import { migrate } from '../../src/cluster/schema.ts';
import { LeaseKeeper } from '../../src/cluster/lease.ts';
import { PgSessionStore } from '../../src/store/pg/session-store.ts';
import { isOpenwxError } from '../../src/errors.ts';
import { blackholer, postgresForFile } from '../helpers/postgres.ts';
import { waitFor } from '../helpers/wait-for.ts';

const silent = pino({ level: 'silent' });
const server = postgresForFile();

async function db(): Promise<pg.Pool> {
  const pool = new pg.Pool({ connectionString: await server.createDatabase(), max: 4 });
  await migrate(pool);
  return pool;
}

function keeper(pool: pg.Pool, workerId: string, lost: string[], clock?: { now: number }) {
  return new LeaseKeeper({
    pool, workerId, logger: silent, leaseTtlMs: 1_500, leaseRenewIntervalMs: 200, leaseSafetyMs: 200,
    onLost: (c) => lost.push(c),
    ...(clock ? { monotonicNow: () => performance.now() + clock.now } : {}),
  });
}

const snap = (uin: string) => ({ session: { uin } as never, lastUin: uin });

test('one holder at a time; each acquisition bumps the epoch; a stale holder is stopped at its local deadline and its writes are refused', async () => {
  const pool = await db();
  try {
    await pool.query("INSERT INTO openwx_accounts (client) VALUES ('alice')");
    const lostA: string[] = [];
    const lostB: string[] = [];
    const pausedA = { now: 0 };
    const a = keeper(pool, 'A', lostA, pausedA);
    const b = keeper(pool, 'B', lostB);
    const epochA = await a.acquire('alice');
    assert.ok(epochA! > 0);
    assert.equal(await b.acquire('alice'), null, 'a live lease is not taken');
    assert.equal(a.mayAct('alice'), true);
    const storeA = new PgSessionStore({ pool, fence: a.fence('alice')!, initial: null });
    await storeA.save(snap('1'));
    await storeA.saveStableIds({ ids: ['x'] });

    // A is "paused": its monotonic clock jumps past the lease. It may not act, and reports the loss once.
    pausedA.now = 10_000;
    assert.equal(a.mayAct('alice'), false);
    assert.equal(a.mayAct('alice'), false);
    assert.deepEqual(lostA, ['alice']);

    // B takes it once the lease expired by the database clock, with the next epoch.
    const epochB = await waitFor(() => b.acquire('alice'), 'the lease to expire in PostgreSQL', 10_000, 50);
    assert.ok(epochB > epochA!, 'a new epoch at each acquisition');
    const preloaded = await PgSessionStore.preload(pool, 'alice');
    assert.equal((preloaded!.session as { uin: string }).uin, '1', 'the new owner resumes the stored session');
    assert.deepEqual(preloaded!.stableIds, { ids: ['x'] }, 'and keeps the stable ids');

    // The old owner's writes (epoch 1) are refused by PostgreSQL; the new owner's land.
    const fenced: string[] = [];
    const staleStore = new PgSessionStore({ pool, fence: { client: 'alice', epoch: epochA!, workerId: 'A' }, initial: null, onFenced: (w) => fenced.push(w) });
    await assert.rejects(staleStore.save(snap('stale')), (e: unknown) => isOpenwxError(e, 'OWX_ERR_LEASE_LOST'));
    assert.equal(fenced.length, 1);
    const storeB = new PgSessionStore({ pool, fence: b.fence('alice')!, initial: preloaded });
    assert.equal(storeB.load()!.session!.uin, '1');
    await storeB.save(snap('2'));
    const row = (await pool.query('SELECT epoch, session FROM openwx_sessions WHERE client = $1', ['alice'])).rows[0];
    assert.equal(Number(row.epoch), epochB);
    assert.equal(row.session.uin, '2');
    assert.deepEqual(lostB, []);
  } finally {
    await pool.end();
  }
});

test('renewal keeps a lease past its ttl; an owner whose lease was taken finds out at its next renewal', async () => {
  const pool = await db();
  try {
    await pool.query("INSERT INTO openwx_accounts (client) VALUES ('bob'), ('carol')");
    const lostA: string[] = [];
    const a = keeper(pool, 'A', lostA);
    const b = keeper(pool, 'B', []);
    await a.acquire('bob');
    await a.acquire('carol');
    a.start();
    const first = (await pool.query("SELECT lease_until FROM openwx_accounts WHERE client = 'bob'")).rows[0].lease_until as Date;
    // Three ttl's worth of renewals: the lease end keeps moving and B never gets it.
    await waitFor(async () => {
      assert.equal(await b.acquire('bob'), null);
      const now = (await pool.query("SELECT lease_until FROM openwx_accounts WHERE client = 'bob'")).rows[0].lease_until as Date;
      return now.getTime() - first.getTime() > 3 * 1_500;
    }, 'renewals over three lease lengths', 15_000, 100);
    assert.equal(a.mayAct('bob'), true);
    assert.equal(lostA.length, 0);
    // An operator (or a bug) moves carol: A's next renewal sees its epoch is gone and stops carol only.
    await pool.query("UPDATE openwx_accounts SET epoch = epoch + 1, worker = 'B' WHERE client = 'carol'");
    await waitFor(() => lostA.includes('carol'), 'A to notice carol was taken', 5_000);
    assert.deepEqual(lostA, ['carol']);
    assert.equal(a.mayAct('bob'), true);
    await a.stop();
    // Released: another controller takes it at once.
    await a.release('bob');
    assert.ok((await b.acquire('bob'))! > 0);
  } finally {
    await pool.end();
  }
});

test('a renewal that cannot reach PostgreSQL changes nothing: the account stops when its local deadline passes', async () => {
  const pool = await db();
  await pool.query("INSERT INTO openwx_accounts (client) VALUES ('dave')");
  const lost: string[] = [];
  const a = keeper(pool, 'A', lost);
  await a.acquire('dave');
  await pool.end(); // every query fails from now on
  a.start();
  try {
    await waitFor(() => lost.includes('dave'), 'dave to be stopped at its deadline', 5_000);
    assert.equal(a.mayAct('dave'), false);
  } finally {
    await a.stop();
  }
});

test("a takeover puts the row's state back to init: the old owner's last state (running) is not shown under the new owner", async () => {
  const pool = await db();
  try {
    await pool.query("INSERT INTO openwx_accounts (client) VALUES ('erin')");
    const a = keeper(pool, 'A', []);
    const b = keeper(pool, 'B', []);
    const epochA = await a.acquire('erin');
    // A runs it and writes its state (the owner's fenced state write, src/cluster/node.ts); its last write before it
    // dies (or leaves without that write landing) is `running`.
    await pool.query(
      "UPDATE openwx_accounts SET state = 'running', start_time = 1, user_id = 'u1', user_name = 'User1' WHERE client = 'erin' AND epoch = $1 AND worker = 'A'",
      [epochA],
    );
    await a.release('erin');
    const epochB = await b.acquire('erin');
    assert.ok(epochB! > epochA!);
    const row = (await pool.query("SELECT worker, state FROM openwx_accounts WHERE client = 'erin'")).rows[0];
    assert.deepEqual([row.worker, row.state], ['B', 'init'], 'B has not started it yet: a reader must not see it running under B');
  } finally {
    await pool.end();
  }
});

test('renewals on their own pool (the node\'s control connection) are not held up by a data pool whose connections are all busy', async () => {
  const url = await server.createDatabase();
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const control = new pg.Pool({ connectionString: url, max: 1 });
  try {
    await migrate(pool);
    await pool.query("INSERT INTO openwx_accounts (client) VALUES ('alice')");
    const lost: string[] = [];
    const k = new LeaseKeeper({ pool, renewPool: control, workerId: 'A', logger: silent, leaseTtlMs: 1_500, leaseRenewIntervalMs: 200, leaseSafetyMs: 200, onLost: (c) => lost.push(c) });
    assert.ok((await k.acquire('alice')) !== null);
    const until = async () => (await control.query("SELECT lease_until FROM openwx_accounts WHERE client = 'alice'")).rows[0].lease_until as Date;
    const before = await until();
    let slept = false;
    const busy = pool.query('SELECT pg_sleep(3)').then(() => (slept = true)); // the data pool's only connection
    await waitFor(async () => (await control.query("SELECT 1 FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(3)' AND state = 'active'")).rowCount === 1, 'the data pool busy');
    await k.renewNow();
    assert.equal(slept, false, 'renewed while the data pool was still busy');
    assert.ok((await until()).getTime() > before.getTime(), 'the lease was extended');
    assert.deepEqual(lost, []);
    await busy;
    await k.stop();
  } finally {
    await pool.end();
    await control.end();
  }
});

test('a renewal PostgreSQL never answers does not hold back the stop: the account stops at its deadline', async () => {
  // A silent server (halted, a dropped route) answers nothing until the query timeout (10 s by default). The deadline
  // check ran only at the start of a round, and no round began while the last one's UPDATE waited.
  const url = await server.createDatabase();
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const proxy = await blackholer(url);
  const control = new pg.Pool({ connectionString: proxy.url, max: 1 });
  const lost: string[] = [];
  const k = new LeaseKeeper({ pool, renewPool: control, workerId: 'A', logger: silent, leaseTtlMs: 1_500, leaseRenewIntervalMs: 200, leaseSafetyMs: 200, onLost: (c) => lost.push(c) });
  try {
    await migrate(pool);
    await pool.query("INSERT INTO openwx_accounts (client) VALUES ('erin')");
    assert.ok((await k.acquire('erin')) !== null);
    proxy.blackhole();
    k.start();
    await waitFor(() => proxy.attempts() > 0, 'a renewal sent into the silence');
    await waitFor(() => lost.includes('erin'), 'erin to be stopped at her deadline', 5_000);
    assert.equal(k.mayAct('erin'), false);
  } finally {
    await proxy.close(); // the hung renewal fails now, so stop() can return
    await k.stop();
    await pool.end();
    await control.end().catch(() => undefined);
  }
});
