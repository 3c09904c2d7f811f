/**
 * 1,000 malformed requests against the real API server (generated deterministically from a seed): unknown routes
 * and methods, wrong types, huge values (within and beyond the body limit), invalid UTF-8 in paths, queries and
 * bodies, missing parameters, bad JSON, bad multipart, unsupported bodies, broken HTTP. Every answer must be a 4xx
 * (or an in-band HTTP 200 Openwx failure) with a JSON body `{code≠0, status}`: never a 5xx, never a hang. The
 * server keeps serving afterwards.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { request } from 'undici';
import { startStack, type Stack } from '../helpers/stack.ts';

const BODY_LIMIT = 256 * 1024;
let s: Stack;
before(async () => {
  s = await startStack({ openwx: { bodyLimitBytes: BODY_LIMIT } });
});
after(async () => {
  await s.close();
});

/** mulberry32: a small seeded PRNG, so the 1,000 requests are the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Req {
  what: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}
/** Raw bytes written to a socket (requests Node's HTTP parser refuses). */
interface Raw {
  what: string;
  raw: string | Buffer;
}

/** Routes that validate their parameters, with parameter sets that can never succeed. */
const NO_SUCH = '@nobody0000000000000000000000000';
const GROUP_NO_SUCH = '@@nobody000000000000000000000000000000000000000000000000000000000';
const NOT_FOUND_TARGETS: [string, Record<string, unknown>][] = [
  ['send_friend_message', { id: NO_SUCH, content: 'x' }],
  ['send_friend_message', { markname: '没有这个人', media_path: '../../etc/passwd' }],
  ['send_friend_message', { content: 'no target at all' }],
  ['send_group_message', { id: GROUP_NO_SUCH, content: 'x' }],
  ['send_group_message', { displayname: '没有这个群', media_id: 'x:1' }],
  ['consult', { id: NO_SUCH, content: 'x', timeout: '1' }],
  ['get_avatar', { id: NO_SUCH }],
  ['search_friend', { no_such_attribute: 'x' }],
  ['search_group', { displayname: '没有这个群' }],
  ['set_friend_markname', { id: NO_SUCH, new_markname: 'x' }],
  ['set_markname', { id: NO_SUCH, group_id: GROUP_NO_SUCH, new_markname: 'x' }],
  ['set_group_displayname', { id: GROUP_NO_SUCH, new_displayname: 'x' }],
  ['invite_friend', { id: GROUP_NO_SUCH, friends: NO_SUCH }],
  ['kick_group_member', { id: GROUP_NO_SUCH, members: NO_SUCH }],
  ['create_group', { friends: `${NO_SUCH},${NO_SUCH}1` }],
  ['make_friend', { id: NO_SUCH }],
  ['revoke_message', { id: '12345' }],
  ['revoke_message', {}],
  ['upload_media', { media_data: '*** not base64 ***' }],
  ['upload_media', { media_path: '/etc/passwd' }],
  ['replay_dead_letters', { event_id: 'no-such-event' }],
];
const MISSING_OR_WRONG: [string, Record<string, unknown>][] = [
  ['send_friend_message', { id: NO_SUCH }],
  ['consult', { id: NO_SUCH, content: 'x', timeout: 'soon' }],
  ['consult', { id: NO_SUCH, content: 'x', timeout: '-1' }],
  ['consult', { id: NO_SUCH, content: 'x', timeout: '1e309' }],
  ['consult', { id: NO_SUCH, content: 'x', timeout: '99999999999999999999999' }],
  ['set_group_displayname', { id: GROUP_NO_SUCH }],
  ['set_friend_markname', { id: NO_SUCH }],
  ['set_markname', {}],
  ['make_friend', {}],
  ['accept_friend_request', { id: NO_SUCH }],
  ['accept_friend_request', { ticket: 'x' }],
  ['stick', {}],
  ['stick', { id: NO_SUCH, op: '7' }],
  ['stick', { id: NO_SUCH, op: 'yes' }],
  ['get_dead_letters', { limit: 'many' }],
  ['get_dead_letters', { limit: '0' }],
  ['get_dead_letters', { limit: '-5' }],
  ['get_dead_letters', { limit: '1e9' }],
  ['get_dead_letters', { limit: '123456789012345678901234567890' }],
  ['replay_dead_letters', { event_id: '' }],
  ['replay_dead_letters', { event_id: ',,,' }],
];

