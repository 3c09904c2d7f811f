/**
 * The OneBot endpoints in the web console: `/console/api/onebot` lists each endpoint of the account with its live state (forward
 * connections, reverse WebSocket link state, http_post / webhook outbox), outgoing URLs without their credentials,
 * and the console page shows that panel (headless Chromium).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startStack, type Stack } from '../helpers/stack.ts';
import { Receiver } from '../helpers/receiver.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { Peer, ReverseApp, TOKEN } from './helpers.ts';

const API_TOKEN = 'console-api-token-1';
const auth = { authorization: `Bearer ${API_TOKEN}` };
let s: Stack;
let hook: Receiver;
let app: ReverseApp;
let hookUrl: string;

before(async () => {
  hook = await new Receiver().start();
  app = await new ReverseApp().start();
  // Credentials and a query value in the http_post URL: the console must not show them.
  hookUrl = hook.url.replace('http://', 'http://bot:hook-pw-secret@') + '?key=query-secret';
  s = await startStack({
    openwx: {
      token: API_TOKEN,
      onebot: {
        accessToken: TOKEN,
        v12: { http: true, ws: true, webhook: [], ws_reverse: [], heartbeat_ms: 0 },
        v11: { http: true, ws: true, http_post: [hookUrl], ws_reverse: [app.url], heartbeat_ms: 0, message_format: 'array' },
      },
    },
  });
});
after(async () => {
  await s.close();
  await app.stop();
  await hook.stop();
});

async function getJson(path: string): Promise<any> {
  const r = await request(`${s.base}${path}`, { headers: auth });
  assert.equal(r.statusCode, 200, path);
  return r.body.json();
}

test('/console/api/onebot: endpoints with live state; reverse link open; forward connections counted; URLs without credentials', async () => {
  await waitFor(() => app.peers.length > 0, 'the v11 reverse WebSocket connected');
  const ws12 = await Peer.connect(`${s.base.replace('http', 'ws')}/onebot/v12/ws`, { authorization: `Bearer ${TOKEN}` });
  try {
    let st = await getJson('/console/api/onebot');
    const find = (st: any, v: string, t: string, url?: string) => st.endpoints.find((e: any) => e.version === v && e.transport === t && (url === undefined || e.url === url));
    assert.equal(st.enabled, true);
    assert.equal(st.token, true);
    assert.equal(typeof st.self.v11, 'number');
    assert.equal(st.self.v12, s.client.user()!.stable_id);
    assert.equal(find(st, '12', 'http').url, '/onebot/v12/');
    assert.equal(find(st, '12', 'ws').connections, 1);
    assert.equal(find(st, '11', 'ws', '/onebot/v11/ws').connections, 0);
    const rev = find(st, '11', 'ws_reverse');
    assert.deepEqual([rev.url, rev.state, rev.waiting], [app.url, 'open', 0]);
    const post = find(st, '11', 'http_post');
    assert.equal(post.state, 'idle', 'the http_post sink starts with the first event');
    assert.ok(!JSON.stringify(st).includes('hook-pw-secret') && !JSON.stringify(st).includes('query-secret'), 'no credential shown');
    assert.ok(post.url.startsWith('http://127.0.0.1:'));
    s.sb.handle.inject({ type: 'text', from: '张伟', content: 'console sees me' });
    await waitFor(() => hook.received.some((r) => r.json?.raw_message === 'console sees me'), 'http_post delivered');
    st = await getJson('/console/api/onebot');
    assert.deepEqual([find(st, '11', 'http_post').state, find(st, '11', 'http_post').dead], ['active', 0]);
    // The reverse link going down shows as not open.
    await app.stop();
    await waitFor(async () => find(await getJson('/console/api/onebot'), '11', 'ws_reverse').state !== 'open', 'the link shown down');
  } finally {
    ws12.close();
  }
});

test('console page: the OneBot panel lists the endpoints as full URLs with their state', async (t) => {
  const b = await launchBrowser('onebot-console');
  t.after(() => b.close());
  const { page } = b;
  await page.goto(`${s.base}/`);
  await page.fill('#token', API_TOKEN);
  await page.click('#token-form button[type=submit]');
  const rows = page.locator('#onebot-list tr');
  await page.locator('#onebot:not([hidden])').waitFor({ timeout: 20_000 });
  await waitFor(async () => (await rows.count()) >= 7, 'the panel rows', 20_000);
  const texts = await rows.allTextContents();
  const wsOrigin = s.base.replace('http', 'ws');
  assert.ok(texts.some((x) => x.includes(`${s.base}/onebot/v12/`)), texts.join('\n'));
  assert.ok(texts.some((x) => x.includes(`${wsOrigin}/onebot/v11/ws`)));
  const post = page.locator('#onebot-list tr[data-transport="http_post"]');
  assert.equal(await post.getAttribute('data-state'), 'active');
  assert.ok(!(await post.textContent())!.includes('hook-pw-secret'));
  await b.shot('01-onebot-panel');
});
