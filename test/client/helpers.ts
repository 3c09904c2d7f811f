/** Shared setup of the client e2e tests: a real sandbox on port 0 and a real Account pointed at it. */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.ts';
import { Account } from '../../src/client/account.ts';
import type { ClientOptionsInput } from '../../src/client/options.ts';

export const silent = pino({ level: process.env['OPENWX_TEST_LOG'] ?? 'silent' });

export async function sandbox(o: SandboxOptions = {}): Promise<Sandbox> {
  return startSandbox({ port: 0, chatter: false, longPollMs: 300, autoLoginMs: 30, ...o });
}

export function tempDir(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'owx-client-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Fast, quiet defaults for tests; every value can be overridden. */
export function account(sb: Sandbox, dataDir: string, o: ClientOptionsInput = {}): Account {
  return new Account(
    {
      wechatOrigin: sb.url,
      dataDir,
      showQrInTerminal: false,
      sendIntervalMs: 0,
      sendBurst: 100,
      sendRefillMs: 1,
      backoffBaseMs: 20,
      backoffMaxMs: 200,
      loginPollTimeoutMs: 5000,
      syncCheckTimeoutMs: 5000,
      requestTimeoutMs: 5000,
      ...o,
    },
    { logger: silent, output: null },
  );
}

/** A small deterministic world for the client tests. */
export function testWorld(extra: { loginForbidden?: boolean; pageHost?: string } = {}) {
  const many = Array.from({ length: 38 }, (_, i) => ({ id: `wxid_m${i}`, nickName: `M${i}`, friend: false }));
  return {
    format: 'openwx-sandbox-world/1' as const,
    ...extra,
    self: { id: 'wxid_self', uin: 176666155, nickName: '我自己', sex: 1 as const },
    people: [
      { id: 'wxid_ann', nickName: 'Ann', remarkName: 'ann-r', sex: 2 as const, province: '广东', city: '深圳' },
      { id: 'wxid_bob', nickName: 'Bob', sex: 1 as const },
      { id: 'wxid_cat', nickName: 'Cat', behavior: 'silent' as const },
      { id: 'wxid_dan', nickName: 'Dan', friend: false },
      { id: 'wxid_eve', nickName: 'Eve', friend: false },
      { id: 'gh_news', nickName: 'News', kind: 'public' as const, verifyFlag: 24 },
      ...many,
    ],
    groups: [
      { id: '100@chatroom', topic: 'Team', owner: 'wxid_self', members: ['wxid_self', 'wxid_ann', 'wxid_bob', 'wxid_dan'], saved: true },
      { id: '200@chatroom', topic: 'Unsaved', owner: 'wxid_ann', members: ['wxid_self', 'wxid_ann', 'wxid_bob'], saved: false },
      { id: '300@chatroom', topic: 'Big', owner: 'wxid_self', members: ['wxid_self', 'wxid_ann', ...many.map((m) => m.id)], saved: true },
    ],
  };
}

/** One request that went through `recordingProxy`, and the upstream answer it got. */
export interface Exchange {
  req: IncomingMessage;
  body: Buffer;
  upstream: IncomingMessage;
}

/**
 * An HTTP proxy in front of the sandbox that records every request: `request` sees each request with its whole body
 * before it is forwarded; `answer` sees it with the upstream answer before the answer is piped back (to record it,
 * or to arm a sandbox fault for the client's next request); `answered`, when given, sees the whole upstream answer
 * body before any of it is sent on to the client (the proxy then buffers every answer). Returns the server
 * (listening on a free loopback port) and its base URL, for `account({ ...sb, url })`.
 */
export async function recordingProxy(
  sb: Sandbox,
  on: { request?(req: IncomingMessage, body: Buffer): void; answer?(x: Exchange): void; answered?(x: Exchange, body: Buffer): void },
): Promise<{ server: Server; url: string }> {
  const target = new URL(sb.url);
  const server = createServer((req, res) => {
    res.on('error', () => undefined);
    req.on('error', () => undefined);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      on.request?.(req, body);
      const up = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
        const x = { req, body, upstream: r };
        on.answer?.(x);
        const answered = on.answered;
        if (!answered) {
          res.writeHead(r.statusCode!, r.headers);
          r.pipe(res);
          return;
        }
        const parts: Buffer[] = [];
        r.on('data', (c: Buffer) => parts.push(c));
        r.on('error', () => res.destroy());
        r.on('end', () => {
          const whole = Buffer.concat(parts);
          answered(x, whole);
          res.writeHead(r.statusCode!, r.headers);
          res.end(whole);
        });
      });
      up.on('error', () => res.destroy());
      up.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
