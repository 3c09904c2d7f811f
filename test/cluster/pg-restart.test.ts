/**
 * PostgreSQL restarting under a cluster of two controllers: a restart shorter than the lease is ridden out (leases
 * renewed again, same owner and epoch, reports appended after reconnecting); an outage longer than a lease stops the
 * account at its local deadline, and once PostgreSQL is back it runs again, on one controller only, resumed without a
 * scan.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postgresForFile } from '../helpers/postgres.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { control, usersSandbox } from '../host/helpers.ts';
import { entry, loginAs, rows, startClusterController, type ClusterController } from './helpers.ts';

const server = postgresForFile();

/** Two controllers on a new database and a one-user sandbox; alice started on r1 and logged in. */
async function aliceOnR1(timings: Parameters<typeof startClusterController>[4] = {}) {
  const url = await server.createDatabase();
  const sb = await usersSandbox(1);
  const cs: ClusterController[] = [];
  const running = () => cs.filter((c) => c.host.account('alice')?.client.state === 'running').map((c) => c.id);
  const logged = async (content: string) =>
    (await rows(url, "SELECT 1 FROM openwx_events WHERE client = 'alice' AND report->>'content' = $1", [content])).length;
  const epoch = async () => Number((await rows(url, "SELECT epoch FROM openwx_accounts WHERE client = 'alice'"))[0].epoch);
  const close = async () => {
    for (const c of cs) await c.close().catch(() => undefined);
    await sb.close();
  };
  try {
    cs.push(await startClusterController(sb, url, 'r1', {}, timings), await startClusterController(sb, url, 'r2', {}, timings));
    assert.equal((await cs[0]!.call('start_client', { client: 'alice', worker: 'r1' })).json.status, 'success');
    await loginAs(sb, cs[0]!, 'alice', 'wxid_user1');
  } catch (err) {
    await close();
    throw err;
  }
  return { url, sb, cs, r1: cs[0]!, running, logged, epoch, close };
}

// A restart shorter than the lease is ridden out. The lease here is the default one (15 s): with the tests' 3 s lease
// a restart on a loaded machine (stop + start of the server: seconds) outlasts it, and the account moves, as it should.
test('PostgreSQL restart shorter than the lease: nothing moves (same owner and epoch), reports appended after reconnecting', async (t) => {
  if (!server.embedded) return t.skip('needs the embedded server (restarts it)');
  const leaseTtlMs = 15_000;
  const { sb, r1, running, logged, epoch, close } = await aliceOnR1({ leaseTtlMs, leaseSafetyMs: 1_000 });
  try {
    const before = await epoch();
    const t0 = Date.now();
    await server.restart();
    const restartMs = Date.now() - t0;
    console.log(`# PostgreSQL restart took ${restartMs} ms (lease ${leaseTtlMs} ms)`);
    assert.ok(restartMs < leaseTtlMs - 2_000, `the restart (${restartMs} ms) must be shorter than the lease for this test to mean anything`);
    await control(sb, 'POST', 'messages', { user: 'wxid_user1', type: 'text', from: 'Ann', content: 'after a quick restart' });
    await waitFor(async () => (await logged('after a quick restart').catch(() => 0)) === 1, 'the report appended after reconnecting', 20_000, 100);
    assert.deepEqual(running(), ['r1']);
    assert.equal(await epoch(), before, 'same owner, same epoch');
    assert.equal((await entry(r1, 'alice')).state, 'running');
  } finally {
    await close();
  }
});

test('PostgreSQL down longer than a lease: the account stops at its deadline, then runs again on one controller, resumed without a scan', async (t) => {
  if (!server.embedded) return t.skip('needs the embedded server (restarts it)');
  const { url, sb, cs, running, logged, epoch, close } = await aliceOnR1();
  try {
    const before = await epoch();
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
    assert.ok(Number(after.epoch) > before, 'taken again with a new epoch');
    assert.deepEqual(running(), [after.worker]);
    // The owner writes its state to the accounts table after the change (one write behind its live state): r1 reads
    // the table when r2 is the owner.
    const seen = await waitFor(async () => {
      const e = await entry(cs[0]!, 'alice');
      return e?.state === 'running' ? e : null;
    }, 'alice running as r1 sees it', 15_000, 50);
    assert.equal(seen.user_name, 'User1', 'the same user: resumed without a scan');
    await control(sb, 'POST', 'messages', { user: 'wxid_user1', type: 'text', from: 'Ann', content: 'after the outage' });
    await waitFor(async () => (await logged('after the outage')) === 1, 'reports appended after the outage', 20_000, 100);
  } finally {
    await close();
  }
});
