/**
 * No secret reaches a log line at any level, on the API's HTTP layer (docs/security.md, "Secrets in logs"): the API
 * logs at level trace into a capture while multipart, urlencoded, JSON and query requests carry the token in
 * `Authorization`, in `access_token` (query and body) and a session cookie in `Cookie` — accepted, refused, unknown
 * routes and malformed bodies alike. Multipart parsing logs its options (request headers included) at trace level.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { request, FormData } from 'undici';
import { startStack, type Stack } from '../helpers/stack.ts';

const TOKEN = 'trace-token-5d1e0c77a9';
const COOKIE = 'cookie-secret-93be1f0f';
const lines: string[] = [];
const logger = pino({ level: 'trace' }, { write: (s: string) => void lines.push(s) });

let s: Stack;
before(async () => {
  s = await startStack({ openwx: { logger, token: TOKEN, accessTokenParam: true } });
});
after(async () => {
  await s.close();
});

function form(fields: Record<string, string>, file = false): FormData {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  if (file) fd.append('media_data', new Blob([Buffer.from('not really a picture')], { type: 'image/png' }), 'p.png');
  return fd;
}

test('trace-level logs of multipart, form, JSON and query requests carry no token, access_token or cookie', async () => {
  const id = s.friendId('张伟');
  const cookie = `sessionid=${COOKIE}; other=1`;
  const auth = { authorization: `Bearer ${TOKEN}`, cookie };
  const calls: [string, Parameters<typeof request>[1]][] = [
    // multipart, token in the header (and repeated in the body), with a file
    [`/openwx/send_friend_message`, { method: 'POST', headers: auth, body: form({ id, content: 'multipart 1', access_token: TOKEN }, true) }],
    // multipart, token in the query
    [`/openwx/send_friend_message?access_token=${TOKEN}`, { method: 'POST', headers: { cookie }, body: form({ id, content: 'multipart 2' }) }],
    // multipart with a wrong token in the header: refused
    [`/openwx/send_friend_message`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}-wrong`, cookie }, body: form({ id, content: 'x' }) }],
    // a malformed multipart body with a valid token
    [`/openwx/send_friend_message`, { method: 'POST', headers: { ...auth, 'content-type': 'multipart/form-data; boundary=zzz' }, body: '--zzz\r\nbroken' }],
    // urlencoded and JSON with the token in the body
    [`/openwx/get_user_info`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie }, body: `access_token=${TOKEN}` }],
    [`/openwx/get_user_info`, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: JSON.stringify({ access_token: TOKEN }) }],
    // bad JSON, an unknown route, a query token
    [`/openwx/get_user_info`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"access_token":' }],
    [`/openwx/no_such_route?access_token=${TOKEN}`, { method: 'GET', headers: { cookie } }],
    [`/openwx/get_user_info?access_token=${TOKEN}`, { method: 'GET', headers: { cookie } }],
  ];
  const statuses: number[] = [];
  for (const [path, opts] of calls) {
    const r = await request(`${s.base}${path}`, opts);
    await r.body.dump();
    statuses.push(r.statusCode);
  }
  assert.deepEqual(statuses, [200, 200, 401, 400, 200, 200, 400, 404, 200]);
  const log = lines.join('');
  // The capture did see the API's trace output, multipart parsing included.
  assert.match(log, /busboy/, 'multipart parsing logs at trace level');
  assert.ok(lines.length >= 6, `${lines.length} log lines`);
  for (const [what, secret] of [['token', TOKEN], ['cookie', COOKIE]] as const) {
    const at = log.indexOf(secret);
    assert.equal(at, -1, `the ${what} reached the log: …${log.slice(Math.max(0, at - 300), at + 50)}`);
  }
});
