/**
 * An account route for an account that is changing owner: it waits (up to forward_owner_wait_ms) for the new owner
 * and gets the new owner's answer, instead of OWX_ERR_FORWARD_FAILED; nobody taking the account within the wait gets
 * OWX_ERR_OWNER_MOVING (nothing was done); a forwarded request reaching a controller that does not run the account
 * is refused marked X-Openwx-Forward-Refused (its sender may send it to the new owner: it was not carried out).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postgresForFile } from '../helpers/postgres.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { control, usersSandbox } from '../host/helpers.ts';
import { entry, loginAs, rows, startClusterController, type ClusterController } from './helpers.ts';

const server = postgresForFile();

test('a request for an account whose owner lost it waits for the new owner and gets its answer', async () => {
  const url = await server.createDatabase();
  const sb = await usersSandbox(1);
  const cs: ClusterController[] = [];
  try {
    for (const id of ['w1', 'w2', 'w3']) cs.push(await startClusterController(sb, url, id, {}, { forwardOwnerWaitMs: 20_000 }));
    const [w1, , w3] = cs as [ClusterController, ClusterController, ClusterController];
    assert.equal((await w1.call('start_client', { client: 'alice', worker: 'w1' })).json.status, 'success');
    await waitFor(async () => (await entry(w3, 'alice'))?.state === 'scaning', 'alice runs on w1 (shows a QR)', 20_000, 30);
    // Its lease is gone (as when w1 dies): w1 stops it at its next renewal, and a controller claims it.
    await rows(url, "UPDATE openwx_accounts SET lease_until = NULL WHERE client = 'alice'");
    const r = await w3.call('get_client_info', { client: 'alice' });
    assert.equal(r.json.code, 0, r.text);
    const owner = (await rows(url, "SELECT worker FROM openwx_accounts WHERE client = 'alice'"))[0].worker as string;
    assert.ok(cs.find((c) => c.id === owner)?.host.account('alice'), `${owner} runs alice`);
    assert.equal(r.headers['x-openwx-forwarded'], owner === 'w3' ? undefined : owner, 'answered by the new owner');
  } finally {
    for (const c of cs) await c.close().catch(() => undefined);
    await sb.close();
  }
});

test('no owner within forward_owner_wait_ms: OWX_ERR_OWNER_MOVING; a forwarded request for an account run elsewhere is refused, marked', async () => {
  const url = await server.createDatabase();
  const sb = await usersSandbox(1);
  const cs: ClusterController[] = [];
  try {
    for (const id of ['v1', 'v2']) cs.push(await startClusterController(sb, url, id, {}, { forwardOwnerWaitMs: 300 }));
    const [v1, v2] = cs as [ClusterController, ClusterController];
    // Held by a controller that stopped heartbeating, its lease still running: nobody may take it yet.
    await rows(url, "INSERT INTO openwx_workers (worker_id, advertise_url, started, heartbeat) VALUES ('ghost', 'http://127.0.0.1:9', now(), now() - interval '1 hour')");
    await rows(url, "INSERT INTO openwx_accounts (client, worker, epoch, lease_until) VALUES ('zoe', 'ghost', nextval('openwx_epoch_seq'), now() + interval '1 hour')");
    const t0 = Date.now();
    const r = await v1.call('get_client_info', { client: 'zoe' });
    assert.equal(r.status, 503, r.text);
    assert.equal(r.json.code, -1);
    assert.match(r.json.status, /^client zoe is moving between controllers \(no controller ran it within 300 ms\)/);
    assert.ok(Date.now() - t0 >= 300, 'it waited');

    assert.equal((await v1.call('start_client', { client: 'alice', worker: 'v1' })).json.status, 'success');
    const loop = await v2.call('get_client_info', { client: 'alice' }, 'query', { 'x-openwx-forwarded': 'v1' });
    assert.equal(loop.json.code, -1);
    assert.match(loop.json.status, /does not own it/);
    assert.equal(loop.headers['x-openwx-forward-refused'], '1');
    // Not forwarded: answered by the owner.
    const via = await v2.call('get_client_info', { client: 'alice' });
    assert.deepEqual([via.json.code, via.headers['x-openwx-forwarded']], [0, 'v1']);
  } finally {
    for (const c of cs) await c.close().catch(() => undefined);
    await sb.close();
  }
});

test('an owner that refuses a forwarded request (it no longer runs the account) does not end it: the sender sends it to the owner the database names now, once', async () => {
  const url = await server.createDatabase();
  const sb = await usersSandbox(1);
  const cs: ClusterController[] = [];
  // Stands for the old address of u1 (as if u1 had just moved): it refuses, marked, and u1's real address is current
  // again in openwx_workers by the time its answer arrives.
  const hits: string[] = [];
  const fake = createServer((req, res) => {
    hits.push(`${req.method} ${req.url} from ${String(req.headers['x-openwx-forwarded'])}`);
    void rows(url, "UPDATE openwx_workers SET advertise_url = $1 WHERE worker_id = 'u1'", [cs[0]!.base]).then(() => {
      res.writeHead(503, { 'content-type': 'application/json', 'x-openwx-forward-refused': '1' });
      res.end(JSON.stringify({ code: -1, status: 'client alice: a forwarded request reached a controller that does not own it (ownership is moving; try again)' }));
    });
  });
  await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
  try {
    // u1 heartbeats (and so rewrites its advertise_url) only at its start: the test alone changes the address.
    cs.push(await startClusterController(sb, url, 'u1', {}, { heartbeatIntervalMs: 600_000, claimIntervalMs: 600_000, workerDeadAfterMs: 600_000 }));
    cs.push(await startClusterController(sb, url, 'u2', {}, { workerDeadAfterMs: 600_000, forwardOwnerWaitMs: 3_000 }));
    const [u1, u2] = cs as [ClusterController, ClusterController];
    assert.equal((await u1.call('start_client', { client: 'alice', worker: 'u1' })).json.status, 'success');
    await loginAs(sb, u1, 'alice', 'wxid_user1');
    await rows(url, "UPDATE openwx_workers SET advertise_url = $1 WHERE worker_id = 'u1'", [`http://127.0.0.1:${(fake.address() as AddressInfo).port}`]);
    const r = await u2.call('send_friend_message', { client: 'alice', displayname: 'Ann', content: 'once' });
    assert.deepEqual(hits, ['GET /openwx/send_friend_message?client=alice&displayname=Ann&content=once from u2'], 'the refusing address was asked once');
    assert.deepEqual([r.json.code, r.headers['x-openwx-forwarded']], [0, 'u1'], r.text);
    // Whatever u2 might still do for that request, it does within its wait (3 s): a request started after it and
    // waiting as long for an account nobody may take (held by a dead controller's unexpired lease) ends after it.
    await rows(url, "INSERT INTO openwx_workers (worker_id, advertise_url, started, heartbeat) VALUES ('ghost', 'http://127.0.0.1:9', now(), now() - interval '1 hour')");
    await rows(url, "INSERT INTO openwx_accounts (client, worker, epoch, lease_until) VALUES ('zoe', 'ghost', nextval('openwx_epoch_seq'), now() + interval '1 hour')");
    assert.match((await u2.call('get_client_info', { client: 'zoe' })).json.status, /^client zoe is moving/);
    const sent = (await control(sb, 'GET', 'sent?user=wxid_user1')).json as any[];
    assert.equal(sent.filter((m) => m.Content === 'once').length, 1, 'sent once: the answered forward is not repeated');
  } finally {
    fake.close();
    for (const c of cs) await c.close().catch(() => undefined);
    await sb.close();
  }
});
