/**
 * Hostile request bodies and parameters get a clear 400 or an honest "not found" (docs/security.md, "Request
 * limits"): JSON nested thousands deep, invalid UTF-8 in JSON and urlencoded bodies (raw bytes and
 * percent-escapes) and in query strings, and search/lookup parameters named after inherited object properties
 * (`constructor`, `__proto__`, `toString`, `hasOwnProperty`), which must match own fields only.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startStack, type Stack } from '../helpers/stack.ts';

let s: Stack;
before(async () => {
  s = await startStack({});
});
after(async () => {
  await s.close();
});

async function post(path: string, contentType: string, body: string | Buffer): Promise<{ status: number; json: any }> {
  const r = await request(`${s.base}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body });
  const text = await r.body.text();
  return { status: r.statusCode, json: JSON.parse(text) };
}

test('JSON nested 5,000 deep answers 400 with a clear message; 64 deep is still read', async () => {
  for (const [open, close] of [['[', ']'], ['{"a":', '}']]) {
    const deep = `{"id":${open.repeat(5000)}${open === '[' ? '' : '1'}${close.repeat(5000)}}`;
    const r = await post('/openwx/search_friend', 'application/json', deep);
    assert.equal(r.status, 400, JSON.stringify(r.json));
    assert.equal(r.json.code, -1);
    assert.match(r.json.status, /^bad request: JSON nested deeper than 64 levels/);
  }
  // Brackets inside strings are not nesting; 63 levels of objects under the top-level object are fine.
  const ok = await post('/openwx/search_friend', 'application/json', JSON.stringify({ markname: '老张', note: '[[[[{{{{'.repeat(100), x: JSON.parse(`${'{"a":'.repeat(63)}1${'}'.repeat(63)}`) }));
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.json, { code: 100, status: 'object not found' }, 'read and searched (x is no attribute of anyone)');
  const plain = await post('/openwx/search_friend', 'application/json', JSON.stringify({ markname: '老张' }));
  assert.equal(plain.json[0].name, '张伟');
  assert.equal((await s.call('get_user_info')).status, 200, 'still serving');
});

test('invalid UTF-8 in JSON bodies, urlencoded bodies and query strings answers 400', async () => {
  const bad = [Buffer.from([0xff]), Buffer.from([0xc0, 0xaf]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xe4, 0xbd]), Buffer.from([0x80])];
  for (const b of bad) {
    const json = await post('/openwx/search_friend', 'application/json', Buffer.concat([Buffer.from('{"markname":"老'), b, Buffer.from('张"}')]));
    assert.equal(json.status, 400, `JSON ${b.toString('hex')}`);
    assert.match(json.json.status, /^bad request: the JSON body is not valid UTF-8/);
    const form = await post('/openwx/search_friend', 'application/x-www-form-urlencoded', Buffer.concat([Buffer.from('markname='), b]));
    assert.equal(form.status, 400, `form ${b.toString('hex')}`);
    assert.match(form.json.status, /^bad request: the form body is not valid UTF-8/);
    const esc = [...b].map((x) => `%${x.toString(16).padStart(2, '0')}`).join('');
    const form2 = await post('/openwx/search_friend', 'application/x-www-form-urlencoded', `markname=${esc}`);
    assert.equal(form2.status, 400, `form escape ${esc}`);
    assert.match(form2.json.status, /percent-escape does not decode to valid UTF-8/);
    const q = await request(`${s.base}/openwx/search_friend?markname=${esc}`);
    const qj = JSON.parse(await q.body.text());
    assert.equal(q.statusCode, 400, `query ${esc}`);
    assert.match(qj.status, /^bad parameter: query string: a percent-escape does not decode to valid UTF-8/);
  }
  // Valid UTF-8, raw or escaped, and a stray % (kept literally, as before) are read.
  const raw = await post('/openwx/search_friend', 'application/x-www-form-urlencoded', Buffer.from('markname=老张'));
  assert.equal(raw.json[0].name, '张伟');
  const escaped = await post('/openwx/search_friend', 'application/x-www-form-urlencoded', `markname=${encodeURIComponent('老张')}&x=1`);
  assert.equal(escaped.json[0]?.name, undefined, 'x is no attribute: not found');
  assert.equal((await post('/openwx/search_friend', 'application/x-www-form-urlencoded', `markname=${encodeURIComponent('老张')}`)).json[0].name, '张伟');
  const stray = await post('/openwx/search_friend', 'application/x-www-form-urlencoded', 'markname=100%');
  assert.deepEqual(stray.json, { code: 100, status: 'object not found' });
  // Repeated form keys: the last one wins (Mojo's param).
  assert.equal((await post('/openwx/search_friend', 'application/x-www-form-urlencoded', `markname=x&markname=${encodeURIComponent('老张')}`)).json[0].name, '张伟');
});

test('search and lookup routes match own fields only: inherited property names match nothing', async () => {
  const inherited: Record<string, string> = {
    constructor: String(Object),
    toString: String(Object.prototype.toString),
    hasOwnProperty: String(Object.prototype.hasOwnProperty),
    valueOf: String(Object.prototype.valueOf),
    __proto__: String({}),
  };
  const zhang = s.friendId('张伟');
  for (const [key, value] of Object.entries(inherited)) {
    for (const via of ['query', 'form', 'json'] as const) {
      for (const routeName of ['search_friend', 'search_group']) {
        const r = await s.call(routeName, { [key]: value }, via);
        // A JSON body naming __proto__ is refused outright (prototype poisoning); everything else is "not found".
        if (via === 'json' && key === '__proto__') assert.equal(r.status, 400, `${routeName} ${via} ${key}`);
        else assert.deepEqual(r.json, { code: 100, status: 'object not found' }, `${routeName} ${via} ${key}: ${r.text.slice(0, 80)}`);
      }
      // Along with a real attribute: still nothing (the inherited one is not an attribute).
      const both = await s.call('search_friend', { markname: '老张', [key]: value }, via);
      if (!(via === 'json' && key === '__proto__')) assert.deepEqual(both.json, { code: 100, status: 'object not found' }, `${via} ${key} + markname`);
    }
    // Lookups by id: an inherited name is no id.
    for (const routeName of ['send_friend_message', 'send_group_message']) {
      const r = await s.call(routeName, { id: key, content: 'x' });
      assert.equal(r.json.code, 100, `${routeName} id=${key}: ${r.text.slice(0, 80)}`);
    }
  }
  // The real attribute alone still finds its friend.
  const found = await s.call('search_friend', { markname: '老张' });
  assert.equal(found.json[0].id, zhang);
});
