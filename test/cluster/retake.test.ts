/**
 * An account whose lease lapsed while its controller still hosts it (the row moved under it: here an operator's
 * UPDATE) is stopped there first and only then taken again, by the same controller when it is the only one: it runs
 * again under the new epoch, once (before, the claim could find the old instance still hosted, answer "already
 * hosted", and leave the new lease with nothing running).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postgresForFile } from '../helpers/postgres.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { usersSandbox } from '../host/helpers.ts';
import { entry, loginAs, rows, startClusterController, type ClusterController } from './helpers.ts';

const server = postgresForFile();

test('a lease lapsed under its own controller: unhosted, then taken again with a new epoch and running, without a scan', async () => {
  const url = await server.createDatabase();
  const sb = await usersSandbox(1);
  let c: ClusterController | null = null;
  try {
    // Claims every 0.3 s, renewals every 2.4 s: the claim finds the lapsed row while the old instance still runs.
    c = await startClusterController(sb, url, 'solo', {}, { leaseRenewIntervalMs: 2_400, heartbeatIntervalMs: 300, claimIntervalMs: 300 });
    assert.equal((await c.call('start_client', { client: 'alice' })).json.status, 'success');
    await loginAs(sb, c, 'alice', 'wxid_user1');
    const first = c.host.account('alice')!;
    const epoch = Number((await rows(url, "SELECT epoch FROM openwx_accounts WHERE client = 'alice'"))[0].epoch);
    await rows(url, "UPDATE openwx_accounts SET lease_until = now() - interval '1 second' WHERE client = 'alice'");
    const ctl = c;
    await waitFor(async () => {
      const a = ctl.host.account('alice');
      const row = (await rows(url, "SELECT epoch, worker FROM openwx_accounts WHERE client = 'alice'"))[0];
      return a && a !== first && a.client.state === 'running' && Number(row.epoch) > epoch && row.worker === 'solo';
    }, 'alice running again under a new epoch', 20_000, 50);
    assert.equal(first.client.state, 'stop', 'the old instance stopped');
    const e = await entry(c, 'alice');
    assert.deepEqual([e.state, e.worker, e.user_name], ['running', 'solo', 'User1']);
    // Still held: the lease keeps being renewed under the new epoch.
    const until = async () => new Date((await rows(url, "SELECT lease_until FROM openwx_accounts WHERE client = 'alice'"))[0].lease_until).getTime();
    const t0 = await until();
    await waitFor(async () => (await until()) > t0 + 1_000, 'the new lease renewed', 10_000, 100);
    // Taken exactly once: epochs come from one sequence and nothing else in this database takes one.
    assert.equal(Number((await rows(url, "SELECT epoch FROM openwx_accounts WHERE client = 'alice'"))[0].epoch), epoch + 1);
    assert.equal(c.host.account('alice')!.client.state, 'running');
  } finally {
    await c?.close().catch(() => undefined);
    await sb.close();
  }
});
