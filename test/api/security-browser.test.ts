/**
 * What a web page the operator visits can make the API do (docs/security.md, "Browser requests" and "Host names"),
 * on the default setup (loopback, no token) and with a token: cross-site form POSTs, `<img>` GETs, old-browser
 * `Origin`-only requests and DNS-rebinding requests (a foreign `Host`) are refused with 403 JSON on every route
 * (Openwx API, console API, ops, docs, unknown routes); scripts (no `Origin`, no `Sec-Fetch-*`), same-origin
 * pages, typed URLs, links to the console page and CORS-listed origins keep working.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { request } from 'undici';
import { startOpenwx, type OpenwxHandle } from '../../src/host/index.ts';
import { startStack, silent, type Stack } from '../helpers/stack.ts';

const TOKEN = 'browser-token-0123456789';
let s: Stack;
let api: OpenwxHandle;
let base: string;
let port: number;
before(async () => {
  s = await startStack({});
  // The default setup: loopback, no token; stop_client would stop the client (its delay keeps it from happening
  // before the test sees the answer, and a refused request never gets that far).
  api = await startOpenwx(s.client, { listen: { host: '127.0.0.1', port: 0 }, logger: silent, stopDelayMs: 60_000 });
  base = api.urls[0]!;
  port = Number(new URL(base).port);
});
after(async () => {
  await api.close();
  await s.close();
});

interface Answer {
  status: number;
  json: any;
  headers: Record<string, string | string[] | undefined>;
}

async function call(b: string, path: string, headers: Record<string, string>, method: 'GET' | 'POST' | 'HEAD' = 'GET', body?: string): Promise<Answer> {
  const r = await request(`${b}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await r.body.text();
  const isJson = /^application\/json/.test(String(r.headers['content-type'] ?? ''));
  return { status: r.statusCode, json: isJson && text ? JSON.parse(text) : undefined, headers: r.headers };
}

/** Every kind of route: Openwx API, console data, console page, docs page, OpenAPI, health, metrics, unknown. */
const ROUTES = ['/openwx/get_friend_info', '/openwx/get_user_info', '/console/api/overview', '/', '/docs', '/openwx/openapi.json', '/healthz', '/readyz', '/metrics', '/openwx/no_such_route'];

function assertRefused(a: Answer, code: 'host' | 'cross-site', what: string): void {
  assert.equal(a.status, 403, `${what}: HTTP ${a.status}`);
  assert.equal(a.json.code, -1, what);
  assert.match(a.json.status, code === 'host' ? /^host not allowed: Host \S+ is not served here: add it to allowed_hosts/ : /^cross-site request refused: /, what);
  assert.equal(a.headers['connection'], 'close', `${what}: the connection is closed`);
}

test('DNS rebinding: a foreign Host is refused on every route; loopback names, IP literals and no Host are served', async () => {
  for (const path of ROUTES) {
    for (const host of [`evil.example:${port}`, 'evil.example', `rebind.127.0.0.1.nip.io:${port}`, `localhost.evil.example:${port}`]) {
      assertRefused(await call(base, path, { host }), 'host', `${path} Host ${host}`);
    }
  }
  const friends = await call(base, '/openwx/get_friend_info', {});
  assert.equal(friends.status, 200);
  assert.ok(friends.json.length > 3);
  for (const host of [`localhost:${port}`, 'LOCALHOST', `127.0.0.1:${port}`, '127.1.2.3', `[::1]:${port}`, `10.1.2.3:${port}`, 'localhost.']) {
    const a = await call(base, '/openwx/get_friend_info', { host });
    assert.equal(a.status, 200, `Host ${host}`);
    assert.deepEqual(a.json, friends.json, `Host ${host}`);
  }
  for (const path of ['/healthz', '/', '/console/api/overview']) assert.equal((await call(base, path, { host: `localhost:${port}` })).status, 200, path);
  // HTTP/1.0 without a Host header (an old script client).
  const raw = await new Promise<string>((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let data = '';
    sock.on('data', (d) => (data += d.toString('utf8')));
    sock.on('error', reject);
    sock.on('close', () => resolve(data));
    sock.write('GET /openwx/get_user_info HTTP/1.0\r\n\r\n');
  });
  assert.match(raw, /^HTTP\/1\.1 200 /);
});

test('allowed_hosts: the names a reverse proxy gives, with any port or one port', async () => {
  const proxied = await startOpenwx(s.client, {
    listen: { host: '127.0.0.1', port: 0 },
    logger: silent,
    allowedHosts: ['bot.example.com', 'Proxy.Example:8443', '[fd00::1]:9000'],
  });
  try {
    const b = proxied.urls[0]!;
    for (const host of ['bot.example.com', 'bot.example.com:443', 'BOT.example.com:8080', 'proxy.example:8443', `localhost:${port}`]) {
      assert.equal((await call(b, '/openwx/get_user_info', { host })).status, 200, host);
    }
    for (const host of ['proxy.example', 'proxy.example:443', 'sub.bot.example.com', 'example.com']) {
      assertRefused(await call(b, '/openwx/get_user_info', { host }), 'host', host);
    }
  } finally {
    await proxied.close();
  }
});

