/**
 * stop_client in a cluster when PostgreSQL cannot delete the account's row: the account is stopped at once, the
 * answer says its removal is pending, the controller keeps its lease (no other controller starts it again) and
 * deletes the row on a later heartbeat.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cutter, postgresForFile } from '../helpers/postgres.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { usersSandbox } from '../host/helpers.ts';
import { loginAs, rows, startClusterController, type ClusterController } from './helpers.ts';

const server = postgresForFile();

test('stop_client whose DELETE fails: stopped at once, removal pending (clear error), the row deleted on a later heartbeat; no other controller starts it', async () => {
  const url = await server.createDatabase();
  // r1's connections cut the first time they send the DELETE of a stopped account (PostgreSQL gone for that moment)
  const proxy = await cutter(url, 'DELETE FROM openwx_accounts WHERE client = $1 AND epoch = $2', 1);
  const sb = await usersSandbox(1);
  const cs: ClusterController[] = [];
  try {
    cs.push(await startClusterController(sb, proxy.url, 'r1'), await startClusterController(sb, url, 'r2'));
    const [r1, r2] = cs as [ClusterController, ClusterController];
    assert.equal((await r1.call('start_client', { client: 'alice', worker: 'r1' })).json.status, 'success');
    await loginAs(sb, r1, 'alice', 'wxid_user1');

    const stop = await r1.call('stop_client', { client: 'alice' });
    assert.equal(proxy.cuts(), 1);
    assert.equal(stop.json.code, -1, JSON.stringify(stop.json));
    assert.match(stop.json.status, /client alice is stopped on this controller, but removing it from the cluster failed .*retried/);
    assert.equal(r1.host.account('alice'), undefined, 'stopped at once');

    await waitFor(async () => (await rows(url, "SELECT 1 FROM openwx_accounts WHERE client = 'alice'")).length === 0, 'the row deleted by a later heartbeat');
    assert.equal((await r2.call('check_client', { client: 'alice' })).json.status, 'client not exists');
    assert.equal(r2.host.account('alice'), undefined, 'not started elsewhere meanwhile');
    assert.equal(r1.host.account('alice'), undefined);
  } finally {
    for (const c of cs) await c.close().catch(() => undefined);
    await sb.close();
    await proxy.close();
  }
});
