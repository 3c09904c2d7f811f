/**
 * Failover (issue 13): kill -9 of one of `--controllers` (3) real `openwx controller --database …` processes sharing
 * one PostgreSQL, each running `--accounts` (30) accounts, during steady inbound traffic; the time until every
 * account it held runs on another controller. Every process is the real command (bin/openwx.js → dist/,
 * bench/lib/command-proc.ts); PostgreSQL is a real server (test/helpers/postgres.ts: OPENWX_TEST_DATABASE_URL, else
 * the embedded one from the npm registry). The runner holds the post_api receiver, the load generator, the polls.
 *
 * Per lease setting (`default`: the settings' defaults, lease_ttl_ms 15000; `fast`: lease_ttl_ms 3000, renewal every
 * 500 ms, a controller dead after 2 s), on a fresh database and a fresh sandbox:
 * 1. a sandbox process with controllers × accounts users and --auto-login (each QR confirmed as the next free user);
 *    the controllers; `start_client?worker=<id>` for each controller's accounts; wait until check_client shows every
 *    one running;
 * 2. steady inbound: `--rate` (1) text messages per second per account, evenly spaced, each a POST
 *    /__sandbox/messages from a friend of the account's user (content `fo:<seq>`), for the whole run;
 * 3. `--kills` (3) rounds: after `--pre-kill-s` (5) s of traffic, kill -9 of the busiest live controller (most
 *    accounts; ties: the first started); then poll check_client on a survivor every 100 ms until every account the
 *    killed one held shows `running` with another live controller as `worker`. Failover time = kill → that moment
 *    (also each account's own time: first poll that shows it running elsewhere). No scan: every moved account's
 *    sandbox user still has the same session (its UserName, which a new login changes) and no QR code is waiting
 *    or scanned. Then a replacement controller is started (it takes accounts at the next kill);
 * 4. the traffic stops; every injected message must reach post_api (the report from the account it was injected
 *    for: client= of the post_api URL) and `openwx_events` (lost = injected − found; duplicates counted).
 *
 * Standalone: node --import tsx bench/failover.ts [--controllers 3] [--accounts 30] [--kills 3] [--rate 1]
 *   [--pre-kill-s 5] [--leases default,fast]   (dist/ must be built: npm run build)
 */
import { execSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Pool } from 'undici';
import { closeServer } from '../test/helpers/receiver.ts';
import { listenOkReceiver } from './lib/receiver.ts';
import { startTestPostgres } from '../test/helpers/postgres.ts';
import { getJson, loadAvg, quietFlags, sleep, startSandbox, targetOf, until, type ClientEntry, type Target } from './accounts.ts';
import { CommandProc } from './lib/command-proc.ts';
import { median, percentile, round } from './lib/stats.ts';

export type LeaseSet = 'default' | 'fast';

export interface FailoverOptions {
  controllers?: number;
  /** Accounts per controller. */
  accounts?: number;
  /** Kill rounds per lease setting. */
  kills?: number;
  /** Inbound messages per second per account. */
  ratePerAccount?: number;
  /** Traffic before each kill (s). */
  preKillS?: number;
  leases?: LeaseSet[];
  worldSize?: string;
  autoLoginMs?: number;
  loginDeadlineMs?: number;
  recoverDeadlineMs?: number;
  drainDeadlineMs?: number;
  /** check_client poll period while waiting for the moved accounts. */
  pollIntervalMs?: number;
}

const DEFAULTS: Required<FailoverOptions> = {
  controllers: 3,
  accounts: 30,
  kills: 3,
  ratePerAccount: 1,
  preKillS: 5,
  leases: ['default', 'fast'],
  worldSize: '20,3,5',
  autoLoginMs: 200,
  loginDeadlineMs: 300_000,
  recoverDeadlineMs: 120_000,
  drainDeadlineMs: 60_000,
  pollIntervalMs: 100,
};

/** The controllers' lease flags per setting (the default ones are the settings' defaults: no flag). */
const LEASE_FLAGS: Record<LeaseSet, { flags: string[]; leaseTtlMs: number; renewMs: number; deadAfterMs: number }> = {
  default: { flags: [], leaseTtlMs: 15_000, renewMs: 3_000, deadAfterMs: 10_000 },
  fast: { flags: ['--lease-ttl-ms', '3000', '--lease-renew-interval-ms', '500', '--worker-dead-after-ms', '2000'], leaseTtlMs: 3_000, renewMs: 500, deadAfterMs: 2_000 },
};