test('CSRF: cross-site and same-site form POSTs, <img> GETs and foreign Origins are refused; the client keeps running', async () => {
  const id = s.friendId('张伟');
  const form = `id=${encodeURIComponent(id)}&content=${encodeURIComponent('csrf')}`;
  const formType = { 'content-type': 'application/x-www-form-urlencoded' };
  const attacks: [string, 'GET' | 'POST', string, Record<string, string>, string?][] = [
    ['cross-site form POST', 'POST', '/openwx/send_friend_message', { ...formType, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' }, form],
    ['same-site form POST (another port of localhost)', 'POST', '/openwx/send_friend_message', { ...formType, origin: 'http://localhost:8080', 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'navigate' }, form],
    ['<img> GET', 'GET', `/openwx/send_friend_message?${form}`, { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' }],
    ['<img> GET stop_client', 'GET', '/openwx/stop_client', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' }],
    ['link to stop_client (top-level navigation)', 'GET', '/openwx/stop_client', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' }],
    ['cross-site fetch of the console API', 'GET', '/console/api/overview', { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'cors' }],
    ['old browser: foreign Origin, no Sec-Fetch', 'POST', '/openwx/send_friend_message', { ...formType, origin: 'https://evil.example' }, form],
    ['old browser: Origin null (sandboxed frame)', 'POST', '/openwx/send_friend_message', { ...formType, origin: 'null' }, form],
    ['old browser: same host, other port', 'POST', '/openwx/stop_client', { ...formType, origin: 'http://127.0.0.1:1' }, ''],
    ['cross-site fetch of the docs', 'GET', '/openwx/openapi.json', { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'cors' }],
    ['cross-site fetch of health', 'GET', '/readyz', { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'cors' }],
    ['cross-site fetch of an unknown route', 'GET', '/openwx/nope', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' }],
  ];
  for (const [what, method, path, headers, body] of attacks) assertRefused(await call(base, path, headers, method, body), 'cross-site', what);
  assert.equal(s.client.state, 'running', 'stop_client was never run');
});

test('same-origin pages, typed URLs, links to the console page and scripts keep working', async () => {
  const self = `http://127.0.0.1:${port}`;
  const ok: [string, 'GET' | 'POST', string, Record<string, string>][] = [
    ['script: no Origin, no Sec-Fetch', 'GET', '/openwx/get_user_info', {}],
    ['console fetch (same-origin)', 'GET', '/console/api/overview', { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors' }],
    ['console POST (same-origin, Origin sent)', 'POST', '/openwx/get_user_info', { origin: self, 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors' }],
    ['same-origin through a Host-rewriting proxy', 'POST', '/openwx/get_user_info', { origin: 'https://bot.example.com', 'sec-fetch-site': 'same-origin' }],
    ['typed URL', 'GET', '/openwx/get_user_info', { 'sec-fetch-site': 'none', 'sec-fetch-mode': 'navigate' }],
    ['old browser, own Origin', 'POST', '/openwx/get_user_info', { origin: self }],
    ['old browser, own Origin by name', 'POST', '/openwx/get_user_info', { origin: `http://localhost:${port}`, host: `localhost:${port}` }],
    ['link to the console page', 'GET', '/', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' }],
    ['link to the docs page', 'GET', '/docs', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' }],
    ['console page script (same-origin)', 'GET', '/console/console.js', { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'script' }],
    ['probe', 'GET', '/healthz', {}],
  ];
  for (const [what, method, path, headers] of ok) {
    const r = await request(`${base}${path}`, { method, headers });
    await r.body.dump();
    assert.equal(r.statusCode, 200, what);
  }
});

test('with a token the same rules hold; CORS-listed origins pass with it', async () => {
  const guarded = await startOpenwx(s.client, { listen: { host: '127.0.0.1', port: 0 }, logger: silent, token: TOKEN, corsOrigins: ['https://bot.example'] });
  try {
    const b = guarded.urls[0]!;
    const auth = { authorization: `Bearer ${TOKEN}` };
    assertRefused(await call(b, '/openwx/get_user_info', { ...auth, host: 'evil.example' }), 'host', 'token + foreign Host');
    assertRefused(await call(b, '/openwx/get_user_info', { ...auth, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'cors' }), 'cross-site', 'token + foreign Origin');
    assertRefused(await call(b, '/openwx/get_user_info', { ...auth, 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' }), 'cross-site', 'token + no-cors');
    const listed = await call(b, '/openwx/get_user_info', { ...auth, origin: 'https://bot.example', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'cors' });
    assert.equal(listed.status, 200);
    assert.equal(listed.headers['access-control-allow-origin'], 'https://bot.example');
    const pre = await request(`${b}/openwx/send_friend_message`, {
      method: 'OPTIONS',
      headers: { origin: 'https://bot.example', 'access-control-request-method': 'POST', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'cors' },
    });
    await pre.body.dump();
    assert.equal(pre.statusCode, 204, 'a listed origin\'s preflight');
    assert.equal((await call(b, '/openwx/get_user_info', { origin: 'https://bot.example', 'sec-fetch-site': 'cross-site' })).status, 401, 'CORS does not bypass the token');
  } finally {
    await guarded.close();
  }
});
