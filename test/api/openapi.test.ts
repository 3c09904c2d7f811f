/**
 * The OpenAPI document: valid OpenAPI 3.1 (checked by an independent validator), listing exactly the routes
 * fastify serves (its own route table, printRoutes), every parameter of every Openwx route's zod schema, and
 * answers that are what the routes really send: every route is called against a real sandbox and each answer is
 * checked against the status, content type and schema the document gives for it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Validator } from '@seriousme/openapi-schema-validator';
import { request } from 'undici';
import { z } from 'zod';
import { schemasById } from '../../src/api/responses.ts';
import { ACCOUNT_ROUTES } from '../../src/api/server.ts';
import { startStack, type CallResult, type Stack, type Via } from '../helpers/stack.ts';
import { nextEvent, waitFor } from '../helpers/wait-for.ts';

const TOKEN = 'openapi-token-123';
const auth = { authorization: `Bearer ${TOKEN}` };
type Doc = { openapi: string; paths: Record<string, Record<string, any>>; components: { schemas: Record<string, unknown> } };

let s: Stack;
let doc: Doc;
/** `METHOD path` of every answer checked against the document (but 401s). */
const checked = new Set<string>();

before(async () => {
  s = await startStack({ openwx: { token: TOKEN }, postApi: true });
  const r = await s.call('openapi.json', {}, 'query', auth);
  assert.equal(r.status, 200);
  doc = r.json;
});
after(async () => {
  await s.close();
});

/** Asserts that the document describes this answer: its status, its content type and (JSON) its schema. */
function documented(method: string, path: string, res: CallResult): CallResult {
  const op = doc.paths[path]?.[method.toLowerCase()];
  assert.ok(op, `${method} ${path} is in the document`);
  const resp = op.responses[String(res.status)];
  assert.ok(resp, `${method} ${path} answered HTTP ${res.status}, which the document does not list (${Object.keys(op.responses)}): ${res.text.slice(0, 300)}`);
  const type = String(res.headers['content-type'] ?? '').split(';')[0]!.trim();
  const content = (resp.content ?? {}) as Record<string, { schema?: { $ref?: string } }>;
  assert.ok(type in content, `${method} ${path} ${res.status}: content type ${type} not documented (${Object.keys(content)})`);
  const ref = content[type]!.schema?.$ref;
  if (type === 'application/json' && ref) {
    const id = ref.split('/').pop()!;
    const schema = schemasById.get(id);
    assert.ok(schema, `schema ${id}`);
    const parsed = schema.safeParse(res.json);
    assert.ok(parsed.success, `${method} ${path} ${res.status} does not match ${id}: ${parsed.error?.message}\n${res.text.slice(0, 600)}`);
  }
  if (res.status !== 401) checked.add(`${method} ${path}`);
  return res;
}

/** Calls an Openwx route (GET with a query, or POST as form/JSON/multipart) and checks the answer. */
async function call(route: string, params: Record<string, unknown> = {}, via: Via = 'query', headers: Record<string, string> = auth): Promise<CallResult> {
  const path = route.startsWith('/') ? route : `/openwx/${route}`;
  return documented(via === 'query' ? 'GET' : 'POST', path, await s.call(route, params, via, headers));
}

/** fastify's own route table (printRoutes), as `METHOD path` without HEAD. */
function fastifyRoutes(): Set<string> {
  const out = new Set<string>();
  const stack: string[] = [];
  for (const line of s.api.app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([\s│├└─]*)(\S.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m || !m[2]) continue;
    const depth = m[1]!.length / 4 - 1; // "└── " is the root's prefix
    const full = (depth > 0 ? stack[depth - 1]! : '') + m[2];
    stack[depth] = full;
    stack.length = depth + 1;
    for (const method of (m[3] ?? '').split(',').map((x) => x.trim()).filter(Boolean)) if (method !== 'HEAD') out.add(`${method} ${full}`);
  }
  return out;
}

