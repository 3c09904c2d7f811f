/**
 * Review (issue 13): forwarding and the API's guards.
 *
 * - The caller's token reaches the owner however the caller gave it: an `access_token` in the query string of a
 *   multipart upload, or of an urlencoded POST larger than access_token_body_max_bytes, passes the receiving
 *   controller's guard, so the owner must accept the forwarded request too (it used to answer 401: the forwarder moved
 *   the token into the body, where the owner does not look for it in a multipart or large body).
 * - The guards run BEFORE forwarding: a wrong token, a foreign Host name (DNS rebinding) or a cross-site browser
 *   request is refused where it arrives and never reaches the owner, whatever X-Openwx-Forwarded says.
 * - A Controller route is recognised by the route the router matched, not by the raw path: `/openwx/stop%5Fclient`
 *   is stop_client (it used to be taken for an account route: forwarded to the owner, whose host stopped the account
 *   locally while its lease stayed held and renewed, a row owned by nobody that no controller could claim).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postgresForFile } from '../helpers/postgres.ts';
import { callApi } from '../helpers/stack.ts';
import { usersSandbox } from '../host/helpers.ts';
import { loginAs, rows, startClusterController, type ClusterController } from './helpers.ts';

const server = postgresForFile();

const TOKEN = 'review-token-123456';

test('forwarded requests carry the token however it was given; the guards refuse before forwarding', async () => {
  const url = await server.createDatabase();
  const sb = await usersSandbox(1);
  const cs: ClusterController[] = [];
  try {
    const flags = { token: TOKEN, access_token_param: true };
    cs.push(...(await Promise.all(['r1', 'r2'].map((id) => startClusterController(sb, url, id, flags)))));
    const [r1, r2] = cs as [ClusterController, ClusterController];
    const auth = { authorization: `Bearer ${TOKEN}` };
    assert.equal((await r2.call('start_client', { client: 'alice', worker: 'r1' }, 'query', auth)).json.status, 'success');
    // loginAs asks check_client through r2 without a token: give it the token in the query.
    await loginAs(sb, { ...r2, call: (route, params, via, headers) => r2.call(route, params, via, { ...auth, ...headers }) }, 'alice', 'wxid_user1');

    // 1. A multipart upload with the token in the query string: accepted by r2, forwarded to r1.
    const bytes = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(2_000, 66)]);
    const up = await callApi(r2.base, `/openwx/upload_media?access_token=${TOKEN}`, { client: 'alice', media_data: new File([bytes], 'r.pdf', { type: 'application/pdf' }) }, 'multipart');
    assert.equal(up.headers['x-openwx-forwarded'], 'r1', up.text);
    assert.equal(up.status, 200, up.text);
    assert.equal(up.json.code, 0, up.text);

    // 2. An urlencoded POST with the token in the query string and a body larger than the token-body limit (64 KiB).
    const big = await callApi(r2.base, `/openwx/get_user_info?access_token=${TOKEN}`, { client: 'alice', pad: 'x'.repeat(70_000) }, 'form');
    assert.equal(big.headers['x-openwx-forwarded'], 'r1', big.text);
    assert.equal(big.status, 200, big.text);
    assert.equal(big.json.code ?? 0, 0, big.text);

    // 3. The guards refuse before forwarding, X-Openwx-Forwarded or not.
    const fwd = { 'x-openwx-forwarded': 'r1' };
    const wrong = await r2.call('get_user_info', { client: 'alice' }, 'query', { authorization: 'Bearer wrong-token-0000', ...fwd });
    assert.equal(wrong.status, 401, wrong.text);
    assert.equal(wrong.headers['x-openwx-forwarded'], undefined);
    const none = await r2.call('get_user_info', { client: 'alice' }, 'query', fwd);
    assert.equal(none.status, 401, none.text);
    const rebound = await r2.call('get_user_info', { client: 'alice' }, 'query', { ...auth, host: 'evil.example:1234' });
    assert.equal(rebound.status, 403, rebound.text);
    assert.equal(rebound.headers['x-openwx-forwarded'], undefined);
    const crossSite = await r2.call('get_user_info', { client: 'alice' }, 'form', { ...auth, origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' });
    assert.equal(crossSite.status, 403, crossSite.text);
    assert.equal(crossSite.headers['x-openwx-forwarded'], undefined);

    // 4. A Controller route named with percent-escapes in its path (the router decodes them: it IS stop_client) is
    //    still the cluster's stop_client: the account leaves the cluster, its lease is not kept by r1 for nobody.
    const stop = await callApi(r2.base, '/openwx/stop%5Fclient?client=alice', {}, 'query', auth);
    assert.equal(stop.json?.status, 'success', stop.text);
    assert.equal(r1.host.account('alice'), undefined);
    assert.deepEqual(await rows(url, "SELECT client, worker FROM openwx_accounts WHERE client = 'alice'"), []);
    assert.equal((await r2.call('check_client', { client: 'alice' }, 'query', auth)).json.code, 1);
  } finally {
    for (const c of cs) await c.close().catch(() => undefined);
    await sb.close();
  }
});
