/**
 * A paused controller (SIGSTOP past its lease, then SIGCONT) does not act: while it is stopped another controller
 * takes its account over (new epoch) and resumes the stored session; resumed, the old one stops the account at its
 * first step (no sync, no send, no write with its stale epoch), and from then on forwards the account's routes to
 * the new owner. Real controller processes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postgresForFile } from '../helpers/postgres.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { control, UrlReceiver, usersSandbox } from '../host/helpers.ts';
import { rows } from './helpers.ts';
import { spawnController, type ControllerProcess } from './processes.ts';

const server = postgresForFile();

test('SIGSTOP past the lease, then SIGCONT: the old owner does not sync, send or write; the new owner has the account', async () => {
  const url = await server.createDatabase();
  const sb = await usersSandbox(1);
  const r1 = await new UrlReceiver().start();
  const r2 = await new UrlReceiver().start();
  const cs: ControllerProcess[] = [];
  try {
    const p1 = await spawnController('p1', { databaseUrl: url, wechatOrigin: sb.url, postApi: r1.url });
    cs.push(p1);
    const p2 = await spawnController('p2', { databaseUrl: url, wechatOrigin: sb.url, postApi: r2.url });
    cs.push(p2);
    const entry = async (c: ControllerProcess) => (await c.call('check_client', { client: 'alice' })).json?.client?.[0];
    assert.equal((await p2.call('start_client', { client: 'alice', worker: 'p1' })).json.status, 'success');
    await waitFor(async () => (await entry(p2))?.state === 'scaning', 'QR', 30_000, 50);
    assert.equal((await control(sb, 'POST', 'confirm', { user: 'wxid_user1' })).status, 200);
    await waitFor(async () => (await entry(p2))?.state === 'running', 'alice running on p1', 30_000, 50);
    await control(sb, 'POST', 'messages', { user: 'wxid_user1', type: 'text', from: 'Ann', content: 'before the pause' });
    await r1.waitFor((p) => p.json?.content === 'before the pause', 'p1 delivers before the pause');
    const epoch1 = Number((await rows(url, "SELECT epoch FROM openwx_accounts WHERE client = 'alice'"))[0].epoch);

    p1.kill('SIGSTOP');
    let resumed = false;
    try {
      await waitFor(async () => {
        const e = await entry(p2);
        return e?.worker === 'p2' && e.state === 'running';
      }, 'p2 runs alice while p1 is stopped', 30_000, 50);
      const epoch2 = Number((await rows(url, "SELECT epoch FROM openwx_accounts WHERE client = 'alice'"))[0].epoch);
      assert.ok(epoch2 > epoch1);
      for (let i = 1; i <= 3; i++) await control(sb, 'POST', 'messages', { user: 'wxid_user1', type: 'text', from: 'Ann', content: `paused ${i}` });
      await r2.waitFor((p) => p.json?.content === 'paused 3', 'p2 delivers while p1 is stopped');
      p1.kill('SIGCONT');
      resumed = true;
    } finally {
      if (!resumed) p1.kill('SIGCONT');
    }
    // A send arriving at the old owner right after it resumes: refused (lease lost) or forwarded to p2, never sent twice.
    const send = await p1.call('send_friend_message', { client: 'alice', displayname: 'Ann', content: 'sent after resume' });
    const forwarded = send.json.code === 0;
    if (forwarded) assert.equal(send.headers['x-openwx-forwarded'], 'p2', 'only the new owner sends');
    else assert.match(send.json.status, /lease lost|client stopped/, 'refused by the old owner, which is stopping the account');
    // The old owner lets the account go (its check_client shows it as p2's, without its own outbox figures).
    await waitFor(async () => {
      const e = await entry(p1);
      return e?.worker === 'p2' && !('outbox_depth' in e);
    }, 'p1 unhosts alice', 15_000, 50);
    for (let i = 1; i <= 3; i++) await control(sb, 'POST', 'messages', { user: 'wxid_user1', type: 'text', from: 'Ann', content: `resumed ${i}` });
    await r2.waitFor((p) => p.json?.content === 'resumed 3', 'p2 delivers after p1 resumed');
    const again = await p1.call('send_friend_message', { client: 'alice', displayname: 'Ann', content: 'sent via p1' });
    assert.equal(again.json.code, 0, again.text);
    assert.equal(again.headers['x-openwx-forwarded'], 'p2');

    // Nothing of the old owner after the pause: no report at its post_api, every message in the log once, the
    // session row written by the new epoch, each send once.
    const late = r1.posts.filter((p) => /^(paused|resumed) /.test(p.json?.content ?? ''));
    assert.deepEqual(late, [], 'p1 synced nothing after its lease ran out');
    const logged = (await rows(url, "SELECT report->>'content' AS c FROM openwx_events WHERE client = 'alice' AND report->>'post_type' = 'receive_message' ORDER BY id")).map((x) => x.c);
    assert.deepEqual(logged, ['before the pause', 'paused 1', 'paused 2', 'paused 3', 'resumed 1', 'resumed 2', 'resumed 3']);
    const epochNow = Number((await rows(url, "SELECT epoch FROM openwx_accounts WHERE client = 'alice'"))[0].epoch);
    assert.equal(Number((await rows(url, "SELECT epoch FROM openwx_sessions WHERE client = 'alice'"))[0].epoch), epochNow);
    const sent = (await control(sb, 'GET', 'sent')).json as any[];
    assert.equal(sent.filter((m) => m.Content === 'sent after resume').length, forwarded ? 1 : 0);
    assert.equal(sent.filter((m) => m.Content === 'sent via p1').length, 1);
    assert.match(p1.log(), /lease lost/);
  } finally {
    for (const c of cs) {
      c.kill('SIGCONT');
      c.kill('SIGKILL');
    }
    await Promise.all(cs.map((c) => c.exited));
    await sb.close();
    await r1.stop();
    await r2.stop();
  }
});
