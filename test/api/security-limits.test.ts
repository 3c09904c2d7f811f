/**
 * What an unauthenticated or slow client can hold (docs/security.md, "Request limits"): the token is checked before
 * any body is read (bytes read by the server as evidence), a body dripped in is cut off after the request timeout
 * (HTTP 408, connection closed), a refused request closes its connection, and connections beyond the cap are closed
 * at once while the others keep working. Long answers (check_event) are not cut by the request timeout.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { startOpenwx, type OpenwxHandle, type StartOpenwxOptions } from '../../src/host/index.ts';
import { startStack, silent, type Stack } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait-for.ts';

const TOKEN = 'limits-token-0123456789';
const MiB = 1024 * 1024;
let s: Stack;
before(async () => {
  s = await startStack({});
});
after(async () => {
  await s.close();
});

interface Served {
  api: OpenwxHandle;
  port: number;
  /** The server side of every connection accepted. */
  sockets: Socket[];
}

async function serve(o: Partial<StartOpenwxOptions>): Promise<Served> {
  const api = await startOpenwx(s.client, { listen: { host: '127.0.0.1', port: 0 }, logger: silent, ...o });
  const sockets: Socket[] = [];
  api.app.server.on('connection', (sock: Socket) => sockets.push(sock));
  return { api, port: Number(new URL(api.urls[0]!).port), sockets };
}

/** A raw client connection that records what it receives and when it closes. */
class Raw {
  readonly sock: Socket;
  data = '';
  closed = false;
  constructor(port: number) {
    this.sock = connect(port, '127.0.0.1');
    this.sock.on('data', (d) => (this.data += d.toString('latin1')));
    this.sock.on('error', () => undefined);
    this.sock.on('close', () => (this.closed = true));
  }
  async ready(): Promise<this> {
    if (!this.sock.connecting) return this;
    await once(this.sock, 'connect');
    return this;
  }
  write(b: string | Buffer): void {
    if (!this.sock.destroyed && this.sock.writable) this.sock.write(b);
  }
  /** The status line and headers of the first answer, once it has arrived. */
  head(): { status: number; headers: string } | null {
    const m = /^HTTP\/1\.1 (\d{3})[^\r]*\r\n([\s\S]*?)\r\n\r\n/.exec(this.data);
    return m ? { status: Number(m[1]), headers: m[2]!.toLowerCase() } : null;
  }
  body(): any {
    return JSON.parse(Buffer.from(this.data.slice(this.data.indexOf('\r\n\r\n') + 4), 'latin1').toString('utf8'));
  }
}

function multipartHead(path: string, boundary: string, length: number, extra = ''): string {
  return `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${length}\r\n\r\n`;
}

test('the token is checked before any body is read: multipart, large and length-less bodies are refused unread', async (t) => {
  const srv = await serve({ token: TOKEN, accessTokenParam: true });
  try {
    // Six parallel multipart uploads of a declared 32 MiB, the token (right!) only inside the body.
    const boundary = 'b0undary';
    const part = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="access_token"\r\n\r\n${TOKEN}\r\n--${boundary}\r\nContent-Disposition: form-data; name="media_data"; filename="x.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`);
    const clients = await Promise.all(Array.from({ length: 6 }, () => new Raw(srv.port).ready()));
    for (const c of clients) {
      c.write(multipartHead('/openwx/upload_media', boundary, 32 * MiB));
      c.write(Buffer.concat([part, Buffer.alloc(16 * 1024, 7)]));
    }
    await waitFor(() => clients.every((c) => c.head()), 'every upload answered before its body was sent', 10_000);
    const readAtAnswer = srv.sockets.reduce((n, x) => n + x.bytesRead, 0);
    for (const c of clients) {
      assert.equal(c.head()!.status, 401);
      assert.match(c.head()!.headers, /^connection: close$/m);
      assert.deepEqual(c.body(), { code: -6, status: 'auth failure' });
    }
    // The rest of the bodies (8 MiB each, as far as the closed connections take them) is never read.
    for (const c of clients) for (let i = 0; i < 128 && !c.closed; i++) c.write(Buffer.alloc(64 * 1024, 7));
    await waitFor(() => clients.every((c) => c.closed), 'connections closed');
    await waitFor(() => srv.sockets.every((x) => x.destroyed), 'server sockets gone');
    const read = srv.sockets.reduce((n, x) => n + x.bytesRead, 0);
    assert.equal(srv.sockets.length, 6);
    t.diagnostic(`server bytes read: ${readAtAnswer} when all six were refused, ${read} in all (6 × 32 MiB declared, up to 6 × 8 MiB sent)`);
    assert.ok(readAtAnswer < 6 * 64 * 1024, `${readAtAnswer} bytes read by the time every upload was refused`);
    assert.ok(read < 6 * 1 * MiB, `${read} bytes read of 6 × 32 MiB declared`);

    // A body without a declared length, or above access_token_body_max_bytes, is not searched for the token either.
    const chunked = await new Raw(srv.port).ready();
    chunked.write(`POST /openwx/get_user_info HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n`);
    chunked.write(`${(TOKEN.length + 13).toString(16)}\r\naccess_token=${TOKEN}\r\n`);
    await waitFor(() => chunked.head(), 'chunked body answered');
    assert.equal(chunked.head()!.status, 401);
    const big = `access_token=${TOKEN}&pad=${'x'.repeat(70 * 1024)}`;
    const large = await new Raw(srv.port).ready();
    large.write(`POST /openwx/get_user_info HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${big.length}\r\n\r\n`);
    await waitFor(() => large.head(), 'large form answered before its body was sent');
    assert.equal(large.head()!.status, 401);
    // A small form or JSON body still carries it (Openwx-compatible clients).
    for (const [type, body] of [['application/x-www-form-urlencoded', `access_token=${TOKEN}`], ['application/json', JSON.stringify({ access_token: TOKEN })]]) {
      const c = await new Raw(srv.port).ready();
      c.write(`POST /openwx/get_user_info HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body!)}\r\nConnection: close\r\n\r\n${body}`);
      await waitFor(() => c.closed, 'answered');
      assert.equal(c.head()!.status, 200, type);
      assert.equal(c.body().name, '小明同学');
    }
  } finally {
    await srv.api.close();
  }
});

