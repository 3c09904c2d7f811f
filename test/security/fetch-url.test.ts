/**
 * Media URL destinations (docs/security.md): internal addresses are refused after resolution and on every redirect
 * hop, and every failure reads the same. Every server here listens on loopback; no test traffic leaves the machine
 * (a public address only ever appears as a string given to the address policy).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, LookupFunction } from 'node:net';
import { fetchMediaUrl, type FetchUrlOptions } from '../../src/security/fetch-url.ts';
import { embeddedIPv4, makePublicAddressPolicy } from '../../src/security/address-policy.ts';
import { ErrorDefs, isOpenwxError } from '../../src/errors.ts';

const UNIFORM = ErrorDefs.OWX_ERR_MEDIA_URL_FAILED.message;

/** A loopback HTTP server that counts TCP connections and requests. */
async function serve(
  handler: Parameters<typeof createServer>[1],
  host = '127.0.0.1',
): Promise<{ srv: Server; port: number; base: string; connections: () => number; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const srv = createServer((req, res) => {
    requests.push(req.url ?? '');
    handler!(req, res);
  });
  let connections = 0;
  srv.on('connection', () => connections++);
  await new Promise<void>((r) => srv.listen(0, host, r));
  const port = (srv.address() as AddressInfo).port;
  return {
    srv, port, base: `http://${host}:${port}`, connections: () => connections, requests,
    close: () => new Promise<void>((r) => { srv.closeAllConnections(); srv.close(() => r()); }),
  };
}

