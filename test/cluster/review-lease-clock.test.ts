/**
 * Review (issue 13): the local lease deadline must also hold across a SYSTEM SUSPEND. Linux's CLOCK_MONOTONIC (what
 * performance.now() reads) does not advance while the machine sleeps, so a controller suspended past its leases (a
 * laptop lid, a hibernated VM) resumed with every deadline apparently still ahead: its sync step and queued sends went
 * to WeChat until the next renewal round found the leases gone. The wall clock is set forward on resume, so a lease is
 * now held only while NEITHER clock says its deadline passed (a wall clock set backwards extends nothing: the monotonic
 * deadline still applies).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { pino } from 'pino';
import { migrate } from '../../src/cluster/schema.ts';
import { LeaseKeeper } from '../../src/cluster/lease.ts';
import { postgresForFile } from '../helpers/postgres.ts';

const silent = pino({ level: 'silent' });
const server = postgresForFile();

test('a suspend (monotonic clock frozen, wall clock jumps) ends the right to act; a wall clock set back extends nothing', async () => {
  const pool = new pg.Pool({ connectionString: await server.createDatabase(), max: 2 });
  await migrate(pool);
  try {
    await pool.query("INSERT INTO openwx_accounts (client) VALUES ('alice'), ('bob')");
    const lost: string[] = [];
    // Offsets added to the real clocks: what the machine's clocks read after a suspend or a clock step.
    const mono = { offset: 0 };
    const wall = { offset: 0 };
    const a = new LeaseKeeper({
      pool, workerId: 'A', logger: silent, leaseTtlMs: 3_000, leaseRenewIntervalMs: 500, leaseSafetyMs: 500,
      onLost: (c) => lost.push(c),
      monotonicNow: () => performance.now() + mono.offset,
      wallNow: () => Date.now() + wall.offset,
    });
    assert.ok((await a.acquire('alice'))! > 0);
    assert.ok((await a.acquire('bob'))! > 0);
    assert.equal(a.mayAct('alice'), true);

    // The wall clock is set back a minute: the monotonic deadline still rules (nothing is extended).
    wall.offset = -60_000;
    mono.offset = 10_000;
    assert.equal(a.mayAct('bob'), false, 'past the monotonic deadline whatever the wall clock says');
    assert.deepEqual(lost, ['bob']);

    // Suspended for 20 s: the monotonic clock did not move, the wall clock did.
    mono.offset = 0;
    wall.offset = 20_000;
    assert.equal(a.mayAct('alice'), false, 'a machine resumed from a suspend longer than the lease may not act');
    assert.deepEqual(lost, ['bob', 'alice']);
  } finally {
    await pool.end();
  }
});