test('a refused request closes its connection (401, 403); an accepted one keeps it alive', async () => {
  const srv = await serve({ token: TOKEN });
  try {
    const bad = await new Raw(srv.port).ready();
    bad.write(`GET /openwx/get_user_info HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer wrong-token\r\n\r\n`);
    await waitFor(() => bad.closed, 'the server closed the connection after the 401', 5_000);
    assert.equal(bad.head()!.status, 401);
    assert.match(bad.head()!.headers, /^connection: close$/m);
    const foreign = await new Raw(srv.port).ready();
    foreign.write(`GET /openwx/get_user_info HTTP/1.1\r\nHost: evil.example\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`);
    await waitFor(() => foreign.closed, 'the server closed the connection after the 403', 5_000);
    assert.equal(foreign.head()!.status, 403);
    const good = await new Raw(srv.port).ready();
    good.write(`GET /openwx/get_user_info HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`);
    await waitFor(() => good.head(), 'answered');
    assert.equal(good.head()!.status, 200);
    assert.match(good.head()!.headers, /^connection: keep-alive$/m);
    assert.equal(good.closed, false);
    good.sock.destroy();
  } finally {
    await srv.api.close();
  }
});

test('a body dripped in, or headers that never end, are cut off after the request timeout with HTTP 408', async () => {
  const requestTimeoutMs = 800;
  const srv = await serve({ token: TOKEN, accessTokenParam: true, requestTimeoutMs, headersTimeoutMs: 400, timeoutCheckIntervalMs: 50, checkEventTimeoutMs: 2_000 });
  try {
    const body = JSON.stringify({ access_token: TOKEN, content: 'x'.repeat(200) });
    const cases: [string, string, string][] = [
      // unauthenticated yet: the token is in the body that never arrives
      ['dripped JSON body', `POST /openwx/get_user_info HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`, body],
      ['dripped headers', 'GET /openwx/get_user_info HTTP/1.1\r\n', `Host: 127.0.0.1\r\nX-Slow: ${'y'.repeat(400)}\r\n\r\n`],
    ];
    for (const [what, head, rest] of cases) {
      const c = await new Raw(srv.port).ready();
      const t0 = Date.now();
      c.write(head);
      let i = 0;
      // One byte every 20 ms: the connection is never idle, the request never complete.
      const drip = setInterval(() => (i < rest.length ? c.write(rest[i++]!) : undefined), 20);
      try {
        await waitFor(() => c.closed, `${what} cut off`, 10_000);
      } finally {
        clearInterval(drip);
      }
      const took = Date.now() - t0;
      assert.ok(i < rest.length, `${what}: the request was still incomplete (${i}/${rest.length} bytes)`);
      assert.ok(took >= (what === 'dripped headers' ? 400 : requestTimeoutMs) - 50, `${what}: cut after ${took} ms`);
      const h = c.head();
      assert.ok(h, `${what}: answered ${JSON.stringify(c.data.slice(0, 100))}`);
      assert.equal(h.status, 408, what);
      assert.equal(c.body().code, -1);
      assert.match(c.body().status, /^request timeout: a request must arrive whole within 800 ms \(its headers within 400 ms\)/);
    }
    // A long answer is not a slow request: check_event holds its request well past the request timeout.
    const poll = await new Raw(srv.port).ready();
    const t0 = Date.now();
    poll.write(`GET /openwx/check_event HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`);
    await waitFor(() => poll.head(), 'check_event answered', 10_000);
    assert.equal(poll.head()!.status, 200);
    assert.ok(Date.now() - t0 >= 1_900, 'check_event waited its whole timeout');
    assert.deepEqual(poll.body(), []);
    poll.sock.destroy();
  } finally {
    await srv.api.close();
  }
});

test('connections beyond connections_max are closed at once; the others keep working', async () => {
  const srv = await serve({ connectionsMax: 4 });
  try {
    const open = await Promise.all(Array.from({ length: 4 }, () => new Raw(srv.port).ready()));
    await waitFor(() => srv.sockets.length === 4, 'four connections accepted');
    const extra = await new Raw(srv.port).ready();
    await waitFor(() => extra.closed, 'the fifth connection closed', 5_000);
    assert.equal(extra.data, '', 'closed without an answer');
    for (const c of open) c.write('GET /openwx/get_user_info HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await waitFor(() => open.every((c) => c.head()), 'the four answered');
    for (const c of open) assert.equal(c.head()!.status, 200);
    open[0]!.sock.destroy();
    await waitFor(() => srv.sockets[0]!.destroyed, 'a slot freed');
    const next = await new Raw(srv.port).ready();
    next.write('GET /openwx/get_user_info HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    await waitFor(() => next.closed, 'answered');
    assert.equal(next.head()!.status, 200);
    for (const c of open) c.sock.destroy();
  } finally {
    await srv.api.close();
  }
});
