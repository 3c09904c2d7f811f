/**
 * The sandbox's per-request HTTP helpers are written for speed (cookie scanned in place, cookie dates by position and
 * cached per second, query lookups without copying). Each must give what its plain formulation gives: the references
 * below (the helpers as first written) are the oracles, on seeded random input and on the edge cases.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyRequest } from 'fastify';
import { cookie, cookieDate, CookieDates, qparam, query } from '../../src/sandbox/http-util.ts';
import { createRng } from '../../src/sandbox/rng.ts';

const refCookie = (h: string | undefined, name: string): string | undefined => {
  if (!h) return undefined;
  let found: string | undefined;
  for (const part of h.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    if (part.slice(0, i).trim() === name) found = part.slice(i + 1).trim();
  }
  return found;
};
const refCookieDate = (ms: number): string => {
  const d = new Date(ms).toUTCString();
  const m = /^(\w+), (\d+) (\w+) (\d+) (.*)$/.exec(d);
  return m ? `${m[1]}, ${m[2]}-${m[3]}-${m[4]} ${m[5]}` : d;
};
const refQparam = (q: Record<string, string>, name: string): string | undefined => {
  if (q[name] !== undefined) return q[name];
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(q)) if (k.toLowerCase() === lower) return v;
  return undefined;
};
const req = (o: { cookie?: string; query?: Record<string, unknown> }) => ({ headers: { cookie: o.cookie }, query: o.query }) as unknown as FastifyRequest;

test('cookie: the last part whose trimmed name matches, its value trimmed (seeded random headers)', () => {
  const rng = createRng(7);
  const bits = ['wxsid', 'wxuin', 'wxsid2', 'xwxsid', '=', ';', ' ', '\t', '\u00a0', '\u3000', '\ufeff', '\u200b', '\u2003', '\u2028', '\n', 'a', '+/=', '"q"', ''];
  for (let i = 0; i < 50000; i++) {
    let h = '';
    for (let n = rng.int(14); n > 0; n--) h += rng.pick(bits);
    for (const name of ['wxsid', 'wxuin', 'a', '']) assert.equal(cookie(req({ cookie: h }), name), refCookie(h, name), JSON.stringify(h));
  }
  assert.equal(cookie(req({ cookie: 'wxsid=a; wxuin=1; wxsid= b+c ' }), 'wxsid'), 'b+c');
  assert.equal(cookie(req({ cookie: 'wxsid' }), 'wxsid'), undefined);
  assert.equal(cookie(req({}), 'wxsid'), undefined);
  assert.equal(cookie(req({ cookie: ' wxsid =x=y;' }), 'wxsid'), 'x=y');
});

test('cookieDate: the server format for every date (four-digit years by position, the rest through the pattern)', () => {
  for (let ms = -8.64e15; ms <= 8.64e15; ms += 8.64e15 / 1e5 + 1234567) assert.equal(cookieDate(ms), refCookieDate(ms));
  for (const ms of [NaN, 0, -1, 253402300799999, 253402300800000, -62167219200000, -62167219200001, 1546255941000]) assert.equal(cookieDate(ms), refCookieDate(ms), String(ms));
  assert.equal(cookieDate(1546255941000), 'Mon, 31-Dec-2018 11:32:21 GMT');
});

test('CookieDates: cookieDate(now + maxAge) whatever the second, max-age or order of calls', () => {
  const d = new CookieDates();
  const rng = createRng(11);
  let now = 1796563215000;
  for (let i = 0; i < 20000; i++) {
    now += rng.pick([0, 0, 1, 17, 999, 1000, 86_400_000, -5000]);
    const maxAge = rng.pick([12 * 3600_000, 84 * 3600_000, 315_360_000_000, 1500, 0]);
    const t = rng.chance(0.01) ? now + 0.5 : now;
    assert.equal(d.expires(t, maxAge), refCookieDate(t + maxAge), `${t} + ${maxAge}`);
  }
});

test('qparam: query(req)[name], else the first key equal ignoring case; arrays give their last value', () => {
  const rng = createRng(3);
  const keys = ['synckey', 'SyncKey', 'msgid', 'MsgID', 'r', 'toString', '__proto__x'];
  for (let i = 0; i < 5000; i++) {
    const q: Record<string, unknown> = {};
    for (let n = rng.int(5); n > 0; n--) q[rng.pick(keys)] = rng.pick<unknown>(['', 'v', ['a', 'b'], 7, undefined]);
    for (const name of ['synckey', 'msgid', 'MsgID', 'r']) assert.equal(qparam(req({ query: q }), name), refQparam(query(req({ query: q })), name), JSON.stringify(q));
  }
  assert.equal(qparam(req({}), 'synckey'), undefined);
});