async function body(url: string, o: FetchUrlOptions): Promise<string> {
  const f = await fetchMediaUrl(url, o);
  const chunks: Buffer[] = [];
  for await (const c of f.stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

/** Rejects with the uniform error; returns its message. */
async function refused(p: Promise<unknown>, what: string): Promise<string> {
  let err: unknown;
  await p.then(
    () => assert.fail(`${what}: fetched`),
    (e: unknown) => { err = e; },
  );
  assert.ok(isOpenwxError(err, 'OWX_ERR_MEDIA_URL_FAILED'), `${what}: ${String(err)}`);
  return (err as Error).message;
}

/** A resolver for tests: fixed answers, never the real DNS. */
function fakeDns(table: Record<string, string[]>, calls: string[] = []): LookupFunction {
  return (hostname, options, cb) => {
    calls.push(hostname);
    const list = table[hostname];
    if (!list) return cb(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
    const all = list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    if (options.all) cb(null, all);
    else cb(null, all[0]!.address, all[0]!.family);
  };
}

test('address policy: loopback, private, link-local, CGNAT, ULA, mapped, multicast and reserved addresses are refused', () => {
  const allowed = makePublicAddressPolicy();
  const refusedList = [
    '127.0.0.1', '127.255.255.254', '0.0.0.0', '0.1.2.3', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1',
    '169.254.169.254', '169.254.0.1', '100.64.0.1', '100.127.255.255', '224.0.0.1', '239.255.255.250', '240.0.0.1',
    '255.255.255.255', '192.0.0.170', '192.0.2.1', '198.18.0.1', '198.19.255.255', '198.51.100.7', '203.0.113.9', '192.88.99.1',
    '::', '::1', '0:0:0:0:0:0:0:1', 'fe80::1', 'fe80::1%eth0', 'fec0::1', 'fc00::1', 'fd12:3456::1', 'ff02::1', 'ff05::1:3', '100::1',
    '::ffff:127.0.0.1', '::ffff:7f00:1', '0:0:0:0:0:ffff:127.0.0.1', '::ffff:10.0.0.1', '::ffff:169.254.169.254', '::7f00:1', '::127.0.0.1',
    '64:ff9b::7f00:1', '64:ff9b::169.254.169.254', '64:ff9b:1::808:808', '2002:7f00:1::', '2002:a9fe:a9fe::1', '2001:db8::1', '2001::1',
    '2001:2::1', '3fff::1', 'localhost', 'example.com', '', '1.2.3', '999.1.1.1',
  ];
  for (const ip of refusedList) assert.equal(allowed(ip), false, ip);
  for (const ip of ['8.8.8.8', '1.1.1.1', '93.184.216.34', '11.0.0.1', '172.32.0.1', '172.15.255.255', '100.128.0.1', '100.63.255.255', '192.169.0.1', '169.255.0.1', '223.255.255.255', '2606:4700::1111', '2a00:1450:4001::1', '2400:cb00::1', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1']) {
    assert.equal(allowed(ip), true, ip);
  }
  assert.equal(embeddedIPv4('::ffff:7f00:1'), '127.0.0.1');
  assert.equal(embeddedIPv4('64:ff9b::a9fe:a9fe'), '169.254.169.254');
  assert.equal(embeddedIPv4('2002:c0a8:101::'), '192.168.1.1');
  assert.equal(embeddedIPv4('2606:4700::1111'), null);
});

test('loopback in every literal form is refused before any connection; allowed when opted in', async (t) => {
  const s = await serve((_req, res) => res.end('secret'));
  t.after(() => s.close());
  const p = s.port;
  const forms = [
    `http://127.0.0.1:${p}/a`, `http://2130706433:${p}/a`, `http://0x7f000001:${p}/a`, `http://0x7f.1:${p}/a`, `http://0177.0.0.1:${p}/a`,
    `http://127.1:${p}/a`, `http://127.0.0.1.:${p}/a`, `http://%31%32%37.0.0.1:${p}/a`, `http://[::ffff:127.0.0.1]:${p}/a`,
    `http://[0:0:0:0:0:ffff:7f00:1]:${p}/a`, `http://[::1]:${p}/a`, `http://0:${p}/a`, `http://0.0.0.0:${p}/a`, `https://127.0.0.1:${p}/a`,
    `http://user:pw@127.0.0.1:${p}/a`,
  ];
  const messages = new Set<string>();
  for (const url of forms) messages.add(await refused(fetchMediaUrl(url, { maxBytes: 100, timeoutMs: 5000 }), url));
  assert.deepEqual([...messages], [UNIFORM]);
  assert.equal(s.connections(), 0, 'no connection was made to a refused destination');
  // The control: the same server, opted in.
  assert.equal(await body(`http://2130706433:${p}/a`, { maxBytes: 100, timeoutMs: 5000, allowPrivate: true }), 'secret');
  assert.equal(s.connections(), 1);
});

test('a host name that resolves to loopback is refused after resolution; so is one with any internal address', async (t) => {
  const s = await serve((_req, res) => res.end('secret'));
  t.after(() => s.close());
  const calls: string[] = [];
  const lookup = fakeDns({ 'media.example.com': ['127.0.0.1'], 'mixed.example.com': ['127.0.0.1', '127.0.0.2'] }, calls);
  const url = `http://media.example.com:${s.port}/pic.png`;
  assert.equal(await refused(fetchMediaUrl(url, { maxBytes: 100, timeoutMs: 5000, lookup }), url), UNIFORM);
  assert.ok(calls.includes('media.example.com'), 'the name went through the resolver');
  assert.equal(s.connections(), 0);
  // An unknown name reads the same as a refused one.
  assert.equal(await refused(fetchMediaUrl(`http://nowhere.example.com:${s.port}/`, { maxBytes: 100, timeoutMs: 5000, lookup }), 'ENOTFOUND'), UNIFORM);
  // A name with one allowed and one refused address is refused whole (the policy here allows only 127.0.0.1).
  const only1 = (ip: string) => ip === '127.0.0.1';
  await refused(fetchMediaUrl(`http://mixed.example.com:${s.port}/`, { maxBytes: 100, timeoutMs: 5000, lookup, addressPolicy: only1 }), 'mixed');
  assert.equal(s.connections(), 0);
  // Controls: the resolver's address is the one connected to, when the policy allows it.
  assert.equal(await body(url, { maxBytes: 100, timeoutMs: 5000, lookup, allowPrivate: true }), 'secret');
  assert.equal(await body(url, { maxBytes: 100, timeoutMs: 5000, lookup, addressPolicy: only1 }), 'secret');
  assert.equal(s.connections(), 2);
});

test('`localhost` names resolved by the system are refused', async (t) => {
  const s = await serve((_req, res) => res.end('secret'));
  t.after(() => s.close());
  for (const host of ['localhost', 'localhost.']) {
    await refused(fetchMediaUrl(`http://${host}:${s.port}/`, { maxBytes: 100, timeoutMs: 5000 }), host);
  }
  assert.equal(s.connections(), 0);
});

test('a redirect from an allowed server to a refused address is refused at that hop, whatever its form', async (t) => {
  // The policy allows 127.0.0.1 only (standing in for a public server); the redirect targets 127.0.0.2 and friends.
  const inner = await serve((_req, res) => res.end('internal'), '127.0.0.2');
  t.after(() => inner.close());
  const lookup = fakeDns({ 'public.example.com': ['127.0.0.1'], 'internal.example.com': ['127.0.0.2'] });
  let target = '';
  const outer = await serve((req, res) => {
    if (req.url === '/loop') res.writeHead(302, { location: '/loop' }).end();
    else res.writeHead(302, { location: target }).end();
  });
  t.after(() => outer.close());
  const only1 = (ip: string) => ip === '127.0.0.1';
  const o = { maxBytes: 100, timeoutMs: 5000, lookup, addressPolicy: only1 };
  for (const to of [`${inner.base}/x`, `http://2130706434:${inner.port}/x`, `http://internal.example.com:${inner.port}/x`, `http://[::ffff:127.0.0.2]:${inner.port}/x`]) {
    target = to;
    assert.equal(await refused(fetchMediaUrl(`http://public.example.com:${outer.port}/start`, o), to), UNIFORM);
  }
  assert.equal(inner.connections(), 0, 'the refused hop was never connected to');
  assert.equal(outer.requests.filter((u) => u === '/start').length, 4, 'the first hop was fetched each time');
  // The control: a policy that allows the second hop follows it.
  target = `http://internal.example.com:${inner.port}/x`;
  assert.equal(await body(`http://public.example.com:${outer.port}/start`, { ...o, addressPolicy: (ip) => ip === '127.0.0.1' || ip === '127.0.0.2' }), 'internal');
  assert.equal(inner.requests.length, 1);
  // Redirects are bounded.
  const before = outer.requests.length;
  assert.equal(await refused(fetchMediaUrl(`${outer.base}/loop`, { ...o, maxRedirections: 3 }), 'loop'), UNIFORM);
  assert.equal(outer.requests.length - before, 4);
});

test('closed port, 404, 500, timeout, too many redirects and a refused destination read the same; the reason is only logged, without path or query', async (t) => {
  let hang = 0;
  const s = await serve((req, res) => {
    if (req.url?.startsWith('/hang')) hang++; // never answered
    else if (req.url?.startsWith('/500')) res.writeHead(500).end('boom');
    else if (req.url?.startsWith('/loop')) res.writeHead(301, { location: '/loop' }).end();
    else res.writeHead(404).end('no such thing');
  });
  t.after(() => s.close());
  const closed = await serve(() => undefined);
  const closedPort = closed.port;
  await closed.close();
  const lines: { obj: Record<string, unknown>; msg: string }[] = [];
  const logger = { debug: (obj: object, msg: string) => lines.push({ obj: obj as Record<string, unknown>, msg }) };
  const o = { maxBytes: 100, timeoutMs: 400, allowPrivate: true, logger };
  const secret = 'token=s3cr3t-value';
  const cases: [string, () => Promise<unknown>][] = [
    ['closed port', () => fetchMediaUrl(`http://127.0.0.1:${closedPort}/a?${secret}`, o)],
    ['404', () => fetchMediaUrl(`${s.base}/missing?${secret}`, o)],
    ['500', () => fetchMediaUrl(`${s.base}/500?${secret}`, o)],
    ['timeout', () => fetchMediaUrl(`${s.base}/hang?${secret}`, o)],
    ['redirects', () => fetchMediaUrl(`${s.base}/loop?${secret}`, { ...o, maxRedirections: 2 })],
    ['refused', () => fetchMediaUrl(`${s.base}/missing?${secret}`, { ...o, allowPrivate: false })],
  ];
  const messages = new Map<string, string>();
  for (const [what, run] of cases) messages.set(what, await refused(run(), what));
  assert.deepEqual(new Set(messages.values()), new Set([UNIFORM]), JSON.stringify([...messages]));
  assert.equal(hang, 1);
  assert.equal(lines.length, cases.length);
  const reasons = lines.map((l) => String(l.obj['reason']));
  assert.match(reasons[0]!, /ECONNREFUSED/);
  assert.match(reasons[1]!, /HTTP 404/);
  assert.match(reasons[2]!, /HTTP 500/);
  assert.match(reasons[3]!, /timed out|timeout/i);
  assert.match(reasons[4]!, /too many redirects/);
  assert.match(reasons[5]!, /destination refused: 127\.0\.0\.1/);
  for (const l of lines) {
    const text = JSON.stringify(l);
    assert.ok(!text.includes('s3cr3t') && !text.includes('/missing') && !text.includes('/hang'), text);
    assert.equal(l.obj['host'], `127.0.0.1:${l.obj['host'] === `127.0.0.1:${closedPort}` ? closedPort : s.port}`);
  }
});
