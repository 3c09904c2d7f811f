import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { CookieJar } from 'tough-cookie';
import { HttpTransport } from '../../src/client/transport.ts';
import type { RawBody } from '../../src/client/transport-types.ts';
import { hostFamily } from '../../src/wire/hosts.ts';
import { isOpenwxError } from '../../src/errors.ts';

/** Answers of /halfbody, to see the client give up on them (their 'close'). */
const bodyCut: import('node:http').ServerResponse[] = [];
const seen: { host: string | undefined; proto: string | undefined; url: string; cookie: string | undefined; method: string; body: string }[] = [];
const server = createServer((req: IncomingMessage, res) => {
  let body = '';
  const raw: Buffer[] = [];
  req.on('data', (c: Buffer) => {
    raw.push(c);
    body += c;
  });
  req.on('end', () => {
    seen.push({ host: req.headers.host, proto: req.headers['x-forwarded-proto'] as string, url: req.url!, cookie: req.headers.cookie, method: req.method!, body });
    const u = new URL(req.url!, 'http://x');
    if (u.pathname === '/set') {
      res.setHeader('set-cookie', [
        'wxuin=123; Domain=wx2.qq.com; Path=/; Secure',
        'webwx_data_ticket=abc; Domain=.qq.com; Path=/; Secure',
      ]);
      res.end('ok');
    } else if (u.pathname === '/setv') {
      // the same header again and again, like webwxsync; `v` changes the value
      res.setHeader('set-cookie', [`wxsid=${u.searchParams.get('v')}; Domain=wx2.qq.com; Path=/; Expires=Mon, 31-Dec-2035 11:12:21 GMT; Secure`]);
      res.end('ok');
    } else if (u.pathname === '/set5') {
      // webwxsync's five cookies, the same on every answer; `v` changes wxsid only
      res.setHeader('set-cookie', ['wxloadtime', 'wxpluginkey', 'wxuin', 'wxsid', 'webwx_data_ticket'].map((n) =>
        `${n}=${n === 'wxsid' ? (u.searchParams.get('v') ?? 'x') : n}; Domain=${n === 'webwx_data_ticket' ? '.qq.com' : 'wx2.qq.com'}; Path=/; Expires=Mon, 31-Dec-2035 11:12:21 GMT; Secure`));
      res.end('ok');
    } else if (u.pathname === '/setx') {
      // like webwxsync: the same cookie with an Expires that moves with the server's clock (`exp`: ms epoch)
      res.setHeader('set-cookie', [`wxsid=s1; Domain=wx2.qq.com; Path=/; Expires=${new Date(Number(u.searchParams.get('exp'))).toUTCString()}; Secure`]);
      res.end('ok');
    } else if (u.pathname === '/redirect') {
      res.statusCode = 302;
      res.setHeader('location', 'https://webpush.wx2.qq.com/landed?x=1');
      res.end();
    } else if (u.pathname === '/moved-no-location') {
      res.statusCode = 301;
      res.end('<error><ret>0</ret></error>');
    } else if (u.pathname === '/gzip') {
      res.setHeader('content-encoding', 'gzip');
      res.end(gzipSync(Buffer.from('{"hello":"世界"}')));
    } else if (u.pathname === '/echo') {
      const all = Buffer.concat(raw);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ type: req.headers['content-type'], length: req.headers['content-length'], te: req.headers['transfer-encoding'] ?? null, body: all.toString('base64') }));
    } else if (u.pathname === '/r307') {
      res.statusCode = 307;
      res.setHeader('location', 'https://file.wx2.qq.com/echo');
      res.end();
    } else if (u.pathname === '/big') {
      // 3 MiB in 64 KiB pieces, byte i = i % 251
      const piece = Buffer.alloc(64 * 1024);
      let sent = 0;
      const total = 3 * 1024 * 1024;
      const more = () => {
        while (sent < total) {
          for (let i = 0; i < piece.length; i++) piece[i] = (sent + i) % 251;
          sent += piece.length;
          if (!res.write(Buffer.from(piece))) return void res.once('drain', more);
        }
        res.end();
      };
      more();
    } else if (u.pathname === '/gzhalf') {
      // a gzip answer of which only the first half comes, then nothing
      const z = gzipSync(randomBytes(256 * 1024));
      res.setHeader('content-encoding', 'gzip');
      res.setHeader('content-length', String(z.length));
      res.write(z.subarray(0, z.length >> 1));
      bodyCut.push(res);
    } else if (u.pathname === '/halfbody') {
      // the head and some bytes, then nothing: the body never ends
      res.setHeader('content-length', '100');
      res.write('0123456789');
      bodyCut.push(res);
    } else if (u.pathname === '/hang') {
      // never answers
    } else {
      res.end('plain');
    }
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
after(() => server.close());

/** Counts tough-cookie's parse-and-store calls (the library's, not ours) until `restore()`. */
function countJarSets(): { sets: () => number; restore: () => void } {
  const proto = CookieJar.prototype as unknown as { setCookieSync: (...a: unknown[]) => unknown };
  const original = proto.setCookieSync;
  let sets = 0;
  proto.setCookieSync = function (this: unknown, ...a: unknown[]) {
    sets++;
    return original.apply(this, a);
  };
  return { sets: () => sets, restore: () => (proto.setCookieSync = original) };
}

function transport() {
  const t = new HttpTransport({ userAgent: 'UA-test', pageHost: 'wx2.qq.com', wechatOrigin: origin, requestTimeoutMs: 2000, logger: pino({ level: 'silent' }) });
  after(() => t.close());
  return t;
}

test('origin override: real Host header, X-Forwarded-Proto https, path and query kept', async () => {
  const t = transport();
  const res = await t.request({ name: 't', role: 'push', path: '/cgi-bin/mmwebwx-bin/synccheck', query: [['skey', '@crypt_1'], ['raw', { raw: '@x' }], ['pt', 'a%2Bb']] });
  assert.equal(await res.text(), 'plain');
  const s = seen.at(-1)!;
  assert.equal(s.host, 'webpush.wx2.qq.com');
  assert.equal(s.proto, 'https');
  assert.equal(s.url, '/cgi-bin/mmwebwx-bin/synccheck?skey=%40crypt_1&raw=@x&pt=a%252Bb');
  assert.equal(res.url, 'https://webpush.wx2.qq.com/cgi-bin/mmwebwx-bin/synccheck?skey=%40crypt_1&raw=@x&pt=a%252Bb');
});

test('cookies are stored against real names and sent back only where their domain matches', async () => {
  const t = transport();
  await (await t.request({ name: 'set', role: 'page', path: '/set' })).text();
  assert.equal(t.cookie('wxuin'), '123');
  assert.equal(t.cookie('webwx_data_ticket'), 'abc');
  await (await t.request({ name: 'page', role: 'page', path: '/x' })).text();
  assert.match(seen.at(-1)!.cookie ?? '', /wxuin=123/);
  await (await t.request({ name: 'file', role: 'file', path: '/x' })).text();
  // Domain=wx2.qq.com covers file.wx2.qq.com
  assert.equal(seen.at(-1)!.cookie, 'wxuin=123; webwx_data_ticket=abc');
  // login.weixin.qq.com gets only the .qq.com cookie
  await (await t.request({ name: 'qr', role: 'login', host: 'login.weixin.qq.com', path: '/x' })).text();
  assert.equal(seen.at(-1)!.cookie, 'webwx_data_ticket=abc');
  const saved = t.exportCookies();
  const t2 = transport();
  t2.importCookies(JSON.parse(JSON.stringify(saved)));
  assert.equal(t2.cookie('wxuin'), '123');
  t2.clearCookies();
  assert.equal(t2.cookie('wxuin'), undefined);
});

test('redirects to real-name URLs are followed through the origin; a 301 without Location is returned', async () => {
  const t = transport();
  const res = await t.request({ name: 'r', role: 'page', path: '/redirect' });
  await res.text();
  assert.equal(res.url, 'https://webpush.wx2.qq.com/landed?x=1');
  assert.equal(seen.at(-1)!.host, 'webpush.wx2.qq.com');
  const moved = await t.request({ name: 'm', role: 'page', path: '/moved-no-location', followRedirects: false });
  assert.equal(moved.status, 301);
  assert.equal(await moved.text(), '<error><ret>0</ret></error>');
});

test('gzip bodies are decoded; JSON posts carry the content type and the UA', async () => {
  const t = transport();
  const res = await t.request({ name: 'g', role: 'page', path: '/gzip', json: { a: 1, s: 'x/y' } });
  assert.deepEqual(await res.json(), { hello: '世界' });
  const s = seen.at(-1)!;
  assert.equal(s.method, 'POST');
  assert.equal(s.body, '{"a":1,"s":"x/y"}');
});

test('a request that exceeds its timeout fails with OWX_ERR_TIMEOUT; a dead origin with OWX_ERR_NETWORK', async () => {
  const t = transport();
  await assert.rejects(t.request({ name: 'hang', role: 'page', path: '/hang', timeoutMs: 150 }), (e: unknown) => isOpenwxError(e, 'OWX_ERR_TIMEOUT'));
  const dead = new HttpTransport({ userAgent: 'x', pageHost: 'wx.qq.com', wechatOrigin: 'http://127.0.0.1:1', requestTimeoutMs: 2000, logger: pino({ level: 'silent' }) });
  await assert.rejects(dead.request({ name: 'dead', role: 'page', path: '/' }), (e: unknown) => isOpenwxError(e, 'OWX_ERR_NETWORK'));
  await dead.close();
});

test('the family follows the page host', () => {
  const t = transport();
  assert.deepEqual(t.family, hostFamily('wx2.qq.com'));
  assert.equal(t.realUrl({ name: 'x', role: 'file', path: '/p' }).toString(), 'https://file.wx2.qq.com/p');
  assert.equal(t.realUrl({ name: 'x', role: 'login', host: 'login.weixin.qq.com', path: '/qrcode/u' }).toString(), 'https://login.weixin.qq.com/qrcode/u');
  assert.equal(
    t.realUrl({ name: 'x', role: 'page', path: '', url: 'https://wx.qq.com/cgi-bin/mmwebwx-bin/webwxnewloginpage?ticket=A@qrticket_0&uuid=u==', query: [['fun', 'new']] }).toString(),
    'https://wx.qq.com/cgi-bin/mmwebwx-bin/webwxnewloginpage?ticket=A@qrticket_0&uuid=u==&fun=new',
  );
});

test('every finished request is published on openwx:wire:request (name, status, duration, account)', async () => {
  const { wireRequestChannel } = await import('../../src/diagnostics.ts');
  const events: any[] = [];
  const on = (m: unknown) => events.push(m);
  wireRequestChannel.subscribe(on);
  try {
    const t = new HttpTransport({ account: 'acc1', userAgent: 'x', pageHost: 'wx.qq.com', wechatOrigin: origin, requestTimeoutMs: 2000, logger: pino({ level: 'silent' }) });
    await (await t.request({ name: 'webwxsync', role: 'page', path: '/plain' })).text();
    const dead = new HttpTransport({ account: 'acc2', userAgent: 'x', pageHost: 'wx.qq.com', wechatOrigin: 'http://127.0.0.1:1', requestTimeoutMs: 2000, logger: pino({ level: 'silent' }) });
    await assert.rejects(dead.request({ name: 'synccheck', role: 'push', path: '/x' }));
    await t.close();
    await dead.close();
  } finally {
    wireRequestChannel.unsubscribe(on);
  }
  assert.deepEqual(events.map((e) => [e.account, e.name, e.status, e.ok]), [['acc1', 'webwxsync', 200, true], ['acc2', 'synccheck', 0, false]]);
  assert.ok(events.every((e) => typeof e.durationMs === 'number' && e.durationMs >= 0));
});

test('cookies: a Set-Cookie repeated on every answer, then changed, then back: each request sends the latest value', async () => {
  const t = transport();
  const send = async (path: string) => {
    await (await t.request({ name: 't', role: 'page', path })).text();
    return seen.at(-1)!.cookie ?? '';
  };
  await send('/setv?v=A');
  await send('/setv?v=A');
  assert.match(await send('/plain'), /wxsid=A/);
  await send('/setv?v=B');
  assert.match(await send('/plain'), /wxsid=B/);
  await send('/setv?v=A');
  assert.match(await send('/plain'), /wxsid=A/);
  t.clearCookies();
  assert.doesNotMatch(await send('/plain'), /wxsid/);
  await send('/setv?v=A');
  assert.match(await send('/plain'), /wxsid=A/);
});

test('cookies: five Set-Cookie headers repeated on every answer are applied to the jar once, changes still apply', async () => {
  const t = transport();
  const send = async (path: string) => {
    await (await t.request({ name: 't', role: 'page', path })).text();
    return seen.at(-1)!.cookie ?? '';
  };
  // Counts the library's parse-and-store calls (tough-cookie, not our code): the repeats must not reach it.
  const jar = countJarSets();
  try {
    for (let i = 0; i < 10; i++) await send('/set5?v=A');
    assert.equal(jar.sets(), 5, 'only the first answer is applied');
    await send('/set5?v=B');
    assert.equal(jar.sets(), 6, 'only the changed cookie is applied again');
    const header = await send('/plain');
    for (const n of ['wxloadtime', 'wxpluginkey', 'wxuin', 'webwx_data_ticket']) assert.match(header, new RegExp(`${n}=${n}`));
    assert.match(header, /wxsid=B/);
    // The same name from another path with another value, then the first header again: the jar ends on it.
    await send('/setv?v=C');
    assert.match(await send('/plain'), /wxsid=C/);
    await send('/set5?v=B');
    assert.match(await send('/plain'), /wxsid=B/);
  } finally {
    jar.restore();
  }
});

test('a raw body goes out piece by piece with its content type and exact Content-Length; a 307 sends it again', async () => {
  const t = transport();
  const pieces = [Buffer.from('head\r\n'), randomBytes(70_000), Buffer.from('\r\ntail')];
  const all = Buffer.concat(pieces);
  let iterations = 0;
  const body: RawBody = {
    contentType: 'multipart/form-data; boundary=x',
    length: all.length,
    *[Symbol.iterator]() {
      iterations++;
      yield* pieces;
    },
  };
  const echo = async (path: string) => {
    const res = await t.request({ name: 'raw', role: 'file', path, body });
    return (await res.json()) as { type: string; length: string; te: string | null; body: string };
  };
  const direct = await echo('/echo');
  assert.equal(seen.at(-1)!.method, 'POST');
  assert.deepEqual([direct.type, direct.length, direct.te], ['multipart/form-data; boundary=x', String(all.length), null]);
  assert.deepEqual(Buffer.from(direct.body, 'base64'), all);
  const redirected = await echo('/r307');
  assert.equal(seen.at(-1)!.host, 'file.wx2.qq.com');
  assert.deepEqual(Buffer.from(redirected.body, 'base64'), all);
  assert.equal(iterations, 3);
  // a length that does not match the pieces is an error, not a truncated or hanging request
  const wrong: RawBody = { contentType: 'x/y', length: all.length + 1, [Symbol.iterator]: () => pieces[Symbol.iterator]() };
  await assert.rejects(t.request({ name: 'wrong', role: 'file', path: '/echo', body: wrong, timeoutMs: 2000 }), (e: unknown) => isOpenwxError(e, 'OWX_ERR_NETWORK'));
});

test('cookies: a Set-Cookie whose Expires moves by seconds is applied again only once it moved over a minute, or back', async () => {
  const t = transport();
  const jar = countJarSets();
  const t0 = Date.UTC(2035, 0, 1, 12, 0, 0);
  const send = async (exp: number) => (await t.request({ name: 't', role: 'page', path: `/setx?exp=${exp}` })).text();
  const jarExpiry = () => {
    const c = (t.exportCookies() as { cookies: { key: string; expires: string }[] }).cookies.find((x) => x.key === 'wxsid');
    return Date.parse(c!.expires);
  };
  try {
    await send(t0);
    for (let i = 1; i <= 5; i++) await send(t0 + i * 1000);
    assert.equal(jar.sets(), 1, 'Expires one to five seconds later: not parsed again');
    assert.equal(jarExpiry(), t0);
    await send(t0 + 61_000);
    assert.equal(jar.sets(), 2, 'over a minute later: applied');
    assert.equal(jarExpiry(), t0 + 61_000);
    await send(t0 + 30_000);
    assert.equal(jar.sets(), 3, 'an earlier Expires is applied at once');
    assert.equal(jarExpiry(), t0 + 30_000);
  } finally {
    jar.restore();
  }
});

test('a 3 MiB answer read as a stream slower than it arrives: every byte in order (undici paused, then resumed)', async () => {
  const t = transport();
  const res = await t.request({ name: 't', role: 'page', path: '/big' });
  let n = 0;
  let bad = -1;
  for await (const c of res.stream()) {
    const b = c as Buffer;
    for (let i = 0; i < b.length; i++) if (b[i] !== (n + i) % 251 && bad < 0) bad = n + i;
    n += b.length;
    await new Promise<void>((r) => setImmediate(r)); // a slow reader
  }
  assert.equal(n, 3 * 1024 * 1024);
  assert.equal(bad, -1, 'bytes in order');
  // not read before: the whole body is kept, then handed over at once
  const whole = await (await t.request({ name: 't', role: 'page', path: '/big' })).buffer();
  assert.equal(whole.length, 3 * 1024 * 1024);
  assert.equal(whole[whole.length - 1], (3 * 1024 * 1024 - 1) % 251);
});

test('a body that stops halfway: buffer() fails with OWX_ERR_TIMEOUT at the deadline; a destroyed stream aborts the request', async () => {
  const t = new HttpTransport({ userAgent: 'UA-test', pageHost: 'wx2.qq.com', wechatOrigin: origin, requestTimeoutMs: 300, logger: pino({ level: 'silent' }) });
  after(() => t.close());
  const res = await t.request({ name: 'halfbody', role: 'page', path: '/halfbody' });
  await assert.rejects(res.buffer(), (e: unknown) => isOpenwxError(e, 'OWX_ERR_TIMEOUT'));
  const res2 = await t.request({ name: 'halfbody', role: 'page', path: '/halfbody', timeoutMs: 60_000 });
  const server = bodyCut.at(-1)!;
  const closed = new Promise<void>((r) => server.once('close', () => r()));
  const stream = res2.stream();
  const first = await new Promise<Buffer>((r) => stream.once('data', r));
  assert.equal(first.toString(), '0123456789');
  stream.destroy();
  await closed; // the client gave up the request: the server's answer is closed
});

test('cookies: a short-lived cookie whose Expires slides forward is applied again, so the jar never lets it lapse', async () => {
  const t = transport();
  const send = async (exp: number) => (await t.request({ name: 't', role: 'page', path: `/setx?exp=${exp}` })).text();
  const jarExpiry = () => {
    const c = (t.exportCookies() as { cookies: { key: string; expires: string }[] }).cookies.find((x) => x.key === 'wxsid');
    return Date.parse(c!.expires);
  };
  // Expires in whole seconds (the header's precision): a cookie that lives 30 s, extended by 20 s on the next answer.
  const now = Math.ceil(Date.now() / 1000) * 1000;
  await send(now + 30_000);
  assert.equal(jarExpiry(), now + 30_000);
  await send(now + 50_000);
  // Kept at the first Expires, the jar would drop the cookie after 30 s while the server extended it to 50 s.
  assert.equal(jarExpiry(), now + 50_000);
});

test('a gzip answer whose decoded stream the reader destroys: the request is aborted (the server sees it close)', { timeout: 10_000 }, async () => {
  const t = transport();
  const res = await t.request({ name: 'gz', role: 'page', path: '/gzhalf', timeoutMs: 60_000 });
  const server = bodyCut.at(-1)!;
  const closed = new Promise<void>((r) => server.once('close', () => r()));
  const stream = res.stream();
  await new Promise((r) => stream.once('data', r));
  stream.destroy();
  await closed;
});
