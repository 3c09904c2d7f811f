/**
 * A real Controller (the composition `openwx controller` runs) on port 0 against a real multi-user sandbox, and the
 * sandbox's control API: accounts are logged in one at a time, each confirmed as a named sandbox user.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.ts';
import { loadControllerSettings, startControllerFrom } from '../../src/cli/controller.ts';
import type { Host } from '../../src/host/index.ts';
import { callApi, silent, type CallResult, type Via } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { readBody } from '../helpers/receiver.ts';

const person = (id: string, nickName: string) => ({ id, nickName, sex: 1 as const });

/** A sandbox world of `n` users, each with friends Ann and Bob and a group Team. */
export function usersWorld(n: number) {
  return {
    users: Array.from({ length: n }, (_, i) => ({
      format: 'openwx-sandbox-world/1' as const,
      self: { id: `wxid_user${i + 1}`, uin: 176666100 + i, nickName: `User${i + 1}`, sex: 1 as const },
      people: [person(`wxid_ann${i + 1}`, 'Ann'), person(`wxid_bob${i + 1}`, 'Bob')],
      groups: [{ id: `${100 + i}@chatroom`, topic: 'Team', owner: `wxid_user${i + 1}`, members: [`wxid_user${i + 1}`, `wxid_ann${i + 1}`, `wxid_bob${i + 1}`], saved: true }],
    })),
  };
}

export async function usersSandbox(n: number): Promise<Sandbox> {
  return startSandbox({ port: 0, chatter: false, longPollMs: 300, world: usersWorld(n) });
}

export async function control(sb: Sandbox, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const r = await request(`${sb.url}/__sandbox/${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.body.text();
  return { status: r.statusCode, json: text ? JSON.parse(text) : null };
}

export interface TestController {
  host: Host;
  base: string;
  dataDir: string;
  call(route: string, params?: Record<string, unknown>, via?: Via): Promise<CallResult>;
  /** Starts account `name` and confirms its QR as sandbox user `user` (a world self id); waits until running. */
  login(name: string, user: string, params?: Record<string, unknown>): Promise<CallResult>;
  state(name: string): Promise<string | undefined>;
  close(): Promise<void>;
}

export async function startTestController(sb: Sandbox, flags: Record<string, unknown> = {}, dataDir?: string): Promise<TestController> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'owx-ctl-'));
  const settings = loadControllerSettings({
    flags: {
      port: 0,
      data_dir: dir,
      quiet: true,
      send_interval_ms: 0,
      post_api_backoff_base_ms: 20,
      post_api_backoff_max_ms: 200,
      wechat_origin: sb.url,
      ...flags,
    },
    env: {},
  });
  const host = await startControllerFrom(settings, { logger: silent });
  const base = host.urls[0]!;
  const call = (route: string, params?: Record<string, unknown>, via?: Via) => callApi(base, route, params, via);
  const state = async (name: string) => {
    const r = await call('check_client', { client: name });
    return r.json?.client?.[0]?.state as string | undefined;
  };
  return {
    host,
    base,
    dataDir: dir,
    call,
    state,
    async login(name, user, params = {}) {
      const r = await call('start_client', { client: name, ...params });
      if (r.json?.code !== 0) throw new Error(`start_client ${name}: ${r.text}`);
      await waitFor(async () => (await state(name)) === 'scaning', `${name} shows a QR`, 15_000, 20);
      const c = await control(sb, 'POST', 'confirm', { user });
      if (c.status !== 200) throw new Error(`confirm as ${user}: ${JSON.stringify(c.json)}`);
      await waitFor(async () => (await state(name)) === 'running', `${name} running`, 15_000, 20);
      return r;
    },
    close: () => host.close(500),
  };
}

export interface Post {
  url: string;
  headers: Record<string, string | string[] | undefined>;
  json: any;
}

/** A post_api receiver that records the URL of every request (the query carries client=NAME). */
export class UrlReceiver {
  readonly posts: Post[] = [];
  /** HTTP status to answer (200 = accepted); `hang`: never answer. */
  status: number | 'hang' = 200;
  url = '';
  #server: import('node:http').Server | null = null;
  #waiters = new Set<() => void>();

  async start(): Promise<this> {
    const { createServer } = await import('node:http');
    this.#server = createServer((req, res) => {
      readBody(req, ({ json }) => {
        this.posts.push({ url: req.url ?? '', headers: req.headers, json });
        for (const w of [...this.#waiters]) w();
        if (this.status === 'hang') return;
        res.writeHead(this.status, { 'content-type': 'text/plain' });
        res.end(this.status === 200 ? 'ok' : 'no');
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    const addr = this.#server.address() as import('node:net').AddressInfo;
    this.url = `http://127.0.0.1:${addr.port}/post_api?key=k1`;
    return this;
  }

  /** Resolves with the first post matching `pred` (seen or to come), or rejects after the deadline. */
  async waitFor(pred: (p: Post) => boolean, what: string, deadlineMs = 15_000): Promise<Post> {
    return waitFor(() => this.posts.find(pred), what, deadlineMs);
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}
