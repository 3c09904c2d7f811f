/**
 * API security end to end (docs/security.md): the token (Bearer; access_token only behind its switch), CORS and
 * JSONP off by default and opt-in, request body limits, media_path confinement through the API, and the modes of
 * the files that hold secrets (session, database).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { startOpenwx, type OpenwxHandle } from '../../src/host/index.ts';
import { startStack, callApi, silent, type Stack } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait-for.ts';

const TOKEN = 'sec-token-0123456789';
let s: Stack;
before(async () => {
  s = await startStack({ postApi: true });
});
after(async () => {
  await s.close();
});

async function extraApi(o: Parameters<typeof startOpenwx>[1]): Promise<OpenwxHandle> {
  return startOpenwx(s.client, { listen: { host: '127.0.0.1', port: 0 }, logger: silent, ...o });
}

const AUTH_FAILURE = { code: -6, status: 'auth failure' };

test('token: Bearer only by default; access_token as a parameter only behind access_token_param', async () => {
  const strict = await extraApi({ token: TOKEN });
  const compat = await extraApi({ token: TOKEN, accessTokenParam: true });
  try {
    const b = strict.urls[0]!;
    assert.equal((await callApi(b, 'get_user_info', {}, 'query', { authorization: `Bearer ${TOKEN}` })).status, 200);
    for (const [params, via, headers] of [
      [{}, 'query', {}],
      [{}, 'query', { authorization: 'Bearer nope' }],
      [{}, 'query', { authorization: `Bearer ${TOKEN}x` }],
      [{}, 'query', { authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` }],
      [{ access_token: TOKEN }, 'query', {}],
      [{ access_token: TOKEN }, 'form', {}],
    ] as const) {
      const r = await callApi(b, 'get_user_info', params, via, headers);
      assert.equal(r.status, 401, JSON.stringify([params, via, headers]));
      assert.deepEqual(r.json, AUTH_FAILURE);
      assert.equal(r.headers['www-authenticate'], 'Bearer');
    }
    assert.equal((await callApi(b, 'no_such_route', {}, 'query', {})).status, 401, 'auth before routing');

    const c = compat.urls[0]!;
    // A multipart body is never searched for the token: it is refused before it is read (security-limits.test.ts).
    assert.equal((await callApi(c, 'get_user_info', { access_token: TOKEN }, 'multipart')).status, 401);
    for (const via of ['query', 'form', 'json'] as const) {
      const ok = await callApi(c, 'get_user_info', { access_token: TOKEN }, via);
      assert.equal(ok.status, 200, via);
      assert.equal(ok.json.name, '小明同学');
      const bad = await callApi(c, 'get_user_info', { access_token: 'wrong-token-value' }, via);
      assert.equal(bad.status, 401, via);
      assert.deepEqual(bad.json, AUTH_FAILURE);
    }
    assert.equal((await callApi(c, 'get_user_info', {}, 'json')).status, 401, 'a body without access_token');
    assert.equal((await callApi(c, 'get_user_info', { content: 'x' }, 'form')).status, 401);
    // access_token is never a search attribute
    const found = await callApi(c, 'search_friend', { access_token: TOKEN, markname: '老张' });
    assert.equal(found.json[0].name, '张伟');
  } finally {
    await strict.close();
    await compat.close();
  }
});

test('CORS and JSONP are off by default', async () => {
  const r = await callApi(s.base, 'get_user_info', { datatype: 'jsonp', callback: 'cb' });
  assert.equal(r.status, 200);
  assert.equal(r.headers['access-control-allow-origin'], undefined);
  assert.match(String(r.headers['content-type']), /^application\/json/);
  assert.equal(r.json.name, '小明同学');
  assert.equal(r.headers['x-content-type-options'], 'nosniff');
  // A page of another origin is refused outright (security-browser.test.ts), without CORS headers.
  const foreign = await callApi(s.base, 'get_user_info', {}, 'query', { origin: 'https://evil.example' });
  assert.equal(foreign.status, 403);
  assert.equal(foreign.headers['access-control-allow-origin'], undefined);
  const pre = await request(`${s.base}/openwx/get_user_info`, {
    method: 'OPTIONS',
    headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
  });
  const body = JSON.parse(await pre.body.text());
  assert.equal(pre.statusCode, 403);
  assert.equal(pre.headers['access-control-allow-origin'], undefined);
  assert.equal(body.code, -1);
  // Without an Origin (a script), OPTIONS is no route of the API.
  const opt = await request(`${s.base}/openwx/get_user_info`, { method: 'OPTIONS', headers: { 'access-control-request-method': 'POST' } });
  assert.equal(opt.statusCode, 404);
  assert.equal(JSON.parse(await opt.body.text()).code, -1);
});

test('CORS opt-in: listed origins only, preflight answered before auth', async () => {
  const api = await extraApi({ token: TOKEN, corsOrigins: ['https://bot.example'] });
  const any = await extraApi({ corsOrigins: ['*'] });
  try {
    const b = api.urls[0]!;
    const pre = await request(`${b}/openwx/send_friend_message`, {
      method: 'OPTIONS',
      headers: { origin: 'https://bot.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
    await pre.body.dump();
    assert.equal(pre.statusCode, 204);
    assert.equal(pre.headers['access-control-allow-origin'], 'https://bot.example');
    assert.match(String(pre.headers['access-control-allow-headers']), /Authorization/);
    const other = await request(`${b}/openwx/get_user_info`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    assert.equal(other.statusCode, 403);
    assert.equal(other.headers['access-control-allow-origin'], undefined);
    assert.equal(JSON.parse(await other.body.text()).code, -1);
    const auth = { authorization: `Bearer ${TOKEN}` };
    const ok = await callApi(b, 'get_user_info', {}, 'query', { ...auth, origin: 'https://bot.example' });
    assert.equal(ok.headers['access-control-allow-origin'], 'https://bot.example');
    assert.equal(ok.headers['vary'], 'Origin');
    const denied = await callApi(b, 'get_user_info', {}, 'query', { origin: 'https://bot.example' });
    assert.equal(denied.status, 401, 'CORS does not bypass the token');
    const evil = await callApi(b, 'get_user_info', {}, 'query', { ...auth, origin: 'https://evil.example' });
    assert.equal(evil.status, 403, 'an origin outside the list is refused, token or not');
    assert.equal(evil.headers['access-control-allow-origin'], undefined);
    const star = await callApi(any.urls[0]!, 'get_client_info', {}, 'query', { origin: 'https://x.example' });
    assert.equal(star.headers['access-control-allow-origin'], '*');
  } finally {
    await api.close();
    await any.close();
  }
});

test('JSONP opt-in: callback(json) with a checked name; search ignores datatype/callback', async () => {
  const api = await extraApi({ jsonp: true });
  try {
    const b = api.urls[0]!;
    const r = await callApi(b, 'get_user_info', { datatype: 'jsonp', callback: 'app.onUser' });
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^application\/javascript/);
    const m = /^\/\*\*\/app\.onUser\((.*)\);$/s.exec(r.text);
    assert.ok(m, r.text.slice(0, 80));
    assert.equal(JSON.parse(m[1]!).name, '小明同学');
    const def = await callApi(b, 'search_friend', { markname: '老张', datatype: 'jsonp' });
    const d = /^\/\*\*\/jsoncallback\d+\((.*)\);$/s.exec(def.text);
    assert.ok(d, def.text.slice(0, 80));
    assert.equal(JSON.parse(d[1]!)[0].name, '张伟');
    for (const callback of ['alert(1)//', 'a b', '1abc', 'x;y', '</script>']) {
      const bad = await callApi(b, 'get_user_info', { datatype: 'jsonp', callback });
      assert.equal(bad.status, 400, callback);
      assert.match(String(bad.headers['content-type']), /^application\/json/);
      assert.equal(bad.json.code, -1);
    }
    const plain = await callApi(b, 'get_user_info', { callback: 'cb' });
    assert.equal(plain.json.name, '小明同学', 'without datatype=jsonp the answer is JSON');
  } finally {
    await api.close();
  }
});

test('request bodies above the limit get HTTP 413 JSON and the server keeps serving', async () => {
  const api = await extraApi({ bodyLimitBytes: 64 * 1024 });
  try {
    const b = api.urls[0]!;
    const big = 'x'.repeat(100 * 1024);
    for (const via of ['json', 'form'] as const) {
      const r = await callApi(b, 'send_friend_message', { id: s.friendId('张伟'), content: big }, via);
      assert.equal(r.status, 413, via);
      assert.equal(r.json.code, -1);
      assert.match(r.json.status, /^bad request: /);
    }
    const file = new File([Buffer.alloc(100 * 1024, 1)], 'big.bin');
    const mp = await callApi(b, 'upload_media', { media_data: file }, 'multipart');
    assert.equal(mp.status, 413, mp.text);
    assert.equal(mp.json.code, -1);
    assert.equal((await callApi(b, 'get_user_info')).status, 200);
  } finally {
    await api.close();
  }
});

test('media_path through the API: only files inside the media folders', async () => {
  const id = s.friendId('张伟');
  writeFileSync(join(s.dataDir, 'outside.png'), 'png');
  for (const media_path of ['../outside.png', `${s.mediaDir}/../outside.png`, join(s.dataDir, 'outside.png'), 'file:///etc/hostname', 'gopher://x/y']) {
    const r = await s.call('send_friend_message', { id, media_path });
    assert.equal(r.json.code, -1, media_path);
    assert.match(r.json.status, /^invalid media: /, media_path);
  }
});

test('files holding secrets are created 0600: the session, the database (with its WAL files), downloaded media', async () => {
  await waitFor(() => readdirSync(s.dataDir).some((f) => /^session-.*\.json$/.test(f)), 'session saved');
  s.sb.handle.inject({ type: 'image', from: '王芳' });
  const media = join(s.dataDir, 'media');
  const files = await waitFor(() => {
    try {
      const f = readdirSync(media);
      return f.length ? f : null;
    } catch {
      return null;
    }
  }, 'media downloaded');
  for (const f of files) assert.equal(statSync(join(media, f)).mode & 0o777, 0o600, f);
  assert.equal(statSync(media).mode & 0o777, 0o700);
  for (const f of readdirSync(s.dataDir)) {
    if (/^session-.*\.json$/.test(f) || /^openwx\.db(-wal|-shm)?$/.test(f)) {
      assert.equal(statSync(join(s.dataDir, f)).mode & 0o777, 0o600, f);
    }
  }
  assert.ok(readdirSync(s.dataDir).includes('openwx.db'));
});
