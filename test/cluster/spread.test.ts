/**
 * A controller leaving frees its accounts and NOTIFYs: the others take ALL of them in that one claim round, each up
 * to its fair share in parallel (before, each took one and waited for its next period: 30 accounts of a dead
 * controller took 37 s to move with the default timings).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox } from '../../src/sandbox/index.ts';
import { postgresForFile } from '../helpers/postgres.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { usersWorld } from '../host/helpers.ts';
import { rows, startClusterController, type ClusterController } from './helpers.ts';

const server = postgresForFile();

test("a leaving controller's accounts are all taken in one claim round, spread evenly", async () => {
  const url = await server.createDatabase();
  const sb = await startSandbox({ port: 0, chatter: false, longPollMs: 300, autoLoginMs: 50, world: usersWorld(6) });
  const cs: ClusterController[] = [];
  // Periodic claims every minute only: what moves within the test moved in the round the NOTIFY started.
  const slow = { heartbeatIntervalMs: 60_000, claimIntervalMs: 60_000, workerDeadAfterMs: 120_000 };
  try {
    cs.push(...(await Promise.all(['s1', 's2', 's3'].map((id) => startClusterController(sb, url, id, {}, slow)))));
    const [s1, s2] = cs as [ClusterController, ClusterController, ClusterController];
    for (let i = 1; i <= 6; i++) assert.equal((await s2.call('start_client', { client: `a${i}`, worker: 's1' })).json.status, 'success');
    const all = async () => (await s2.call('check_client')).json.client as any[];
    await waitFor(async () => (await all()).every((e) => e.state === 'running' && e.worker === 's1'), 'six accounts running on s1', 30_000, 50);
    await s1.close();
    cs.shift();
    await waitFor(async () => (await all()).every((e) => e.state === 'running' && e.worker !== 's1'), "s1's accounts running on s2 and s3", 15_000, 50);
    const per = (await rows(url, 'SELECT worker, count(*)::int AS n FROM openwx_accounts GROUP BY worker ORDER BY worker')).map((r) => [r.worker, r.n]);
    assert.deepEqual(per, [['s2', 3], ['s3', 3]]);
  } finally {
    for (const c of cs) await c.close().catch(() => undefined);
    await sb.close();
  }
});

test("a settings file's clients join the cluster once, whichever controllers list them; the least loaded take them", async () => {
  const url = await server.createDatabase();
  const sb = await startSandbox({ port: 0, chatter: false, longPollMs: 300, autoLoginMs: 50, world: usersWorld(2) });
  const cs: ClusterController[] = [];
  try {
    const clients = [{ client: 'boot1' }, { client: 'boot2', send_interval_ms: 5 }];
    cs.push(...(await Promise.all(['i1', 'i2'].map((id) => startClusterController(sb, url, id, { clients })))));
    const all = async () => (await cs[0]!.call('check_client')).json.client as any[];
    await waitFor(async () => {
      const l = await all();
      return l.length === 2 && l.every((e) => e.state === 'running');
    }, 'both listed accounts running', 30_000, 50);
    const placed = await rows(url, 'SELECT client, worker, settings FROM openwx_accounts ORDER BY client');
    assert.deepEqual(placed.map((r) => r.client), ['boot1', 'boot2']);
    assert.deepEqual(placed[1].settings, { send_interval_ms: '5' });
    assert.notEqual(placed[0].worker, placed[1].worker, 'one each');
  } finally {
    for (const c of cs) await c.close().catch(() => undefined);
    await sb.close();
  }
});
