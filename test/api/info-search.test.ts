import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, callApi, type Stack, type Via } from '../helpers/stack.ts';
import { checkAuthSetting, startOpenwx } from '../../src/host/index.ts';
import { isOpenwxError } from '../../src/errors.ts';

let s: Stack;
before(async () => {
  s = await startStack();
});
after(() => s.close());

test('get_user_info / get_friend_info / get_group_info / get_group_basic_info, by GET and POST', async () => {
  for (const via of ['query', 'form'] as Via[]) {
    const u = await s.call('get_user_info', {}, via);
    assert.equal(u.status, 200);
    assert.equal(u.json.name, '小明同学');
    assert.equal(u.json.id, s.client.user()!.id);
    const f = await s.call('get_friend_info', {}, via);
    assert.ok(Array.isArray(f.json));
    const zhang = f.json.find((x: any) => x.name === '张伟');
    assert.equal(zhang.markname, '老张');
    assert.equal(zhang.displayname, '老张');
    assert.equal(zhang.category, '好友');
    assert.equal(typeof zhang.id, 'string');
    const g = await s.call('get_group_info', {}, via);
    const fam = g.json.find((x: any) => x.name === '相亲相爱一家人');
    assert.ok(Array.isArray(fam.member) && fam.member.length >= 4);
    const b = await s.call('get_group_basic_info', {}, via);
    assert.ok(b.json.length === g.json.length && b.json.every((x: any) => !('member' in x)));
  }
  const head = await callApi(s.base, 'get_user_info');
  assert.match(String(head.headers['content-type']), /application\/json/);
});

test('search_friend with Chinese params through query, form, JSON and multipart', async () => {
  for (const via of ['query', 'form', 'json', 'multipart'] as Via[]) {
    const r = await s.call('search_friend', { province: '广东', city: '深圳' }, via);
    assert.equal(r.status, 200, via);
    assert.deepEqual(r.json.map((x: any) => x.name), ['张伟'], via);
    const m = await s.call('search_friend', { markname: '老张' }, via);
    assert.equal(m.json[0].name, '张伟', via);
  }
});

test('search: no match, an unknown attribute, or no attribute at all is code 100, never a 500', async () => {
  for (const q of [{ name: 'nobody' }, { foo: 'bar' }, {}, { client: 'c1' }]) {
    const r = await s.call('search_friend', q);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { code: 100, status: 'object not found' });
  }
  const g = await s.call('search_group', { displayname: '技术交流群🚀' });
  assert.equal(g.json.length, 1);
  assert.ok(g.json[0].member.length > 3);
  const n = await s.call('search_group', { displayname: '没有这个群' }, 'json');
  assert.equal(n.json.code, 100);
});

test('the body wins over the query; JSON numbers and arrays become strings', async () => {
  const r = await callApi(s.base, '/openwx/search_friend?markname=nobody', { markname: '老张' }, 'form');
  assert.equal(r.json[0]?.name, '张伟');
  const id = s.friendId('张伟');
  const j = await s.call('search_friend', { id: [id], sex: 'male' }, 'json');
  assert.equal(j.json[0]?.id, id);
});

test('unknown routes: HTTP 404 {"code":-1,"status":"api not found"}', async () => {
  for (const path of ['/openwx/send_message', '/console/nope', '/foo/bar']) {
    const r = await callApi(s.base, path);
    assert.equal(r.status, 404);
    assert.deepEqual(r.json, { code: -1, status: 'api not found' });
  }
});

test('bad bodies are 4xx JSON, never a 500 or a hang', async () => {
  const { request } = await import('undici');
  const bad = await request(`${s.base}/openwx/search_friend`, { method: 'POST', body: '{"name":', headers: { 'content-type': 'application/json' } });
  assert.equal(bad.statusCode, 400);
  const j = (await bad.body.json()) as any;
  assert.equal(j.code, -1);
  assert.match(j.status, /^bad request: /);
  const arr = await request(`${s.base}/openwx/search_friend`, { method: 'POST', body: '[1,2]', headers: { 'content-type': 'application/json' } });
  assert.equal(arr.statusCode, 400);
  assert.match(((await arr.body.json()) as any).status, /JSON body must be an object/);
  const odd = await request(`${s.base}/openwx/get_user_info`, { method: 'POST', body: 'x', headers: { 'content-type': 'application/x-unknown' } });
  assert.equal(odd.statusCode, 415);
  assert.equal(((await odd.body.json()) as any).code, -1);
  const badParam = await s.call('consult', { id: s.friendId('echo'), content: 'x', timeout: 'soon' });
  assert.equal(badParam.status, 400);
  assert.equal(badParam.json.status, 'bad parameter: timeout: expected a number of seconds, up to 600');
});

test('token auth: Bearer required, constant answer {"code":-6,"status":"auth failure"} with HTTP 401', async () => {
  const api = await startOpenwx(s.client, { listen: { host: '127.0.0.1', port: 0 }, token: 's3cret-token' });
  try {
    const base = api.urls[0]!;
    for (const h of [{}, { authorization: 'Bearer wrong' }, { authorization: 's3cret-token' }] as Record<string, string>[]) {
      const r = await callApi(base, 'get_user_info', {}, 'query', h);
      assert.equal(r.status, 401);
      assert.deepEqual(r.json, { code: -6, status: 'auth failure' });
    }
    const ok = await callApi(base, 'get_user_info', {}, 'query', { authorization: 'Bearer s3cret-token' });
    assert.equal(ok.status, 200);
    assert.equal(ok.json.name, '小明同学');
    const nf = await callApi(base, 'nothing', {}, 'query', {});
    assert.equal(nf.status, 401, 'auth is checked before routing');
  } finally {
    await api.close();
  }
});

test('a non-loopback host without a token is refused unless insecureNoAuth', () => {
  assert.throws(() => checkAuthSetting({ listen: { host: '0.0.0.0', port: 1 } }), (e) => isOpenwxError(e, 'OWX_ERR_CONFIG'));
  checkAuthSetting({ listen: { host: '0.0.0.0', port: 1 }, token: 'long-enough' });
  checkAuthSetting({ listen: { host: '0.0.0.0', port: 1 }, insecureNoAuth: true });
  checkAuthSetting({ listen: { host: '127.0.0.1', port: 1 } });
  checkAuthSetting({ listen: { host: '::1', port: 1 } });
});