const WEIRD_VALUES: unknown[] = [
  { nested: { deep: [1, 2, { x: null }] } },
  [1, 'two', { three: 3 }],
  [],
  {},
  12345678901234567890,
  -0.000001,
  1e308,
  true,
  false,
  null,
  '',
  ' ',
  '\u0000',
  '\uD800',
  '\u202E',
  '💥'.repeat(1000),
  'x'.repeat(100_000),
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  '%00%ff',
  '../../../../etc/passwd',
];

const BAD_UTF8 = ['%ff', '%fe%ff', '%c0%af', '%e0%80%80', '%ed%a0%80', '%f8%88%80%80%80', '%80', '%c3', '%e4%bd'];
const BAD_UTF8_BYTES = [Buffer.from([0xff]), Buffer.from([0xc0, 0xaf]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xe4, 0xbd]), Buffer.from([0x80, 0x80])];

function qs(params: Record<string, unknown>): string {
  return Object.entries(params)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(typeof v === 'string' ? v : JSON.stringify(v))}`)
    .join('&');
}

function generate(): (Req | Raw)[] {
  const rnd = prng(20240615);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const out: (Req | Raw)[] = [];
  const kinds: (() => Req | Raw)[] = [
    // unknown routes and methods
    () => ({ what: 'unknown route', method: pick(['GET', 'POST']), path: `/openwx/no_such_${Math.floor(rnd() * 1e6)}` }),
    () => ({ what: 'unknown path', method: 'GET', path: pick(['/x', '/openwx', '/openwx/', '/openwx//get_user_info', '/openwx/get_user_info/extra', '/../../etc/passwd', '/openwx/GET_USER_INFO']) }),
    () => ({ what: 'wrong method', method: pick(['PUT', 'DELETE', 'PATCH']), path: `/openwx/${pick(['get_user_info', 'send_friend_message', 'check_event'])}` }),
    // invalid UTF-8 / bad percent-encoding in the path and the query
    () => ({ what: 'bad path encoding', method: 'GET', path: `/openwx/${pick(BAD_UTF8)}${pick(['', 'x', '%', '%zz', '%e4%bd%a0'])}` }),
    () => {
      const [route, params] = pick(NOT_FOUND_TARGETS);
      const key = pick(Object.keys(params).length ? Object.keys(params) : ['content']);
      return { what: `bad UTF-8 in query of ${route}`, method: 'GET', path: `/openwx/${route}?${qs(params).replace(new RegExp(`(^|&)${key}=[^&]*`), `$1${key}=${pick(BAD_UTF8)}%zz`)}&${pick(BAD_UTF8)}=${pick(BAD_UTF8)}` };
    },
    // wrong types and huge values in JSON bodies (within the body limit)
    () => {
      const [route, params] = pick(NOT_FOUND_TARGETS);
      const body: Record<string, unknown> = { ...params };
      for (const k of [...Object.keys(params), pick(['content', 'media_name', 'timeout', 'async', 'op', 'limit'])]) {
        if (rnd() < 0.5 && !['id', 'markname', 'displayname', 'friends', 'members', 'event_id'].includes(k)) body[k] = pick(WEIRD_VALUES);
      }
      return { what: `wrong types (JSON) for ${route}`, method: 'POST', path: `/openwx/${route}`, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
    },
    () => {
      const [route, params] = pick(MISSING_OR_WRONG);
      const via = pick(['query', 'form', 'json'] as const);
      if (via === 'query') return { what: `missing/wrong params (query) ${route}`, method: 'GET', path: `/openwx/${route}?${qs(params)}` };
      if (via === 'form') return { what: `missing/wrong params (form) ${route}`, method: 'POST', path: `/openwx/${route}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: qs(params) };
      return { what: `missing/wrong params (JSON) ${route}`, method: 'POST', path: `/openwx/${route}`, headers: { 'content-type': 'application/json' }, body: JSON.stringify(params) };
    },
    // invalid UTF-8 in bodies
    () => {
      const [route, params] = pick(NOT_FOUND_TARGETS);
      const json = Buffer.from(JSON.stringify({ ...params, content: '@@BAD@@' }));
      const i = json.indexOf('@@BAD@@');
      const body = Buffer.concat([json.subarray(0, i), pick(BAD_UTF8_BYTES), json.subarray(i + 7)]);
      return { what: `bad UTF-8 in JSON body of ${route}`, method: 'POST', path: `/openwx/${route}`, headers: { 'content-type': 'application/json' }, body };
    },
    () => {
      const [route, params] = pick(NOT_FOUND_TARGETS);
      return { what: `bad UTF-8 in form of ${route}`, method: 'POST', path: `/openwx/${route}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: Buffer.concat([Buffer.from(`${qs(params)}&content=`), pick(BAD_UTF8_BYTES), Buffer.from(`&x=${pick(BAD_UTF8)}`)]) };
    },
    // bad JSON and bodies that are not parameter objects
    () => ({
      what: 'bad JSON',
      method: 'POST',
      path: `/openwx/${pick(NOT_FOUND_TARGETS)[0]}`,
      headers: { 'content-type': pick(['application/json', 'application/json; charset=utf-8', 'application/vnd.api+json']) },
      body: pick(['{"a":', '{', '}', '[1,2', '{"id":"x",}', 'nul', '{"a":1}{"b":2}', '\u0000', '{"__proto__":{"x":1}}x', '[]', '[1,2,3]', '"string"', '123', 'null', 'true']),
    }),
    () => ({
      what: 'unsupported body type',
      method: 'POST',
      path: `/openwx/${pick(NOT_FOUND_TARGETS)[0]}`,
      headers: { 'content-type': pick(['text/plain', 'application/xml', 'application/octet-stream', 'image/png', 'foo', 'text/html; charset=utf-8']) },
      body: pick(['id=1&content=2', '<xml/>', '\u0000\u0001\u0002', 'hello']),
    }),
    // bad multipart
    () => {
      const b = `b${Math.floor(rnd() * 1e9)}`;
      const [ct, body] = pick([
        [`multipart/form-data; boundary=${b}`, `--other\r\nContent-Disposition: form-data; name="id"\r\n\r\nx\r\n--other--\r\n`],
        [`multipart/form-data; boundary=${b}`, `--${b}\r\nContent-Disposition: form-data; name="id"\r\n\r\nunterminated`],
        ['multipart/form-data', `--${b}\r\n\r\n`],
        [`multipart/form-data; boundary=${b}`, `--${b}\r\nno-disposition: yes\r\n\r\nx\r\n--${b}--\r\n`],
        [`multipart/form-data; boundary=${b}`, ''],
        [`multipart/form-data; boundary=${b}`, `--${b}\r\nContent-Disposition: form-data; name="media_data"; filename="a.bin"\r\n\r\n`],
        [`multipart/form-data; boundary=${b}`, `--${b}--\r\n`],
      ] as const);
      return { what: 'bad multipart', method: 'POST', path: `/openwx/${pick(NOT_FOUND_TARGETS)[0]}`, headers: { 'content-type': ct }, body };
    },
    // huge values within the limit and bodies beyond it
    () => ({
      what: 'huge JSON value (within the limit)',
      method: 'POST',
      path: '/openwx/send_friend_message',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: NO_SUCH, content: 'x'.repeat(Math.floor(BODY_LIMIT * 0.8)) }),
    }),
    () => ({
      what: 'body beyond the limit',
      method: 'POST',
      path: `/openwx/${pick(NOT_FOUND_TARGETS)[0]}`,
      headers: { 'content-type': pick(['application/json', 'application/x-www-form-urlencoded']) },
      body: `{"content":"${'y'.repeat(BODY_LIMIT + 1024)}"}`,
    }),
    () => ({ what: 'huge query', method: 'GET', path: `/openwx/search_friend?${'a'.repeat(10)}=${'b'.repeat(Math.floor(4000 + rnd() * 6000))}` }),
    () => ({ what: 'many params', method: 'GET', path: `/openwx/search_friend?${Array.from({ length: 500 }, (_, i) => `k${i}=v`).join('&')}` }),
    // broken HTTP: rejected by Node's parser
    (): Raw => ({
      what: 'broken HTTP',
      raw: pick([
        'GARBAGE\r\n\r\n',
        'GET /openwx/get_user_info HTTP/9.9\r\n\r\n',
        'GET /openwx/get_user_info HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
        'POST /openwx/send_friend_message HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
        `GET /openwx/get_user_info HTTP/1.1\r\nHost: x\r\nX-Big: ${'h'.repeat(20_000)}\r\n\r\n`,
        'GET /openwx/get_user_info HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n',
      ]),
    }),
  ];
  for (let i = 0; i < 1000; i++) out.push(pick(kinds)());
  return out;
}

interface Answer {
  status: number;
  text: string;
  contentType: string;
}

async function send(r: Req): Promise<Answer> {
  const res = await request(`${s.base}${r.path}`, {
    method: r.method as 'GET',
    headers: r.headers ?? {},
    ...(r.body !== undefined ? { body: r.body } : {}),
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  return { status: res.statusCode, text: await res.body.text(), contentType: String(res.headers['content-type'] ?? '') };
}

function sendRaw(r: Raw): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const url = new URL(s.base);
    const sock = connect(Number(url.port), url.hostname);
    let data = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer to ${r.what}`));
    }, 10_000);
    sock.on('data', (d) => (data += d.toString('utf8')));
    sock.on('error', () => undefined);
    sock.on('close', () => {
      clearTimeout(timer);
      const m = /^HTTP\/1\.1 (\d{3})[^\r]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(data);
      if (!m) return reject(new Error(`unparsable answer to ${r.what}: ${JSON.stringify(data.slice(0, 200))}`));
      const ct = /content-type: ([^\r]+)/i.exec(m[2]!)?.[1] ?? '';
      resolve({ status: Number(m[1]), text: m[3]!, contentType: ct });
    });
    sock.write(r.raw);
  });
}