export interface KillResult {
  killed: string;
  moved: number;
  /** kill → every moved account running on another controller (ms). */
  failoverMs: number;
  /** Per moved account: kill → first seen running elsewhere (ms). */
  perAccountP50Ms: number;
  perAccountMaxMs: number;
  /** Where the moved accounts went (worker → count). */
  spread: Record<string, number>;
  /** Moved accounts whose sandbox session changed (a new login = a scan), and QR codes waiting or scanned. */
  newSessions: number;
  qrCodes: number;
  load: string;
}

export interface LeaseResult {
  lease: LeaseSet;
  leaseTtlMs: number;
  leaseRenewIntervalMs: number;
  workerDeadAfterMs: number;
  /** First start_client → every account running. */
  loginMs: number;
  kills: KillResult[];
  failoverP50Ms: number;
  failoverMaxMs: number;
  traffic: {
    ratePerAccount: number;
    injected: number;
    injectFailures: Record<string, number>;
    postApi: { received: number; lost: number; duplicates: number; misrouted: number };
    events: { found: number; lost: number; duplicates: number };
  };
  load: { before: string; after: string };
}

export interface FailoverResult {
  controllers: number;
  accountsPerController: number;
  worldSize: string;
  runs: LeaseResult[];
  targets: { within30s: boolean; noScan: boolean; zeroLost: boolean };
}

export function log(line: string): void {
  process.stderr.write(`[bench failover] ${line}\n`);
}

const PREFIX = 'fo:';

/** post_api receiver: counts the reports of benchmark messages (content `fo:<seq>`) per seq, and their client=. */
class FailoverReceiver {
  #server: Server | null = null;
  url = '';
  readonly count = new Map<number, number>();
  misrouted = 0;
  expected: string[] = [];

  async start(): Promise<this> {
    const { server, url } = await listenOkReceiver((text, req) => {
      let body: { post_type?: string; content?: string } | null = null;
      try {
        body = JSON.parse(text);
      } catch {
        return;
      }
      if (body?.post_type !== 'receive_message' || typeof body.content !== 'string' || !body.content.startsWith(PREFIX)) return;
      const seq = Number(body.content.slice(PREFIX.length));
      this.count.set(seq, (this.count.get(seq) ?? 0) + 1);
      const q = req.url?.indexOf('?') ?? -1;
      const client = q >= 0 ? new URLSearchParams(req.url!.slice(q + 1)).get('client') ?? '' : '';
      if (this.expected[seq] !== undefined && this.expected[seq] !== client) this.misrouted++;
    });
    this.#server = server;
    this.url = url;
    return this;
  }

