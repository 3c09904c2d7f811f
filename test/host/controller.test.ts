/**
 * The Controller end to end over real HTTP: its routes and codes (Mojo's Controller-API answers), every other
 * route answered for the account client= names, per-account post_api (client= in the query, X-Openwx-Account),
 * isolation (one account's receiver failing or hanging while the other delivers), stop of one leaving the others,
 * max_clients, and a restart that resumes every account without a scan.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../helpers/wait-for.ts';
import { control, startTestController, UrlReceiver, usersSandbox } from './helpers.ts';

test('controller routes and codes: start_client, stop_client, check_client, get_qrcode, client= resolution, max_clients', async () => {
  const sb = await usersSandbox(3);
  const ctl = await startTestController(sb, { max_clients: 2 });
  try {
    assert.deepEqual((await ctl.call('check_client')).json, { code: 0, client: [] });
    assert.deepEqual((await ctl.call('start_client')).json, { code: 1, status: 'client not found' });
    const bad = await ctl.call('start_client', { client: '../etc' });
    assert.equal(bad.json.code, 1);
    assert.match(bad.json.status, /^invalid client name "\.\.\/etc": it must start with a letter or digit and hold only letters, digits, _ \. @ -$/);
    const long = await ctl.call('start_client', { client: 'a'.repeat(65) }, 'json');
    assert.equal(long.json.code, 1);
    assert.match(long.json.status, /at most 64 characters/);
    const badSetting = await ctl.call('start_client', { client: 'a', post_api: 'ftp://x' });
    assert.deepEqual(badSetting.json, { code: 1, status: 'invalid setting post_api: expected an http(s) URL, got "ftp://x"' });
    const unknown = await ctl.call('start_client', { client: 'a', nope: '1' }, 'form');
    assert.equal(unknown.json.code, 1);
    assert.match(unknown.json.status, /^unknown setting nope \(per-account settings: post_api, /);
    assert.deepEqual((await ctl.call('check_client')).json, { code: 0, client: [] }, 'refused starts leave nothing behind');

    const a = await ctl.call('start_client', { client: 'a', send_interval_ms: '0', post_event_list: 'login,stop' }, 'json');
    assert.equal(a.status, 200);
    assert.equal(a.json.code, 0);
    assert.equal(a.json.status, 'success');
    assert.equal(a.json.client, 'a');
    assert.equal(a.json.send_interval_ms, '0', 'the parameters are echoed');
    const again = await ctl.call('start_client', { client: 'a' }, 'form');
    assert.equal(again.json.code, 0);
    assert.equal(again.json.status, 'client already exists');
    assert.equal((await ctl.call('start_client', { client: 'b.2@x' })).json.status, 'success');
    assert.deepEqual((await ctl.call('start_client', { client: 'c' })).json, { code: 5, status: 'max clients exceed' });

    const list = (await ctl.call('check_client')).json;
    assert.equal(list.code, 0);
    assert.deepEqual(list.client.map((c: any) => c.client), ['a', 'b.2@x']);
    for (const c of list.client) {
      assert.equal(c.account, c.client);
      assert.ok(['init', 'loading', 'scaning', 'confirming', 'updating', 'running'].includes(c.state), c.state);
      assert.equal(typeof c.start_time, 'number');
      assert.equal(typeof c.runtime, 'number');
      assert.equal(c.outbox_depth, 0);
    }
    assert.deepEqual((await ctl.call('check_client', { client: 'zz' })).json, { code: 1, status: 'client not exists' });

    // Every other route needs client=: missing → not found, unknown → not exists, known → that account's answer.
    assert.deepEqual((await ctl.call('get_user_info')).json, { code: 1, status: 'client not found' });
    assert.deepEqual((await ctl.call('get_friend_info', { client: 'zz' }, 'json')).json, { code: 1, status: 'client not exists' });
    const info = await ctl.call('get_client_info', { client: 'a' }, 'form');
    assert.equal(info.json.code, 0);
    assert.equal(info.json.account, 'a');
    assert.deepEqual((await ctl.call('get_qrcode')).json, { code: 1, status: 'client not found' });

    // get_qrcode?client=: the account's own QR while it waits.
    await waitFor(async () => (await ctl.state('a')) === 'scaning', 'a shows a QR', 15_000, 20);
    const qr = await ctl.call('get_qrcode', { client: 'a' });
    assert.equal(qr.status, 200);
    assert.match(String(qr.headers['content-type']), /^image\/(jpeg|png)/);
    assert.ok(qr.body.length > 100);

    assert.deepEqual((await ctl.call('stop_client')).json, { code: 1, status: 'client not found' });
    assert.deepEqual((await ctl.call('stop_client', { client: 'zz' }, 'json')).json, { code: 1, status: 'client not exists' });
    const stopped = await ctl.call('stop_client', { client: 'b.2@x' }, 'form');
    assert.equal(stopped.json.code, 0);
    assert.equal(stopped.json.status, 'success');
    assert.deepEqual((await ctl.call('check_client')).json.client.map((c: any) => c.client), ['a']);
    assert.equal((await ctl.call('start_client', { client: 'c' })).json.status, 'success', 'the stopped account freed its slot');
    assert.ok(existsSync(join(ctl.dataDir, 'accounts', 'a')), "the account's files are under <data_dir>/accounts/NAME/");
  } finally {
    await ctl.close();
    await sb.close();
    rmSync(ctl.dataDir, { recursive: true, force: true });
  }
});

test('per-account post_api (client= and X-Openwx-Account), routes per client=, one failing receiver does not hold another, stop of one leaves the other', async () => {
  const sb = await usersSandbox(2);
  const ra = await new UrlReceiver().start();
  const rb = await new UrlReceiver().start();
  const ctl = await startTestController(sb, { post_api: rb.url });
  try {
    // a's receiver will hang: its attempts time out after 1 s (its own setting), so its stop event gets through later.
    await ctl.login('a', 'wxid_user1', { post_api: ra.url, post_api_timeout_ms: '1000' });
    await ctl.login('b', 'wxid_user2');

    // Each account's routes answer for that account.
    assert.equal((await ctl.call('get_user_info', { client: 'a' })).json.name, 'User1');
    assert.equal((await ctl.call('get_user_info', { client: 'b' }, 'json')).json.name, 'User2');
    const entries = (await ctl.call('check_client')).json.client;
    assert.deepEqual(entries.map((c: any) => [c.client, c.state, c.user_name]), [['a', 'running', 'User1'], ['b', 'running', 'User2']]);
    assert.ok(entries.every((c: any) => typeof c.user_id === 'string' && c.user_id.startsWith('@')));

    // Each reports to its own post_api, with client=NAME merged into the query and the X-Openwx-Account header.
    const loginA = await ra.waitFor((p) => p.json?.event === 'login', 'a: login event');
    assert.equal(new URL(loginA.url, 'http://x').searchParams.get('client'), 'a');
    assert.equal(new URL(loginA.url, 'http://x').searchParams.get('key'), 'k1', 'the rest of the query is kept');
    assert.equal(loginA.headers['x-openwx-account'], 'a');
    const loginB = await rb.waitFor((p) => p.json?.event === 'login', 'b: login event');
    assert.equal(new URL(loginB.url, 'http://x').searchParams.get('client'), 'b');
    assert.equal(loginB.headers['x-openwx-account'], 'b');
    assert.deepEqual([...new Set(ra.posts.map((p) => p.headers['x-openwx-account']))], ['a'], "a's receiver hears only a");
    assert.deepEqual([...new Set(rb.posts.map((p) => p.headers['x-openwx-account']))], ['b'], "b's receiver hears only b");

    // a's receiver refuses everything (then hangs): b's messages are still delivered, in order.
    ra.status = 500;
    await control(sb, 'POST', 'messages', { user: 'wxid_user1', type: 'text', from: 'Ann', content: 'to a 1' });
    await ra.waitFor((p) => p.json?.content === 'to a 1', "a's message reached its (refusing) receiver");
    ra.status = 'hang';
    await control(sb, 'POST', 'messages', { user: 'wxid_user1', type: 'text', from: 'Ann', content: 'to a 2' });
    for (let i = 1; i <= 5; i++) await control(sb, 'POST', 'messages', { user: 'wxid_user2', type: 'text', from: 'Ann', content: `to b ${i}` });
    await waitFor(() => rb.posts.filter((p) => /^to b \d$/.test(p.json?.content ?? '')).length === 5, "b's five messages delivered", 15_000);
    assert.deepEqual(
      rb.posts.filter((p) => /^to b \d$/.test(p.json?.content ?? '')).map((p) => p.json.content),
      ['to b 1', 'to b 2', 'to b 3', 'to b 4', 'to b 5'],
    );
    assert.ok(!rb.posts.some((p) => /^to a/.test(p.json?.content ?? '')), "a's messages never go to b's receiver");
    const depthA = (await ctl.call('check_client', { client: 'a' })).json.client[0].outbox_depth;
    assert.ok(depthA >= 1, `a's reports wait in its outbox (${depthA})`);

    // Sends go through the named account only.
    const ann = (await ctl.call('search_friend', { client: 'b', name: 'Ann' })).json[0];
    const sent = await ctl.call('send_friend_message', { client: 'b', id: ann.id, content: 'from b' }, 'json');
    assert.equal(sent.json.code, 0, sent.text);
    const sentB = await control(sb, 'GET', 'sent?user=wxid_user2');
    const sentA = await control(sb, 'GET', 'sent?user=wxid_user1');
    assert.ok(sentB.json.some((s: any) => s.Content === 'from b'));
    assert.ok(!sentA.json.some((s: any) => s.Content === 'from b'));

    // check_event is per account.
    await control(sb, 'POST', 'messages', { user: 'wxid_user2', type: 'text', from: 'Bob', content: 'poll b' });
    await waitFor(async () => {
      const r = await ctl.call('check_event', { client: 'b' });
      return (r.json as any[]).find((e) => e.content === 'poll b');
    }, 'check_event?client=b');
    const pollA = await ctl.call('check_event', { client: 'a' });
    assert.ok(!(pollA.json as any[]).some((e) => e.content === 'poll b'));

    // stop_client a: its stop event goes to its post_api, b keeps running and delivering.
    ra.status = 200;
    const stop = await ctl.call('stop_client', { client: 'a' });
    assert.equal(stop.json.code, 0);
    const stopEvent = await ra.waitFor((p) => p.json?.event === 'stop', "a's stop event");
    assert.equal(stopEvent.headers['x-openwx-account'], 'a');
    assert.deepEqual((await ctl.call('get_user_info', { client: 'a' })).json, { code: 1, status: 'client not exists' });
    const metrics = (await ctl.call('/metrics')).text;
    assert.doesNotMatch(metrics, /openwx_state\{account="a"/, 'a removed account has no state series');
    assert.doesNotMatch(metrics, /openwx_(last_sync_timestamp_seconds|webhook_queue_depth)\{account="a"/);
    assert.match(metrics, /openwx_state\{account="b",state="running"\} 1/);
    assert.equal(await ctl.state('b'), 'running');
    await control(sb, 'POST', 'messages', { user: 'wxid_user2', type: 'text', from: 'Ann', content: 'after a stopped' });
    await rb.waitFor((p) => p.json?.content === 'after a stopped', 'b still delivers');
  } finally {
    await ctl.close();
    await ra.stop();
    await rb.stop();
    await sb.close();
    rmSync(ctl.dataDir, { recursive: true, force: true });
  }
});

test('a restarted controller starts the accounts it had and resumes each session without a scan', async () => {
  const sb = await usersSandbox(2);
  const first = await startTestController(sb);
  const dataDir = first.dataDir;
  try {
    await first.login('a', 'wxid_user1');
    await first.login('b', 'wxid_user2', { send_interval_ms: '0' });
    await first.close();

    // Nobody confirms a QR now: only a resumed session can reach running.
    const second = await startTestController(sb, {}, dataDir);
    try {
      assert.deepEqual((await second.call('check_client')).json.client.map((c: any) => c.client), ['a', 'b']);
      await waitFor(async () => (await second.state('a')) === 'running' && (await second.state('b')) === 'running', 'both resumed', 15_000, 20);
      assert.equal((await second.call('get_user_info', { client: 'a' })).json.name, 'User1');
      assert.equal((await second.call('get_user_info', { client: 'b' })).json.name, 'User2');
      const users = (await control(sb, 'GET', 'users')).json;
      assert.deepEqual(users.qrCodes.filter((q: any) => q.state !== 'waiting'), [], 'no QR was scanned');
      // stop_client removes an account from the persisted list too.
      assert.equal((await second.call('stop_client', { client: 'a' })).json.code, 0);
    } finally {
      await second.close();
    }
    // A settings file's clients: start with the kept ones (and are kept from then on).
    const third = await startTestController(sb, { clients: [{ client: 'c', send_interval_ms: 0 }] }, dataDir);
    try {
      assert.deepEqual((await third.call('check_client')).json.client.map((c: any) => c.client), ['b', 'c']);
    } finally {
      await third.close();
    }
  } finally {
    await sb.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('the Controller routes are behind the token like every route; access_token (with access_token_param) is not a setting', async () => {
  const sb = await usersSandbox(1);
  const token = 'controller-token-1';
  const ctl = await startTestController(sb, { token, access_token_param: true });
  try {
    const refused = await ctl.call('start_client', { client: 'a' });
    assert.equal(refused.status, 401);
    assert.deepEqual(refused.json, { code: -6, status: 'auth failure' });
    assert.deepEqual((await ctl.call('check_client', { access_token: 'wrong-token-0' })).json, { code: -6, status: 'auth failure' });
    const ok = await ctl.call('start_client', { client: 'a', access_token: token, send_interval_ms: '0' });
    assert.equal(ok.json.status, 'success', ok.text);
    assert.equal(ok.json.access_token, undefined, 'the token is neither a setting nor echoed');
    assert.deepEqual((await ctl.call('check_client', { access_token: token })).json.client.map((c: any) => c.client), ['a']);
  } finally {
    await ctl.close();
    await sb.close();
    rmSync(ctl.dataDir, { recursive: true, force: true });
  }
});
