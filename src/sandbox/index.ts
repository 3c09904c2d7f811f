/**
 * openwx sandbox: a protocol-faithful fake WeChat web server (all hosts on one port, routed by path) with a world
 * of contacts and groups and a control API under /__sandbox/. See docs/sandbox.md.
 *
 *   const sb = await startSandbox({ port: 0, chatter: false, longPollMs: 500 });
 *   // point a client at sb.url; drive it with sb.handle.confirm(), sb.handle.inject({...}), …
 *   await sb.close();
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { DEFAULT_PAGE_HOST } from '../wire/hosts.ts';
import { SandboxCore } from './core.ts';
import { SandboxHandle } from './handle.ts';
import { buildServer } from './server.ts';
import { parseWorld, World, WorldError, type WorldSpec } from './world.ts';
import { demoWorld, generateWorld, type WorldSize } from './world-gen.ts';
import { startChatter } from './chatter.ts';

export type { WorldSpec } from './world.ts';
export type { SandboxState } from './handle.ts';
export type { SentRecord } from './core.ts';
export type { InjectRequest } from './messages.ts';
export type { ContactOp, ContactOpResult } from './contact-ops.ts';
export type { FaultSpec } from './faults.ts';
export { SandboxHandle } from './handle.ts';
export { WorldError } from './world.ts';

export interface SandboxOptions {
  /** Default 5030; 0 = any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** A world file path or a world object; default: the built-in demo world (or generated with worldSize). */
  world?: string | WorldSpec;
  worldSize?: WorldSize;
  seed?: number;
  /** Scan and confirm each new QR code this many ms after it is first fetched. */
  autoLoginMs?: number;
  /** Demo-world live traffic (default true). */
  chatter?: boolean;
  /** Long-poll hold time of synccheck and the login poll (default 25000, like the real server). */
  longPollMs?: number;
  /** webwxnewloginpage answers ret 1203 for plain web logins (overrides the world's setting when given). */
  loginForbidden?: boolean;
  /** Page host real-name clients are redirected to (default: the world's, else wx.qq.com). */
  pageHost?: string;
  /** QR code lifetime (default 300000). */
  qrExpiryMs?: number;
  /** webwxgetcontact page size (default 1000). */
  contactPageSize?: number;
  /** Events per webwxsync answer before ContinueFlag (default 100). */
  maxSyncMessages?: number;
  /** Acknowledged messages kept per session for media downloads (default 20000); messages still queued are always kept. */
  maxStoredMessages?: number;
  logger?: Logger;
}

export interface Sandbox {
  /** Base URL, e.g. http://127.0.0.1:5030 */
  url: string;
  port: number;
  /** Typed in-process access to the control operations (same as the HTTP control API). */
  handle: SandboxHandle;
  close(): Promise<void>;
}

async function loadWorld(o: SandboxOptions): Promise<WorldSpec> {
  if (typeof o.world === 'string') {
    let text: string;
    try {
      text = await readFile(o.world, 'utf8');
    } catch (e) {
      throw new WorldError(`cannot read world file ${o.world}: ${(e as Error).message}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new WorldError(`world file ${o.world} is not JSON: ${(e as Error).message}`);
    }
    return parseWorld(json);
  }
  if (o.world) return parseWorld(structuredClone(o.world));
  if (o.worldSize) return generateWorld(o.worldSize, o.seed ?? 1);
  return demoWorld(o.seed ?? 1);
}

export async function startSandbox(o: SandboxOptions = {}): Promise<Sandbox> {
  const logger = o.logger ?? pino({ level: process.env['OPENWX_LOG_LEVEL'] ?? 'silent' });
  const spec = await loadWorld(o);
  const world = new World(spec);
  const core = new SandboxCore(
    world,
    {
      longPollMs: o.longPollMs ?? 25000,
      autoLoginMs: o.autoLoginMs ?? null,
      qrExpiryMs: o.qrExpiryMs ?? 300000,
      contactPageSize: o.contactPageSize ?? 1000,
      maxSyncMessages: o.maxSyncMessages ?? 100,
      maxStoredMessages: o.maxStoredMessages ?? 20000,
      loginForbidden: o.loginForbidden ?? spec.loginForbidden ?? false,
      pageHost: o.pageHost ?? spec.pageHost ?? DEFAULT_PAGE_HOST,
    },
    logger.child({ component: 'sandbox' }),
  );
  const handle = new SandboxHandle(core);
  const app = await buildServer(core, handle, logger.child({ component: 'sandbox-http' }));
  if (o.chatter !== false) startChatter(core);
  const host = o.host ?? '127.0.0.1';
  await app.listen({ port: o.port ?? 5030, host });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (o.port ?? 5030);
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  let closed = false;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    handle,
    async close() {
      if (closed) return;
      closed = true;
      core.close();
      await app.close();
    },
  };
}