  async stop(): Promise<void> {
    if (this.#server) await closeServer(this.#server);
  }
}

interface Ctl {
  id: string;
  proc: CommandProc;
  api: string;
  dir: string;
}

async function startController(id: string, o: { db: string; sandbox: string; postApi: string; root: string; maxClients: number; lease: LeaseSet }): Promise<Ctl> {
  const dir = join(o.root, id);
  const proc = new CommandProc([
    'controller',
    '--database',
    o.db,
    '--worker-id',
    id,
    '--wechat-origin',
    o.sandbox,
    '--post-api',
    o.postApi,
    '--data-dir',
    dir,
    '--max-clients',
    String(o.maxClients),
    ...LEASE_FLAGS[o.lease].flags,
    ...quietFlags,
  ]);
  const api = (await proc.waitLine(/Controller API at (http:\/\/[^/\s]+)\/openwx\//, 120_000))[1]!;
  return { id, proc, api, dir };
}

type Entry = ClientEntry & { worker: string | null };

async function clusterList(c: Ctl): Promise<Entry[] | null> {
  const r = await getJson<{ client?: Entry[] }>(`${c.api}/openwx/check_client`).catch(() => null);
  return r?.json?.client ?? null;
}

interface SandboxUsers {
  users: { id: string; UserName: string | null; online: boolean }[];
  qrCodes: { uuid: string; state: string; user: string | null }[];
}

/** Steady traffic: `rate` msg/s per target, evenly spaced over the targets, until stop(). */
function steadyTraffic(pool: Pool, targets: Target[], ratePerAccount: number, receiver: FailoverReceiver) {
  const total = ratePerAccount * targets.length;
  const failures: Record<string, number> = {};
  let seq = 0;
  let injected = 0;
  let inflight = 0;
  let stopped = false;
  const t0 = performance.now();
  const injectOne = (i: number) => {
    const t = targets[i % targets.length]!;
    const k = Math.floor(i / targets.length);
    const content = `${PREFIX}${i}`;
    receiver.expected[i] = t.name;
    inflight++;
    pool
      .request({
        method: 'POST',
        path: '/__sandbox/messages',
        body: JSON.stringify({ type: 'text', from: t.friends[k % t.friends.length]!, content, user: t.user }),
        headers: { 'content-type': 'application/json' },
      })
      .then(async (r) => {
        const text = await r.body.text();
        if (r.statusCode === 200) injected++;
        else {
          const why = `HTTP ${r.statusCode} ${text.slice(0, 100)}`;
          failures[why] = (failures[why] ?? 0) + 1;
        }
      })
      .catch((err: Error) => (failures[err.message] = (failures[err.message] ?? 0) + 1))
      .finally(() => inflight--);
  };
  const loop = (async () => {
    while (!stopped) {
      const due = Math.floor(((performance.now() - t0) * total) / 1000);
      while (seq < due) injectOne(seq++);
      await sleep(10);
    }
  })();
  return {
    get injected() {
      return injected;
    },
    failures,
    /** Stops injecting; resolves once every control call answered. Returns the seqs injected (0…n-1). */
    async stop(): Promise<number> {
      stopped = true;
      await loop;
      await until(() => inflight === 0, 30_000, 20);
      return seq;
    },
  };
}

async function eventCounts(db: string): Promise<Map<number, number>> {
  const c = new pg.Client({ connectionString: db });
  await c.connect();
  try {
    const r = await c.query<{ c: string; n: string }>(
      "SELECT report->>'content' AS c, count(*) AS n FROM openwx_events WHERE report->>'post_type' = 'receive_message' AND report->>'content' LIKE 'fo:%' GROUP BY 1",
    );
    return new Map(r.rows.map((x) => [Number(x.c.slice(PREFIX.length)), Number(x.n)]));
  } finally {
    await c.end();
  }
}

function lostAndDup(counts: Map<number, number>, n: number, ok: (i: number) => boolean): { found: number; lost: number; duplicates: number } {
  let found = 0;
  let lost = 0;
  let duplicates = 0;
  for (let i = 0; i < n; i++) {
    if (!ok(i)) continue;
    const k = counts.get(i) ?? 0;
    if (k === 0) lost++;
    else {
      found++;
      duplicates += k - 1;
    }
  }
  return { found, lost, duplicates };
}

async function benchLease(lease: LeaseSet, o: Required<FailoverOptions>, db: string, root: string): Promise<LeaseResult> {
  const before = loadAvg();
  const total = o.controllers * o.accounts;
  const receiver = await new FailoverReceiver().start();
  const sb = await startSandbox({ accounts: total, worldSize: o.worldSize, autoLoginMs: o.autoLoginMs });
  const pool = new Pool(sb.url, { connections: 16, pipelining: 1, headersTimeout: 30_000, bodyTimeout: 30_000 });
  const ctls: Ctl[] = [];
  const dead = new Set<string>();
  try {
    const start = (id: string) => startController(id, { db, sandbox: sb.url, postApi: receiver.url, root, maxClients: total, lease });
    for (let i = 1; i <= o.controllers; i++) ctls.push(await start(`c${i}`));
    log(`${lease}: ${ctls.length} controllers up (lease ${LEASE_FLAGS[lease].leaseTtlMs} ms); starting ${total} accounts…`);
    const s0 = Date.now();
    for (const c of ctls) {
      for (let i = 1; i <= o.accounts; i++) {
        const name = `${c.id}a${String(i).padStart(3, '0')}`;
        const r = await getJson<{ code: number; status: string }>(`${c.api}/openwx/start_client?client=${name}&worker=${c.id}`);
        if (r.json?.code !== 0) throw new Error(`start_client ${name}: ${JSON.stringify(r.json)}`);
      }
    }
    let entries: Entry[] = [];
    let lastLog = Date.now();
    const ok = await until(async () => {
      entries = (await clusterList(ctls[0]!)) ?? entries;
      const running = entries.filter((e) => e.state === 'running').length;
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        log(`${lease}: ${running}/${total} running after ${Date.now() - s0} ms`);
      }
      return running === total;
    }, o.loginDeadlineMs, 500);
    if (!ok) throw new Error(`${lease}: only ${entries.filter((e) => e.state === 'running').length}/${total} running after ${o.loginDeadlineMs} ms`);
    const loginMs = Date.now() - s0;
    log(`${lease}: all ${total} running after ${loginMs} ms; steady inbound ${o.ratePerAccount} msg/s per account…`);

    const targets: Target[] = [];
    for (const e of entries) targets.push(await targetOf(sb.url, e));
    const traffic = steadyTraffic(pool, targets, o.ratePerAccount, receiver);
    const kills: KillResult[] = [];
    for (let k = 1; k <= o.kills; k++) {
      await sleep(o.preKillS * 1000);
      const live = ctls.filter((c) => !dead.has(c.id));
      const list = (await clusterList(live[0]!)) ?? [];
      const held = (id: string) => list.filter((e) => e.worker === id);
      const victim = [...live].sort((a, b) => held(b.id).length - held(a.id).length)[0]!;
      const moved = held(victim.id).map((e) => e.client);
      const userOf = new Map(list.map((e) => [e.client, e.user_id!]));
      const usersBefore = (await getJson<SandboxUsers>(`${sb.url}/__sandbox/users`)).json;
      const sessionBefore = new Map(usersBefore.users.map((u) => [u.id, u.UserName]));
      const survivor = live.find((c) => c !== victim)!;
      const loadAtKill = loadAvg();
      log(`${lease} kill ${k}: kill -9 ${victim.id} (${moved.length} accounts; load ${loadAtKill})…`);
      const killedAt = performance.now();
      victim.proc.child.kill('SIGKILL');
      dead.add(victim.id);
      const runningAt = new Map<string, number>();
      const spread: Record<string, number> = {};
      const recovered = await until(async () => {
        const now = performance.now();
        const l = await clusterList(survivor);
        if (!l) return false;
        for (const e of l) {
          if (runningAt.has(e.client) || !moved.includes(e.client)) continue;
          if (e.state === 'running' && e.worker && !dead.has(e.worker)) {
            runningAt.set(e.client, now - killedAt);
            spread[e.worker] = (spread[e.worker] ?? 0) + 1;
          }
        }
        return runningAt.size === moved.length;
      }, o.recoverDeadlineMs, o.pollIntervalMs);
      const failoverMs = round(Math.max(0, ...runningAt.values()), 0);
      if (!recovered) throw new Error(`${lease} kill ${k}: only ${runningAt.size}/${moved.length} accounts of ${victim.id} running elsewhere after ${o.recoverDeadlineMs} ms`);
      const usersAfter = (await getJson<SandboxUsers>(`${sb.url}/__sandbox/users`)).json;
      const newSessions = usersAfter.users.filter((u) => [...userOf.entries()].some(([c, id]) => moved.includes(c) && id === u.id) && u.UserName !== sessionBefore.get(u.id)).length;
      const times = [...runningAt.values()];
      const r: KillResult = {
        killed: victim.id,
        moved: moved.length,
        failoverMs,
        perAccountP50Ms: round(median(times), 0),
        perAccountMaxMs: round(percentile(times, 100), 0),
        spread,
        newSessions,
        qrCodes: usersAfter.qrCodes.length,
        load: loadAtKill,
      };
      kills.push(r);
      log(`${lease} kill ${k}: ${moved.length} accounts of ${victim.id} running elsewhere after ${failoverMs} ms (per account p50 ${r.perAccountP50Ms} ms); spread ${JSON.stringify(spread)}; new sessions ${newSessions}, QR codes ${r.qrCodes}`);
      await victim.proc.stop(1_000);
      rmSync(victim.dir, { recursive: true, force: true });
      if (k < o.kills) ctls.push(await start(`c${ctls.length + 1}`));
    }
    await sleep(o.preKillS * 1000);
    const n = await traffic.stop();
    const injectedOk = (i: number) => receiver.expected[i] !== undefined;
    log(`${lease}: ${n} messages injected (${traffic.injected} accepted); draining…`);
    let posts = lostAndDup(receiver.count, n, injectedOk);
    let events = { found: 0, lost: n, duplicates: 0 };
    await until(async () => {
      posts = lostAndDup(receiver.count, n, injectedOk);
      events = lostAndDup(await eventCounts(db), n, injectedOk);
      return posts.lost === 0 && events.lost === 0;
    }, o.drainDeadlineMs, 500);
    const failures = traffic.failures;
    const times = kills.map((x) => x.failoverMs);
    const result: LeaseResult = {
      lease,
      leaseTtlMs: LEASE_FLAGS[lease].leaseTtlMs,
      leaseRenewIntervalMs: LEASE_FLAGS[lease].renewMs,
      workerDeadAfterMs: LEASE_FLAGS[lease].deadAfterMs,
      loginMs,
      kills,
      failoverP50Ms: round(median(times), 0),
      failoverMaxMs: Math.max(...times),
      traffic: {
        ratePerAccount: o.ratePerAccount,
        injected: traffic.injected,
        injectFailures: failures,
        postApi: { received: posts.found, lost: posts.lost, duplicates: posts.duplicates, misrouted: receiver.misrouted },
        events,
      },
      load: { before, after: loadAvg() },
    };
    log(`${lease}: failover p50 ${result.failoverP50Ms} ms, max ${result.failoverMaxMs} ms; post_api ${JSON.stringify(result.traffic.postApi)}; openwx_events ${JSON.stringify(events)}; failures ${JSON.stringify(failures)}`);
    return result;
  } finally {
    await pool.close();
    await Promise.all(ctls.filter((c) => !dead.has(c.id)).map((c) => c.proc.stop(15_000)));
    for (const c of ctls) rmSync(c.dir, { recursive: true, force: true });
    await sb.proc.stop();
    await receiver.stop();
  }
}

export async function benchFailover(opts: FailoverOptions = {}): Promise<FailoverResult> {
  const o = { ...DEFAULTS, ...opts };
  const server = await startTestPostgres();
  const root = mkdtempSync(join(tmpdir(), 'owx-bench-failover-'));
  const runs: LeaseResult[] = [];
  try {
    for (const lease of o.leases) runs.push(await benchLease(lease, o, await server.createDatabase('owx_bench'), root));
  } finally {
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  }
  const all = runs.flatMap((r) => r.kills);
  return {
    controllers: o.controllers,
    accountsPerController: o.accounts,
    worldSize: o.worldSize,
    runs,
    targets: {
      within30s: all.every((k) => k.failoverMs <= 30_000),
      noScan: all.every((k) => k.newSessions === 0 && k.qrCodes === 0),
      zeroLost: runs.every((r) => r.traffic.postApi.lost === 0 && r.traffic.events.lost === 0 && r.traffic.postApi.misrouted === 0 && Object.keys(r.traffic.injectFailures).length === 0),
    },
  };
}

/** The options given on the command line (shared by `npm run bench -- --only failover` and the standalone run). */
export function failoverArgs(argv: string[]): FailoverOptions {
  const o: FailoverOptions = {};
  const value = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i < 0 ? undefined : argv[i + 1];
  };
  for (const [flag, key] of [['controllers', 'controllers'], ['accounts', 'accounts'], ['kills', 'kills'], ['rate', 'ratePerAccount'], ['pre-kill-s', 'preKillS']] as const) {
    const v = value(flag);
    if (v === undefined) continue;
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0 || (flag === 'controllers' && n < 2)) throw new Error(`--${flag} must be a positive integer${flag === 'controllers' ? ' ≥ 2' : ''} (got ${JSON.stringify(v)})`);
    o[key] = n;
  }
  const l = value('leases');
  if (l !== undefined) {
    const sets = l.split(',');
    for (const s of sets) if (s !== 'default' && s !== 'fast') throw new Error(`--leases: "${s}" is not one of default, fast`);
    o.leases = sets as LeaseSet[];
  }
  return o;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let o: FailoverOptions;
  try {
    o = failoverArgs(process.argv);
    execSync('test -f dist/cli/main.js', { cwd: fileURLToPath(new URL('..', import.meta.url)) });
  } catch (err) {
    process.stderr.write(`${(err as Error).message.startsWith('Command failed') ? 'dist/ is not built: npm run build' : (err as Error).message}\n`);
    process.exit(2);
  }
  const r = await benchFailover(o);
  console.log(JSON.stringify(r, null, 2));
  process.exit(0);
}
