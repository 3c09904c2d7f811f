/**
 * PostgreSQL restarting under a cluster of two controllers: a quick restart is ridden out (leases renewed again,
 * same owner and epoch, reports appended after reconnecting); an outage longer than a lease stops the account at
 * its local deadline, and once PostgreSQL is back it runs again, on one controller only, resumed without a scan.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { control, usersSandbox } from '../host/helpers.ts';
import { entry, loginAs, rows, startClusterController, type ClusterController } from './helpers.ts';

let server: TestPostgres;
before(async () => {
  server = await startTestPostgres();
});
after(async () => {
  await server.stop();
});

test('PostgreSQL restart: a short one changes nothing; a long one stops the account, which then runs again on one controller', async (t) => {
  if (!server.embedded) return t.skip('needs the embedded server (restarts it)');
  const url = await server.createDatabase();
  const sb = await usersSandbox(1);
  const cs: ClusterController[] = [];
  const running = () => cs.filter((c) => c.host.account('alice')?.client.state === 'running').map((c) => c.id);
  const logged = async (content: string) =>
    (await rows(url, "SELECT 1 FROM openwx_events WHERE client = 'alice' AND report->>'content' = $1", [content])).length;
  try {
    cs.push(await startClusterController(sb, url, 'r1'), await startClusterController(sb, url, 'r2'));
    const [r1] = cs as [ClusterController, ClusterController];
    assert.equal((await r1.call('start_client', { client: 'alice', worker: 'r1' })).json.status, 'success');
    await loginAs(sb, r1, 'alice', 'wxid_user1');
    const epoch = Number((await rows(url, "SELECT epoch FROM openwx_accounts WHERE client = 'alice'"))[0].epoch);

    // A quick restart: nothing moves.
    await server.restart();
    await control(sb, 'POST', 'messages', { user: 'wxid_user1', type: 'text', from: 'Ann', content: 'after a quick restart' });
    await waitFor(async () => (await logged('after a quick restart').catch(() => 0)) === 1, 'the report appended after reconnecting', 20_000, 100);
    assert.deepEqual(running(), ['r1']);
    assert.equal(Number((await rows(url, "SELECT epoch FROM openwx_accounts WHERE client = 'alice'"))[0].epoch), epoch, 'same owner, same epoch');
    assert.equal((await entry(r1, 'alice')).state, 'running');

    // An outage longer than a lease: the account stops at its deadline; never two owners.
    await server.halt();
    await waitFor(() => {
      assert.ok(running().length <= 1);
      return running().length === 0;
    }, 'alice stopped when her lease could not be renewed', 15_000, 20);
    await server.resume();
    await waitFor(() => {
      assert.ok(running().length <= 1, `alice runs on ${running().join(', ')}`);
      return running().length === 1;
    }, 'alice running again once PostgreSQL is back', 30_000, 20);
    const after = (await rows(url, "SELECT epoch, worker FROM openwx_accounts WHERE client = 'alice'"))[0];
    assert.ok(Number(after.epoch) > epoch, 'taken again with a new epoch');
    assert.deepEqual(running(), [after.worker]);
    assert.equal((await entry(cs[0]!, 'alice')).user_name, 'User1', 'the same user: resumed without a scan');
    await control(sb, 'POST', 'messages', { user: 'wxid_user1', type: 'text', from: 'Ann', content: 'after the outage' });
    await waitFor(async () => (await logged('after the outage')) === 1, 'reports appended after the outage', 20_000, 100);
  } finally {
    for (const c of cs) await c.close().catch(() => undefined);
    await sb.close();
  }
});
