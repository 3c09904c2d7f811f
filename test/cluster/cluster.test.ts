/**
 * Three controllers sharing one PostgreSQL and one multi-user sandbox, in this process: placement (least loaded, or
 * worker=), check_client listing the whole cluster with each account's worker, every route answered from any
 * controller (forwarded to the owner, its exact answer), three controllers starting at once, a send through a non-owner reaching WeChat once, the event
 * log (openwx_events + NOTIFY), stop_client from anywhere, and a controller leaving: its accounts move to the others
 * and resume their stored session without a scan.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { postgresForFile } from '../helpers/postgres.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { control, UrlReceiver, usersSandbox } from '../host/helpers.ts';
import { entry, loginAs, rows, startClusterController, type ClusterController } from './helpers.ts';

const server = postgresForFile();

test('three controllers: placement, check_client everywhere, forwarded routes, sends once, event log, stop anywhere, failover without a scan', async () => {
  const url = await server.createDatabase();
  const sb = await usersSandbox(3);
  const cs: ClusterController[] = [];
  const listener = new pg.Client({ connectionString: url });
  const receiver = await new UrlReceiver().start();
  try {
    // Three controllers starting at once on a fresh database: one migrates, all join.
    cs.push(...(await Promise.all(['c1', 'c2', 'c3'].map((id) => startClusterController(sb, url, id, { post_api: receiver.url })))));
    assert.deepEqual((await rows(url, 'SELECT worker_id FROM openwx_workers ORDER BY 1')).map((r) => r.worker_id), ['c1', 'c2', 'c3']);
    const [c1, c2, c3] = cs as [ClusterController, ClusterController, ClusterController];
    await listener.connect();
    await listener.query('LISTEN openwx_events');
    const notified: string[] = [];
    listener.on('notification', (n) => notified.push(n.payload ?? ''));

    // Placement: the live controller with the fewest accounts (ties by id), or the one worker= names.
    const a = await c1.call('start_client', { client: 'alice' });
    assert.equal(a.json.status, 'success');
    assert.equal((await entry(c3, 'alice')).worker, 'c1');
    await loginAs(sb, c3, 'alice', 'wxid_user1'); // one QR at a time: the sandbox confirms the newest
    const b = await c1.call('start_client', { client: 'bob', post_event_list: 'login,stop' }, 'json');
    assert.deepEqual([b.json.code, b.json.status, b.json.client, b.json.post_event_list], [0, 'success', 'bob', 'login,stop'], "the owner's answer, forwarded");
    assert.equal(b.headers['x-openwx-forwarded'], 'c2');
    assert.equal((await entry(c1, 'bob')).worker, 'c2');
    assert.equal((await c3.call('start_client', { client: 'bob' })).json.status, 'client already exists');
    const unknown = await c3.call('start_client', { client: 'dave', worker: 'c9' });
    assert.deepEqual(unknown.json, { code: 1, status: 'worker "c9": no such controller in the cluster' });
    const badSetting = await c3.call('start_client', { client: 'dave', post_api: 'ftp://x' });
    assert.equal(badSetting.json.code, 1);
    assert.equal((await rows(url, "SELECT 1 FROM openwx_accounts WHERE client = 'dave'")).length, 0, 'a refused start leaves nothing');

    // The QR of an account, from any controller: the owner's bytes and content type.
    await waitFor(async () => (await entry(c3, 'bob'))?.state === 'scaning', 'bob shows a QR', 20_000, 30);
    const qr3 = await c3.call('get_qrcode', { client: 'bob' });
    const qr2 = await c2.call('get_qrcode', { client: 'bob' });
    assert.equal(qr3.status, 200);
    assert.equal(qr3.headers['content-type'], qr2.headers['content-type']);
    assert.ok(qr3.body.equals(qr2.body), 'the same image bytes');
    await loginAs(sb, c3, 'bob', 'wxid_user2');
    const c = await c2.call('start_client', { client: 'carol', worker: 'c1' }, 'form');
    assert.equal(c.json.status, 'success');
    assert.equal((await entry(c2, 'carol')).worker, 'c1');
    await loginAs(sb, c3, 'carol', 'wxid_user3');

    // check_client on any controller: every account of the cluster with its worker.
    for (const ctl of cs) {
      const list = (await ctl.call('check_client')).json;
      assert.equal(list.code, 0);
      assert.deepEqual(list.client.map((e: any) => [e.client, e.worker, e.state, e.user_name]), [
        ['alice', 'c1', 'running', 'User1'],
        ['bob', 'c2', 'running', 'User2'],
        ['carol', 'c1', 'running', 'User3'],
      ]);
    }
    assert.deepEqual((await c2.call('check_client', { client: 'zed' })).json, { code: 1, status: 'client not exists' });

    // Any route from any controller: the owner's exact answer.
    const direct = await c2.call('get_user_info', { client: 'bob' });
    for (const ctl of [c1, c3]) {
      const via = await ctl.call('get_user_info', { client: 'bob' }, 'json');
      assert.equal(via.status, direct.status);
      assert.equal(via.headers['content-type'], direct.headers['content-type']);
      assert.equal(via.text, direct.text);
    }
    assert.deepEqual((await c1.call('get_user_info', { client: 'zed' })).json, { code: 1, status: 'client not exists' });
    // A forwarded request that lands on a non-owner is refused, not forwarded again (no loops).
    const loop = await c1.call('get_user_info', { client: 'bob' }, 'query', { 'x-openwx-forwarded': 'c3' });
    assert.equal(loop.json.code, -1);
    assert.match(loop.json.status, /does not own it/);

    // A send through a non-owner reaches WeChat once.
    const sent = await c3.call('send_friend_message', { client: 'bob', displayname: 'Ann', content: 'hello via c3' }, 'form');
    assert.equal(sent.json.code, 0, sent.text);
    const log = (await control(sb, 'GET', 'sent?user=wxid_user2')).json as any[];
    assert.equal(log.filter((m) => m.Content === 'hello via c3').length, 1);

    // The event log: bob's reports in order, with their event ids, each NOTIFYed.
    for (let i = 1; i <= 3; i++) await control(sb, 'POST', 'messages', { user: 'wxid_user2', type: 'text', from: 'Ann', content: `to bob ${i}` });
    const events = await waitFor(async () => {
      const r = await rows(url, "SELECT id, event_id, report FROM openwx_events WHERE client = 'bob' AND report->>'post_type' = 'receive_message' ORDER BY id");
      return r.length >= 3 ? r : null;
    }, "bob's messages in openwx_events", 15_000, 50);
    assert.deepEqual(events.map((e) => e.report.content), ['to bob 1', 'to bob 2', 'to bob 3']);
    // post_api works alongside: the same reports, with the same event ids.
    for (const e of events) {
      const p = await receiver.waitFor((x) => x.json?.content === e.report.content, `post_api gets ${e.report.content}`);
      assert.equal(p.headers['x-openwx-event-id'], e.event_id);
      assert.match(p.url, /client=bob/);
    }
    await waitFor(() => events.every((e) => notified.includes(String(e.id))), 'a NOTIFY per row', 15_000);
    const sendEvent = await rows(url, "SELECT report FROM openwx_events WHERE client = 'bob' AND report->>'post_type' = 'send_message'");
    assert.equal(sendEvent[0]?.report.content, 'hello via c3');

    // stop_client from a non-owner: stopped on its owner, removed from the cluster.
    const stopped = await c1.call('stop_client', { client: 'bob' });
    assert.deepEqual([stopped.json.code, stopped.json.status], [0, 'success']);
    assert.equal(c2.host.account('bob'), undefined);
    assert.deepEqual((await c3.call('check_client')).json.client.map((e: any) => e.client), ['alice', 'carol']);
    assert.deepEqual((await c3.call('get_user_info', { client: 'bob' })).json, { code: 1, status: 'client not exists' });

    // c1 leaves: alice and carol move to c2/c3 and resume their stored session (no scan), same user.
    const before = await rows(url, "SELECT client, epoch FROM openwx_accounts WHERE worker = 'c1' ORDER BY client");
    await c1.close();
    cs.shift();
    await waitFor(async () => {
      for (const c of [c2, c3]) {
        const l = (await c.call('check_client')).json.client as any[];
        if (!(l.length === 2 && l.every((e) => e.state === 'running' && (e.worker === 'c2' || e.worker === 'c3')))) return false;
      }
      return true;
    }, 'alice and carol running on c2/c3 (as both see it)', 20_000, 50);
    const moved = (await c2.call('check_client')).json.client as any[];
    assert.deepEqual(moved.map((e) => e.user_name), ['User1', 'User3'], 'the same WeChat users, without a scan');
    assert.notEqual(moved[0].worker, moved[1].worker, 'spread over the least loaded');
    const afterRows = await rows(url, 'SELECT client, epoch FROM openwx_accounts ORDER BY client');
    for (const [i, r] of afterRows.entries()) assert.ok(Number(r.epoch) > Number(before[i].epoch), 'a new epoch at the takeover');
    const users = (await control(sb, 'GET', 'users')).json;
    assert.ok(JSON.stringify(users).length > 0);
    // Messages reach the new owner.
    await control(sb, 'POST', 'messages', { user: 'wxid_user1', type: 'text', from: 'Bob', content: 'after the move' });
    await waitFor(async () => (await rows(url, "SELECT 1 FROM openwx_events WHERE client = 'alice' AND report->>'content' = 'after the move'")).length === 1, 'alice receives after the move', 15_000, 50);
  } finally {
    await listener.end().catch(() => undefined);
    for (const ctl of cs) await ctl.close().catch(() => undefined);
    await sb.close();
    await receiver.stop();
  }
});