test('the document is valid OpenAPI 3.1 and every $ref resolves', async () => {
  assert.equal(doc.openapi, '3.1.0');
  const v = new Validator();
  const res = await v.validate(structuredClone(doc) as Parameters<Validator['validate']>[0]);
  assert.equal(res.valid, true, JSON.stringify(res.errors, null, 1));
  v.resolveRefs();
  for (const m of JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)) assert.ok(doc.components.schemas[m[1]!], `$ref ${m[1]}`);
});

test('it lists exactly the routes fastify serves, all documented, GET and POST for every Openwx route', () => {
  const served = fastifyRoutes();
  const listed = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      listed.add(`${method.toUpperCase()} ${path}`);
      assert.ok(!op['x-undocumented'], `${method.toUpperCase()} ${path} has no documentation`);
      assert.ok(s.api.app.hasRoute({ method: method.toUpperCase() as 'GET', url: path }), `${method} ${path} is served`);
    }
  }
  assert.ok(served.size > 40, `route table parsed: ${[...served].join(', ')}`);
  assert.deepEqual([...listed].sort(), [...served].sort());
  for (const name of ['get_user_info', 'send_friend_message', 'consult', 'check_event', 'upload_media', 'get_qrcode']) {
    assert.ok(doc.paths[`/openwx/${name}`]?.['get'] && doc.paths[`/openwx/${name}`]?.['post'], `${name} GET and POST`);
  }
  for (const p of ['/', '/docs', '/healthz', '/readyz', '/metrics', '/openwx/openapi.json', '/console/api/overview', '/console/api/stream']) {
    assert.ok(doc.paths[p]?.['get'], p);
  }
});

test('every parameter of each route\'s zod schema is a documented parameter; the POST body has the same ones', () => {
  // Every declared JSON route whose parameters are an object (the search routes take any attribute: below).
  const routes = ACCOUNT_ROUTES.flatMap((r): [string, z.ZodType][] => (r.kind === 'json' && r.params instanceof z.ZodObject ? [[r.name, r.params]] : []));
  assert.ok(routes.length >= 20, `declared routes: ${routes.map(([n]) => n).join(', ')}`);
  for (const [name, schema] of routes) {
    const keys = Object.keys((schema as z.ZodObject).shape).sort();
    const get = doc.paths[`/openwx/${name}`]!['get'];
    assert.deepEqual(get.parameters.map((p: { name: string }) => p.name).sort(), keys, name);
    const required = get.parameters.filter((p: { required: boolean }) => p.required).map((p: { name: string }) => p.name);
    const post = doc.paths[`/openwx/${name}`]!['post'];
    for (const type of ['application/x-www-form-urlencoded', 'multipart/form-data', 'application/json']) {
      assert.deepEqual(Object.keys(post.requestBody.content[type].schema.properties ?? {}).sort(), keys, `${name} ${type}`);
    }
    assert.deepEqual((post.requestBody.content['application/json'].schema.required ?? []).sort(), required.sort(), `${name} required`);
  }
  assert.deepEqual(
    doc.paths['/openwx/stick']!['get'].parameters.find((p: { name: string }) => p.name === 'op').schema,
    { type: 'string', enum: ['0', '1'] },
  );
  const search = doc.paths['/openwx/search_friend']!['get'].parameters;
  assert.equal(search.length, 1);
  assert.equal(search[0].schema.type, 'object');
});

test('auth in the document matches the server: public pages and health need no token, the rest answer 401', async () => {
  for (const [path, item] of Object.entries(doc.paths)) {
    const op = item['get'];
    if (!op || path === '/console/api/stream') continue;
    const isPublic = Array.isArray(op.security) && op.security.length === 0;
    const r = await s.call(path, {}, 'query', {});
    if (isPublic) assert.notEqual(r.status, 401, `${path} is public`);
    else documented('GET', path, r), assert.equal(r.status, 401, `${path} needs the token`);
  }
  assert.deepEqual(
    Object.entries(doc.paths)
      .filter(([, i]) => i['get']?.security?.length === 0)
      .map(([p]) => p)
      .sort(),
    ['/', '/console/console.css', '/console/console.js', '/console/docs.js', '/docs', '/healthz', '/readyz'],
  );
});

