/**
 * The whole stack for API tests: a real sandbox on port 0, a real Account logged in to it, and the Openwx API
 * (startOpenwx) on port 0, optionally reporting to a local post_api receiver. `call()` talks real HTTP to the API
 * as GET with a query, or POST as urlencoded form, JSON or multipart.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { request, FormData } from 'undici';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.ts';
import { Account } from '../../src/client/account.ts';
import type { ClientOptionsInput } from '../../src/client/options.ts';
import { startOpenwx, type OpenwxHandle, type StartOpenwxOptions } from '../../src/host/index.ts';
import { Receiver } from './receiver.ts';
import { waitFor } from './wait-for.ts';

export const silent = pino({ level: process.env['OPENWX_TEST_LOG'] ?? 'silent' });

export type Via = 'query' | 'form' | 'json' | 'multipart';

export interface CallResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
  json: any;
}

export interface Stack {
  sb: Sandbox;
  client: Account;
  api: OpenwxHandle;
  /** `http://127.0.0.1:<port>` of the API. */
  base: string;
  dataDir: string;
  /** A folder inside the configured media folders, for local media_path files. */
  mediaDir: string;
  receiver: Receiver | null;
  call(route: string, params?: Record<string, unknown>, via?: Via, headers?: Record<string, string>): Promise<CallResult>;
  /** The user id of a world person (by NickName/RemarkName/world id) as the client sees it. */
  friendId(name: string): string;
  groupId(topic: string): string;
  close(): Promise<void>;
}

export interface StackOptions {
  sandbox?: SandboxOptions;
  client?: ClientOptionsInput;
  openwx?: Partial<StartOpenwxOptions>;
  /** Start a post_api receiver and report to it. */
  postApi?: boolean;
  /** Do not wait for the login (for tests of the API before login). */
  noLogin?: boolean;
  /** Reuse this data folder (a restart): it is kept on close. */
  dataDir?: string;
  /** Reuse this sandbox (a restart against the same WeChat): it is kept on close. */
  sandboxInstance?: Sandbox;
  /** Reuse this post_api receiver: it is kept on close. */
  receiverInstance?: Receiver;
}

export async function callApi(
  base: string,
  route: string,
  params: Record<string, unknown> = {},
  via: Via = 'query',
  headers: Record<string, string> = {},
): Promise<CallResult> {
  const path = route.startsWith('/') ? route : `/openwx/${route}`;
  let url = `${base}${path}`;
  let res;
  if (via === 'query') {
    const qs = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])).toString();
    if (qs) url += `?${qs}`;
    res = await request(url, { method: 'GET', headers });
  } else if (via === 'form') {
    const body = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])).toString();
    res = await request(url, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } });
  } else if (via === 'json') {
    res = await request(url, { method: 'POST', body: JSON.stringify(params), headers: { 'content-type': 'application/json', ...headers } });
  } else {
    const fd = new FormData();
    for (const [k, v] of Object.entries(params)) {
      if (v instanceof Blob) fd.append(k, v, (v as File).name ?? 'file');
      else fd.append(k, String(v));
    }
    res = await request(url, { method: 'POST', body: fd, headers });
  }
  const body = Buffer.from(await res.body.arrayBuffer());
  const text = body.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, body, text, json };
}

export async function startStack(o: StackOptions = {}): Promise<Stack> {
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'owx-api-'));
  const mediaDir = join(dataDir, 'upload');
  mkdirSync(mediaDir, { recursive: true });
  const sb = o.sandboxInstance ?? (await startSandbox({ port: 0, chatter: false, longPollMs: 300, autoLoginMs: 30, ...o.sandbox }));
  const client = new Account(
    {
      wechatOrigin: sb.url,
      dataDir,
      showQrInTerminal: false,
      sendIntervalMs: 0,
      sendBurst: 1000,
      sendRefillMs: 1,
      backoffBaseMs: 20,
      backoffMaxMs: 200,
      loginPollTimeoutMs: 5000,
      syncCheckTimeoutMs: 5000,
      requestTimeoutMs: 5000,
      ...o.client,
    },
    { logger: silent, output: null },
  );
  let receiver: Receiver | null = null;
  if (o.receiverInstance) receiver = o.receiverInstance;
  else if (o.postApi) receiver = await new Receiver().start();
  const api = await startOpenwx(client, {
    listen: [{ host: '127.0.0.1', port: 0 }],
    logger: silent,
    mediaDirs: [mediaDir, join(dataDir, 'media')],
    stopDelayMs: 0,
    // The durable outbox and the message history (openwx.db in the data folder), as the openwx command runs.
    dataDir,
    postBackoffBaseMs: 20,
    postBackoffMaxMs: 200,
    ...(receiver ? { post_api: receiver.url } : {}),
    ...o.openwx,
  });
  const base = api.urls[0]!;
  if (!o.noLogin) {
    void client.run().catch(() => undefined);
    await waitFor(() => client.state === 'running', 'client running', 15_000);
  }
  const byName = (name: string) => {
    const f = client.friends().find((x) => x.name === name || x.markname === name || x.displayname === name);
    if (!f) throw new Error(`no friend ${name}`);
    return f.id;
  };
  return {
    sb,
    client,
    api,
    base,
    dataDir,
    mediaDir,
    receiver,
    call: (route, params, via, headers) => callApi(base, route, params, via, headers),
    friendId: byName,
    groupId(topic: string) {
      const g = client.groups().find((x) => x.name === topic || x.displayname === topic);
      if (!g) throw new Error(`no group ${topic}`);
      return g.id;
    },
    async close() {
      await client.stop('test done').catch(() => undefined);
      await api.close(500);
      if (!o.receiverInstance) await receiver?.stop();
      if (!o.sandboxInstance) await sb.close();
      if (!o.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