test('1,000 malformed requests: only 4xx (or in-band) JSON failures, never a 5xx or a hang; the server keeps serving', async () => {
  const reqs = generate();
  assert.equal(reqs.length, 1000);
  const kinds = new Set(reqs.map((r) => r.what.split(' of ')[0]!.split(' (')[0]));
  assert.ok(kinds.size >= 15, `variety: ${[...kinds].join(', ')}`);
  const problems: string[] = [];
  const statuses = new Map<number, number>();
  for (let i = 0; i < reqs.length; i += 10) {
    const batch = reqs.slice(i, i + 10);
    const answers = await Promise.all(batch.map((r) => ('raw' in r ? sendRaw(r) : send(r)).catch((e: Error) => e)));
    batch.forEach((r, j) => {
      const a = answers[j]!;
      const label = `#${i + j} ${r.what}${'path' in r ? ` ${r.method} ${r.path.slice(0, 120)}` : ''}`;
      if (a instanceof Error) return void problems.push(`${label}: ${a.message}`);
      statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
      let json: { code?: unknown; status?: unknown } | undefined;
      try {
        json = JSON.parse(a.text);
      } catch {
        json = undefined;
      }
      const inBand = a.status === 200;
      if (a.status >= 500) problems.push(`${label}: HTTP ${a.status} ${a.text.slice(0, 200)}`);
      else if (!inBand && (a.status < 400 || a.status >= 500)) problems.push(`${label}: HTTP ${a.status}`);
      else if (!/^application\/json/.test(a.contentType)) problems.push(`${label}: HTTP ${a.status} content type ${a.contentType}: ${a.text.slice(0, 120)}`);
      else if (!json || typeof json !== 'object' || typeof json.code !== 'number' || json.code === 0 || typeof json.status !== 'string' || !json.status) {
        problems.push(`${label}: HTTP ${a.status} not an Openwx failure: ${a.text.slice(0, 200)}`);
      }
    });
  }
  assert.deepEqual(problems.slice(0, 30), [], `${problems.length} bad answers`);
  assert.ok((statuses.get(400) ?? 0) > 100 && (statuses.get(404) ?? 0) > 50 && (statuses.get(413) ?? 0) > 10, JSON.stringify([...statuses]));
  // still serving
  const me = await s.call('get_user_info');
  assert.equal(me.status, 200);
  assert.equal(me.json.name, '小明同学');
  const sent = await s.call('send_friend_message', { markname: '老张', content: '还活着' });
  assert.equal(sent.json.code, 0);
});