test('real answers of every route match the document', async () => {
  const zhang = s.friendId('张伟');
  const family = s.groupId('相亲相爱一家人');
  // Information and search.
  await call('get_user_info');
  await call('get_friend_info', {}, 'form');
  await call('get_group_info');
  await call('get_group_basic_info', {}, 'json');
  await call('search_friend', { province: '广东' });
  assert.equal((await call('search_friend', { name: 'nobody' })).json.code, 100);
  await call('search_group', { displayname: '相亲相爱一家人' });
  assert.equal((await call('search_group', { name: 'none' }, 'form')).json.code, 100);
  // Sending: sync, async, failures, bad parameter.
  const sent = await call('send_friend_message', { id: zhang, content: 'openapi' });
  assert.equal(sent.json.code, 0);
  await call('send_friend_message', { displayname: 'echo', content: 'bg', async: '1' }, 'json');
  assert.equal((await call('send_friend_message', { id: '@nobody', content: 'x' })).json.code, 100);
  assert.equal((await call('send_friend_message', { id: zhang })).status, 400);
  await call('send_group_message', { id: family, content: '群' }, 'form');
  await call('send_friend_message', { id: zhang, media_data: Buffer.from('%PDF-1.4 doc').toString('base64'), media_name: 'a.pdf' }, 'json');
  await call('consult', { displayname: 'echo', content: '在吗' });
  await call('consult', { displayname: '刘强', content: '在吗', timeout: '1' }, 'form');
  assert.equal((await call('consult', { displayname: 'echo', timeout: 'x' })).status, 400);
  assert.equal((await call('revoke_message', { id: sent.json.id })).json.code, 0);
  assert.equal((await call('revoke_message', { id: 'bad' })).json.code, 201);
  assert.equal((await call('revoke_message', {})).json.code, -1);
  const up = await call('upload_media', { media_data: Buffer.from('hello file').toString('base64'), media_name: 'b.txt' }, 'json');
  assert.equal(up.json.code, 0);
  assert.equal((await call('upload_media', { media_data: '***' }, 'json')).json.code, -1);
  // Groups and friends.
  const created = await call('create_group', { friends: `${zhang},${s.friendId('王芳')}`, displayname: '文档群' });
  const gid = created.json.group_id as string;
  assert.equal((await call('create_group', { friend: '@x' })).json.code, 100);
  await call('invite_friend', { id: gid, friend: s.friendId('陈静') }, 'form');
  await call('kick_group_member', { id: gid, members: s.friendId('陈静') }, 'json');
  await call('set_group_displayname', { id: gid, new_displayname: '改名' });
  assert.equal((await call('set_group_displayname', { id: gid })).status, 400);
  await call('set_friend_markname', { id: s.friendId('王芳'), new_markname: '芳' });
  await call('set_markname', { id: s.friendId('王芳'), new_markname: '' });
  await call('stick', { id: zhang, op: '1' });
  const tech = s.client.groups().find((g) => g.name.startsWith('技术交流群'))!;
  const member = tech.member.find((m) => !s.client.friend(m.id) && m.id !== s.client.user()!.id)!;
  await call('make_friend', { id: member.id, verify: 'hi' });
  assert.equal((await call('make_friend', { id: zhang })).json.code, 101);
  const ev = nextEvent<[string, string, string, string]>(s.client, 'friend_request');
  s.sb.handle.inject({ type: 'friend_request', from: '何杰', content: '加个好友' });
  const [rid, rname, , ticket] = await ev;
  assert.equal((await call('accept_friend_request', { id: rid, displayname: rname, ticket })).json.code, 0);
  // Media.
  const avatar = await call('get_avatar', { id: zhang });
  assert.equal(avatar.status, 200);
  assert.equal((await call('get_avatar', { id: '@nobody' })).json.code, 100);
  // post_api dead letters (none here).
  const dead = await call('get_dead_letters', { limit: '10' });
  assert.equal(dead.json.code, 0);
  assert.equal((await call('replay_dead_letters', { event_id: 'nope' }, 'form')).json.code, 100);
  // Events and client.
  await waitFor(() => s.api.events.size > 0, 'queued reports');
  const events = await call('check_event');
  assert.ok(events.json.length > 0);
  await call('get_client_info', {}, 'json');
  // post_api outbox: dead letters and their replay.
  assert.equal((await call('get_dead_letters', { limit: '10' })).json.total, 0);
  assert.equal((await call('replay_dead_letters', { event_id: 'none' }, 'form')).json.code, 100);
  assert.equal((await call('replay_dead_letters')).json.replayed, 0);
  assert.equal((await call('get_qrcode')).status, 404, 'no QR once logged in');
  // Operator surface.
  for (const p of ['/', '/docs', '/console/console.js', '/console/console.css', '/console/docs.js', '/healthz', '/readyz', '/metrics', '/openwx/openapi.json']) {
    await call(p);
  }
  const overview = await call('/console/api/overview');
  assert.equal(overview.json.state, 'running');
  const accounts = await call('/console/api/accounts');
  assert.deepEqual(accounts.json, { controller: false, accounts: [{ client: s.client.account, state: 'running', user: s.client.user()!.displayname, qrcode: null }] });
  const recent = await call('/console/api/recent');
  assert.ok(recent.json.some((m: { content: string }) => m.content === 'openapi'));
  // OneBot is off here: the panel's route says so.
  assert.deepEqual((await call('/console/api/onebot')).json, { enabled: false, token: false, self: {}, endpoints: [] });
  // The event stream: its type and its first event, then hang up.
  const st = await request(`${s.base}/console/api/stream`, { headers: auth });
  assert.equal(st.statusCode, 200);
  assert.match(String(st.headers['content-type']), /^text\/event-stream/);
  assert.ok(doc.paths['/console/api/stream']!['get'].responses['200'].content['text/event-stream']);
  for await (const chunk of st.body) {
    assert.match(String(chunk), /^event: state\ndata: \{"state":"running"\}\n\n/);
    break;
  }
  st.body.destroy();
  checked.add('GET /console/api/stream');
  // stop_client last: it stops the client.
  await call('stop_client', {}, 'form');
  await waitFor(() => s.client.state === 'stop', 'stopped');
  assert.equal((await call('send_friend_message', { id: zhang, content: 'x' })).status, 503);
  // Every path of the document was called at least once.
  const calledPaths = new Set([...checked].map((k) => k.split(' ')[1]));
  assert.deepEqual(Object.keys(doc.paths).filter((p) => !calledPaths.has(p)), []);
});

test('before login: 503 for what needs a session, the QR image, not ready', async () => {
  const t = await startStack({ noLogin: true, sandbox: { autoLoginMs: undefined } });
  try {
    void t.client.run().catch(() => undefined);
    await waitFor(() => t.client.qrcodePath(), 'QR waiting');
    const check = (method: string, path: string, r: CallResult) => documented(method, path, r);
    check('GET', '/openwx/get_user_info', await t.call('get_user_info'));
    check('POST', '/openwx/send_group_message', await t.call('send_group_message', { displayname: 'x', content: 'y' }, 'json'));
    check('GET', '/openwx/consult', await t.call('consult', { id: '@x', content: 'y' }));
    const qr = check('GET', '/openwx/get_qrcode', await t.call('get_qrcode'));
    assert.equal(qr.status, 200);
    check('GET', '/readyz', await t.call('/readyz'));
    check('GET', '/console/api/overview', await t.call('/console/api/overview'));
  } finally {
    await t.close();
  }
});
