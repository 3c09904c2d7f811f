/**
 * openwx sandbox: a protocol-faithful fake WeChat web server (all hosts on one port, routed by path) with a world
 * of contacts and groups and a control API under /__sandbox/. See docs/sandbox.md.
 *
 *   const sb = await startSandbox({ port: 0, chatter: false, longPollMs: 500 });
 *   // point a client at sb.url; drive it with sb.handle.confirm(), sb.handle.inject({...}), …
 *   // several users: startSandbox({ users: 3 }); sb.handle.confirm({ user: '小红同学' }), inject({ user, … })
 *   await sb.close();
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { DEFAULT_PAGE_HOST } from '../wire/hosts.ts';
import { SandboxCore } from './core.ts';
import { SandboxHandle } from './handle.ts';
import { buildServer } from './server.ts';
import { MAX_USERS, parseWorlds, World, WorldError, type MultiWorldSpec, type WorldSpec } from './world.ts';
import { demoWorld, generatedSelf, generateWorld, type WorldSize } from './world-gen.ts';
import type { UserIdentity } from './user.ts';
import { startChatter } from './chatter.ts';

export type { WorldSpec, MultiWorldSpec } from './world.ts';
export type { SandboxState, SandboxUsers, UserSummary } from './handle.ts';
export type { SentRecord } from './user.ts';
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
  /** A world file path or a world object (single- or multi-user form); default: the built-in demo world (or generated with worldSize). */
  world?: string | WorldSpec | MultiWorldSpec;
  /** Generated world of each user (built on the user's first use). */
  worldSize?: WorldSize;
  /** Number of independent WeChat users (default 1; with `world`: must match the file's, when given). */
  users?: number;
  seed?: number;
  /** Scan and confirm each new QR code this many ms after it is first fetched. */
  autoLoginMs?: number;
  /** Demo-world live traffic (default true). */
  chatter?: boolean;
  /** Long-poll hold time of synccheck and the login poll (default 25000, like the real server). */
  longPollMs?: number;
  /** webwxnewloginpage answers ret 1203 for plain web logins (overrides every world's setting when given). */
  loginForbidden?: boolean;
  /** Page host real-name clients are redirected to (default: the (first) world file's, else wx.qq.com). */
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

async function readWorlds(o: SandboxOptions): Promise<WorldSpec[] | null> {
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
    return parseWorlds(json);
  }
  if (o.world) return parseWorlds(structuredClone(o.world));
  return null;
}

/**
 * The users' identities and worlds: a world file's (one per entry), else `users` generated worlds (built on first use)
 * or demo worlds. User k (0-based) of a generated sandbox is generated from seed + k; ids and uins are kept unique.
 */
async function loadUsers(o: SandboxOptions): Promise<{ users: { identity: UserIdentity; world: World | (() => WorldSpec) }[]; first: WorldSpec | null }> {
  const count = o.users ?? 1;
  if (!Number.isInteger(count) || count < 1 || count > MAX_USERS) throw new WorldError(`users must be a whole number from 1 to ${MAX_USERS} (got ${count})`);
  const specs = await readWorlds(o);
  if (specs) {
    if (o.users !== undefined && o.users !== specs.length) {
      throw new WorldError(`${o.users} users asked for, but the world ${typeof o.world === 'string' ? `file ${o.world} ` : ''}has ${specs.length} (a world file lists its users: {"users": [...]})`);
    }
    const users = specs.map((spec) => ({ identity: identityOf(spec), world: new World(spec) }));
    return { users, first: specs[0]! };
  }
  const seed = o.seed ?? 1;
  if (!o.worldSize) {
    const users = Array.from({ length: count }, (_, k) => {
      const spec = demoWorld(seed, k);
      return { identity: identityOf(spec), world: new World(spec) };
    });
    return { users, first: null };
  }
  const size = o.worldSize;
  const ids = new Set<string>();
  const uins = new Set<number>();
  const users = Array.from({ length: count }, (_, k) => {
    const drawn = generatedSelf(seed + k);
    let { id, uin } = drawn;
    for (let n = k + 1; ids.has(id); n++) id = `${drawn.id}_${n}`;
    while (uins.has(uin)) uin = uin >= 2999999999 ? 1000000000 : uin + 1;
    ids.add(id);
    uins.add(uin);
    const nickName = count > 1 ? `${drawn.nickName}${k + 1}` : drawn.nickName;
    const identity = { id, uin, nickName };
    return { identity, world: () => generateWorld(size, seed + k, identity) };
  });
  return { users, first: null };
}

function identityOf(spec: WorldSpec): UserIdentity {
  return { id: spec.self.id, uin: spec.self.uin, nickName: spec.self.nickName };
}

export async function startSandbox(o: SandboxOptions = {}): Promise<Sandbox> {
  const logger = o.logger ?? pino({ level: process.env['OPENWX_LOG_LEVEL'] ?? 'silent' });
  const { users, first } = await loadUsers(o);
  const core = new SandboxCore(
    {
      longPollMs: o.longPollMs ?? 25000,
      autoLoginMs: o.autoLoginMs ?? null,
      qrExpiryMs: o.qrExpiryMs ?? 300000,
      contactPageSize: o.contactPageSize ?? 1000,
      maxSyncMessages: o.maxSyncMessages ?? 100,
      maxStoredMessages: o.maxStoredMessages ?? 20000,
      loginForbidden: o.loginForbidden ?? null,
      pageHost: o.pageHost ?? first?.pageHost ?? DEFAULT_PAGE_HOST,
    },
    logger.child({ component: 'sandbox' }),
  );
  for (const u of users) core.addUser(u.identity, u.world);
  const handle = new SandboxHandle(core);
  const app = await buildServer(core, handle, logger.child({ component: 'sandbox-http' }));
  if (o.chatter !== false) for (const u of core.users) startChatter(u);
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
