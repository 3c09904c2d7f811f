/**
 * Forwarding to an account's owner: a multipart file upload arrives whole (the owner's answer, its media sent once);
 * a forwarded send the owner does not answer within forward_timeout_ms gets OWX_ERR_FORWARD_TIMEOUT and is NOT
 * repeated (the owner finishes it once); an owner that cannot be reached gets OWX_ERR_FORWARD_FAILED.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request as undiciRequest } from 'undici';
import { postgresForFile } from '../helpers/postgres.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { control, usersSandbox } from '../host/helpers.ts';
import { loginAs, rows, startClusterController, type ClusterController } from './helpers.ts';

const server = postgresForFile();

test('forwarded: a multipart upload whole, a send that times out answered once and never repeated, an unreachable owner', async () => {
  const url = await server.createDatabase();
  const sb = await usersSandbox(1);
  const cs: ClusterController[] = [];
  try {
    cs.push(...(await Promise.all(['f1', 'f2'].map((id) => startClusterController(sb, url, id, {}, { forwardTimeoutMs: 1_500 })))));
    const [f1, f2] = cs as [ClusterController, ClusterController];
    assert.equal((await f2.call('start_client', { client: 'alice', worker: 'f1' })).json.status, 'success');
    await loginAs(sb, f2, 'alice', 'wxid_user1');
    const ann = (await f1.call('search_friend', { client: 'alice', displayname: 'Ann' })).json;
    const annId = (Array.isArray(ann) ? ann[0] : ann).id as string;

    // A file part through f2 reaches f1 whole.
    const bytes = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(5_000, 66)]);
    const up = await f2.call('upload_media', { client: 'alice', media_data: new File([bytes], 'report.pdf', { type: 'application/pdf' }) }, 'multipart');
    assert.equal(up.json.code, 0, up.text);
    assert.equal(up.headers['x-openwx-forwarded'], 'f1');
    assert.equal(up.json.media_name, 'report.pdf');
    assert.equal(Number(up.json.media_size), bytes.length);

    // The owner's send hangs longer than the forward timeout: the caller gets a clear error, the send happens once.
    assert.equal((await control(sb, 'POST', 'faults', { endpoint: 'webwxsendmsg', delayMs: 3_000, times: 1 })).status, 200);
    const started = Date.now();
    const slow = await f2.call('send_friend_message', { client: 'alice', id: annId, content: 'slow send' }, 'form');
    assert.ok(Date.now() - started < 3_000, 'answered at the forward timeout, not after the send');
    assert.equal(slow.status, 504);
    assert.equal(slow.json.code, -1);
    assert.match(slow.json.status, /did not answer within 1500 ms; the request was not repeated/);
    await waitFor(() => sb.handle.sent().some((m) => m.Content === 'slow send'), 'the owner finishes the send', 10_000);
    // One more send through the owner proves the queue moved on; the slow one is there once.
    assert.equal((await f1.call('send_friend_message', { client: 'alice', id: annId, content: 'after' })).json.code, 0);
    assert.equal(sb.handle.sent().filter((m) => m.Content === 'slow send').length, 1);

    // The owner goes away without a word (its heartbeat and lease still look live for a moment): a clear error.
    await f1.host.app.close();
    const gone = await f2.call('get_user_info', { client: 'alice' });
    assert.equal(gone.status, 502);
    assert.match(gone.json.status, /^the owner of client alice \(worker f1\) could not be reached/);
  } finally {
    for (const c of cs) await c.close().catch(() => undefined);
    await sb.close();
  }
});

test('with a token: the caller must give it to the controller it calls, and it goes along to the owner', async () => {
  const url = await server.createDatabase();
  const sb = await usersSandbox(1);
  const token = 'cluster-token-0123456789';
  const auth = { authorization: `Bearer ${token}` };
  const cs: ClusterController[] = [];
  try {
    cs.push(...(await Promise.all(['t1', 't2'].map((id) => startClusterController(sb, url, id, { token })))));
    const [t1, t2] = cs as [ClusterController, ClusterController];
    const refused = await t1.call('start_client', { client: 'alice', worker: 't2' });
    assert.equal(refused.status, 401);
    assert.equal((await rows(url, 'SELECT 1 FROM openwx_accounts')).length, 0, 'nothing placed without the token');
    const started = await t1.call('start_client', { client: 'alice', worker: 't2' }, 'query', auth);
    assert.equal(started.json.status, 'success', started.text);
    assert.equal(started.headers['x-openwx-forwarded'], 't2');
    const direct = await t2.call('get_client_info', { client: 'alice' }, 'query', auth);
    const via = await t1.call('get_client_info', { client: 'alice' }, 'form', auth);
    assert.equal(via.status, 200);
    assert.equal(via.headers['x-openwx-forwarded'], 't2');
    assert.deepEqual(Object.keys(via.json).sort(), Object.keys(direct.json).sort());
    assert.equal(via.json.account, 'alice');
    assert.equal((await t1.call('get_client_info', { client: 'alice' })).status, 401, 'no token: refused where it arrives');
  } finally {
    for (const c of cs) await c.close().catch(() => undefined);
    await sb.close();
  }
});

test('forwarded under advertise_url\'s path (a reverse proxy at /node1/), JSON as JSON, HEAD as HEAD', async () => {
  const url = await server.createDatabase();
  const sb = await usersSandbox(1);
  // A reverse proxy that serves the owner under /node1/ and records what it passes on.
  let target = '';
  const seen: { method: string; path: string; type: string; body: string }[] = [];
  const proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (!req.url?.startsWith('/node1/')) {
        res.writeHead(404).end();
        return;
      }
      const path = req.url.slice('/node1'.length);
      seen.push({ method: req.method!, path, type: String(req.headers['content-type'] ?? ''), body: body.toString('utf8') });
      const headers = { ...req.headers };
      delete headers['host'];
      undiciRequest(`${target}${path}`, { method: req.method as 'GET', headers, body: body.length > 0 ? body : null })
        .then(async (r) => {
          const out = Buffer.from(await r.body.arrayBuffer());
          res.writeHead(r.statusCode, r.headers as Record<string, string>).end(out);
        })
        .catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/node1/`;
  const cs: ClusterController[] = [];
  try {
    const p1 = await startClusterController(sb, url, 'p1', { advertise_url: proxyUrl });
    cs.push(p1);
    target = p1.base;
    const p2 = await startClusterController(sb, url, 'p2');
    cs.push(p2);
    const started = await p2.call('start_client', { client: 'alice', worker: 'p1' });
    assert.equal(started.json.status, 'success', started.text);
    assert.equal(started.headers['x-openwx-forwarded'], 'p1');
    assert.ok(seen.some((s) => s.path.startsWith('/openwx/start_client')), 'reached the owner through the proxy path');
    await loginAs(sb, p2, 'alice', 'wxid_user1');

    const ann = (await p2.call('search_friend', { client: 'alice', displayname: 'Ann' })).json;
    const annId = (Array.isArray(ann) ? ann[0] : ann).id as string;
    const content = '你好，转发的 JSON 消息 👋';
    const sent = await p2.call('send_friend_message', { client: 'alice', id: annId, content }, 'json');
    assert.equal(sent.json.code, 0, sent.text);
    const fwd = seen.find((s) => s.path.startsWith('/openwx/send_friend_message'))!;
    assert.equal(fwd.type, 'application/json', 'a JSON request goes on as JSON');
    assert.equal(JSON.parse(fwd.body).content, content);
    await waitFor(() => sb.handle.sent().some((m) => m.Content === content), 'the owner sent it');

    const head = await undiciRequest(`${p2.base}/openwx/get_user_info?client=alice`, { method: 'HEAD' });
    await head.body.dump();
    assert.equal(head.statusCode, 200);
    assert.equal(seen.at(-1)!.method, 'HEAD', 'HEAD goes on as HEAD');
    assert.equal(head.headers['x-openwx-forwarded'], 'p1');
  } finally {
    for (const c of cs) await c.close().catch(() => undefined);
    await sb.close();
    await new Promise<void>((r) => proxy.close(() => r()));
  }
});
