/**
 * Benchmark 6, accounts (issue 12): many WeChat accounts in one `openwx controller` process against the same
 * accounts as separate `openwx` processes. Every process is the real command (bin/openwx.js → dist/, with the
 * shebang's flags and environment; bench/lib/command-proc.ts), each in its own process; the runner (this process)
 * holds only the post_api receiver, the load generator and the control calls. All traffic is on 127.0.0.1.
 *
 * 1. Separate: a sandbox process (`openwx sandbox --users 100 --world-size 500,50,100 --auto-login 200`), then
 *    `--separate` (10) `openwx` processes started at once, each logging in as the next free sandbox user. Time
 *    until all are running; 20 s idle, then VmRSS of each (at rest, no forced GC); then each one's settled RSS
 *    after a forced GC (bench/lib/probe.mjs, as bench/memory.ts). 100 separate processes = 10 × the sum of 10
 *    (linear: the processes share nothing).
 * 2. Controller: a fresh sandbox process, one `openwx controller` process. Its RSS with no account (at rest and
 *    settled), then `start_client` for `--accounts` (100) accounts in a row; time until check_client shows all
 *    running; 20 s idle, at rest and settled RSS again; per added account = (RSS with N − RSS with 0) ÷ N.
 * 3. Inbound through the controller: `--rate` (10) text messages per second per account (1,000 msg/s in all),
 *    evenly spaced (message i due at i / total rate s, for account i mod N; alternately a direct message from one
 *    of 5 friends and a group message from one of 5 groups of that user's world), content `acct:<i>`; every 5 ms
 *    the messages due go in one POST /__sandbox/messages (an array, each with its account's sandbox user). A
 *    warm-up (`--warmup-s`, 5 s), then the measured `--seconds` (30 s). Latency: the injection request's start → the report's receipt at the post_api receiver
 *    (the control call's own time included); p50/p99 of the measured part. Every message is counted: lost =
 *    injected − received (unique seqs, after a drain of up to 60 s), duplicates and reports from the wrong
 *    account (client= of the post_api URL) too. Then at rest and settled RSS after the traffic.
 *
 * Targets: RSS of N accounts in one controller ≤ 1/5 of N separate processes (settled and at rest); p99 ≤ 100 ms at
 * 1,000 msg/s in all; nothing lost.
 *
 * Standalone: node --import tsx bench/accounts.ts [--accounts 100] [--separate 10] [--seconds 30] [--rate 10]
 *   (dist/ must be built: npm run build). BENCH_PROF=<dir>: CPU profiles of the controller, the sandbox and the
 *   runner during the measured inbound, with their GC pauses by kind (.gc.json); BENCH_HEAP_PROF=1 adds allocation
 *   profiles (.heapprofile: bench/lib/heap-summary.mjs); BENCH_PROC_LOG_DIR=<dir> keeps each process's output
 *   (e.g. with BENCH_CONTROLLER_NODE_FLAGS=--trace-gc).
 */
import { execSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Pool, request } from 'undici';
import { ACCT_PREFIX, AccountsReceiver } from './lib/accounts-receiver.ts';
import { CommandProc } from './lib/command-proc.ts';
import { controllerHeapFlags } from '../src/cli/launch.ts';
import { profileStart, profileStop } from './lib/profiler.ts';
import { median, mib, percentile, round } from './lib/stats.ts';

export interface AccountsOptions {
  /** Accounts in the controller (and sandbox users). */
  accounts?: number;
  /** Separate `openwx` processes measured (the figure for `accounts` of them is scaled linearly). */
  separate?: number;
  /** Sandbox --world-size of every user. */
  worldSize?: string;
  /** Inbound messages per second per account. */
  ratePerAccount?: number;
  warmupS?: number;
  seconds?: number;
  /** Idle time before the at-rest RSS (no forced GC). */
  restMs?: number;
  /** Sandbox --auto-login delay. */
  autoLoginMs?: number;
  loginDeadlineMs?: number;
  drainDeadlineMs?: number;
  /**
   * Where the data folders go (default: the OS temp folder, i.e. the disk, as users run it; env BENCH_ACCOUNTS_DATA,
   * e.g. /dev/shm to see what the file writes' fsyncs cost).
   */
  dataRoot?: string;
}

const DEFAULTS: Required<AccountsOptions> = {
  accounts: 100,
  separate: 10,
  worldSize: '500,50,100',
  ratePerAccount: 10,
  warmupS: 5,
  seconds: 30,
  restMs: 20_000,
  autoLoginMs: 200,
  loginDeadlineMs: 240_000,
  drainDeadlineMs: 60_000,
  dataRoot: process.env['BENCH_ACCOUNTS_DATA'] ?? tmpdir(),
};

export interface RssPoint {
  /** Settled RSS after a forced full GC (probe.mjs `mem`). */
  settledMiB: number;
  /** VmRSS after `restMs` idle, no forced GC (what `ps` shows). */
  atRestMiB: number;
  /** RssAnon right after the settled reading: without the file-backed pages (node binary, libraries) RSS counts in every process. */
  anonMiB?: number;
  heapUsedMiB?: number;
}

export interface AccountsResult {
  accounts: number;
  worldSize: string;
  separate: {
    processes: number;
    /** Spawn of the processes → all running (node start-up, API, QR, login, contacts). */
    runningMs: number;
    perProcess: RssPoint[];
    total: RssPoint;
    /** `accounts` separate processes: total × accounts ÷ processes (linear). */
    scaled: RssPoint;
  };
  controller: {
    /** Spawn → Controller API listening. */
    launchMs: number;
    idle: RssPoint;
    /** First start_client → check_client shows every account running. */
    runningMs: number;
    running: number;
    loaded: RssPoint;
    perAccount: RssPoint;
    afterInbound: RssPoint;
    /**
     * The launcher `openwx controller` runs beside the controller process (src/cli/launch.ts): its VmRSS and RssAnon
     * (MiB) while the controller it started runs. Counted into the ratio and the target.
     */
    launcher: { rssMiB: number; anonMiB: number };
    /** (Controller + launcher) RSS ÷ scaled separate RSS (anon: RssAnon ÷ RssAnon, reported). */
    ratio: { settled: number; atRest: number; anon: number };
  };
  inbound: {
    ratePerAccount: number;
    totalRate: number;
    seconds: number;
    warmupS: number;
    injected: number;
    injectFailures: Record<string, number>;
    received: number;
    lost: number;
    duplicates: number;
    misrouted: number;
    /** Measured part: achieved injection rate, latency injection → receipt. */
    msgPerSec: number;
    p50Ms: number;
    p90Ms: number;
    p99Ms: number;
    maxMs: number;
    /** The control call alone (POST /__sandbox/messages answered). */
    controlP50Ms: number;
    controlP99Ms: number;
    /** CPU of each process during the measured part, % of one core. */
    cpuPct: { controller: number; sandbox: number; runner: number };
    /** Event-loop delay during the measured part (perf_hooks monitorEventLoopDelay, a 10 ms timer's lateness). */
    eventLoopDelay: { controller: Eld | null; sandbox: Eld | null };
    /**
     * The machine's speed right before and right after the inbound: ms of one fixed loop in a fresh node (cpuLoopMs).
     * The VM's neighbours can slow it by a fifth or more, which every process's CPU share shows too.
     */
    cpuLoopMs: { before: number; after: number };
  };
  load: { before: string; after: string };
  /** The data folders' file system (where the session files and the database are written, with fsync). */
  dataRoot: string;
  targets: { rss: boolean; p99: boolean; zeroLost: boolean };
}

type Eld = { p50Ms: number; p99Ms: number; maxMs: number; meanMs: number };
const roundAll = (e: Eld): Eld => ({ p50Ms: round(e.p50Ms, 1), p99Ms: round(e.p99Ms, 1), maxMs: round(e.maxMs, 1), meanMs: round(e.meanMs, 1) });

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function log(line: string): void {
  process.stderr.write(`[bench accounts] ${line}\n`);
}

export const loadAvg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** ms one fixed loop (3×10⁸ additions, optimised) takes in a fresh node: the machine's single-core speed now (~400 ms here, quiet). */
export function cpuLoopMs(): number {
  const r = spawnSync(process.execPath, ['-e', 'const t=performance.now();let x=0;for(let i=0;i<3e8;i++)x+=i%7;process.stdout.write(String(performance.now()-t)+" "+x)'], { encoding: 'utf8' });
  return round(Number(r.stdout.split(' ')[0]), 0);
}

/** CPU time (user + system) of a process in ms, from /proc (USER_HZ = 100). */
export function cpuMs(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) * 10;
  } catch {
    return NaN;
  }
}

export async function getJson<T>(url: string, o: { method?: 'GET' | 'POST'; body?: unknown } = {}): Promise<{ status: number; json: T }> {
  const r = await request(url, {
    method: o.method ?? 'GET',
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
    ...(o.body !== undefined ? { body: JSON.stringify(o.body), headers: { 'content-type': 'application/json' } } : {}),
  });
  const text = await r.body.text();
  return { status: r.statusCode, json: (text ? JSON.parse(text) : null) as T };
}

/** Polls `pred` every `everyMs` until it holds; false at the deadline. */
export async function until(pred: () => Promise<boolean> | boolean, deadlineMs: number, everyMs = 250): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    if (await pred()) return true;
    if (Date.now() >= end) return false;
    await sleep(everyMs);
  }
}

export async function startSandbox(o: { accounts: number; worldSize: string; autoLoginMs: number }): Promise<{ proc: CommandProc; url: string }> {
  const proc = new CommandProc(
    // --max-stored-messages: by default each session keeps 20,000 served messages for media downloads; at 10 msg/s per
    // account that grew the sandbox by 6–7 MB/s for the whole run, and its mark-compacts (a core for ~250 ms on this
    // machine of two cores) showed up in the controller's latency. 10 (a second of traffic) keeps it flat.
    ['sandbox', '--port', '0', '--users', String(o.accounts), '--world-size', o.worldSize, '--auto-login', String(o.autoLoginMs), '--chatter', 'off', '--seed', '1', '--max-stored-messages', process.env['BENCH_SANDBOX_MAX_STORED'] ?? '10'],
    // The fake WeChat server is not the system measured, but it shares the machine's two cores with it: it runs with
    // the controller's heap flags (src/cli/launch.ts), for the same reason (with the shebang's 4 MiB its ~100 worlds
    // were marked every few seconds, a core for ~250 ms each time), and room to grow to 4× what is live.
    // BENCH_SANDBOX_NODE_FLAGS replaces them.
    { probe: true, nodeFlags: (process.env['BENCH_SANDBOX_NODE_FLAGS'] ?? [...controllerHeapFlags(), '--heap-growing-percent=300'].join(' ')).split(/\s+/).filter(Boolean) },
  );
  const m = await proc.waitLine(/openwx sandbox listening on (http:\/\/\S+)/, 60_000);
  await proc.stopCallRecording();
  return { proc, url: m[1]! };
}

export const quietFlags = ['--port', '0', '--quiet', '--log-level', process.env['BENCH_LOG_LEVEL'] ?? 'warn', '--log-format', 'json'];

/** The launcher of a real `openwx controller` (no account): its VmRSS once the controller it started listens. */
async function launcherRss(dir: string): Promise<{ rssMiB: number; anonMiB: number }> {
  const p = new CommandProc(['controller', '--data-dir', join(dir, 'launcher'), ...quietFlags], { launcher: true });
  try {
    await p.waitLine(/Controller API at /, 60_000);
    await sleep(1_000);
    const s = p.procStatus();
    return { rssMiB: mib(s.rss), anonMiB: mib(s.anon) };
  } finally {
    await p.stop();
  }
}

/** At rest = VmRSS read before (no forced GC); then the settled reading (forced GC) and RssAnon right after it. */
async function settledPoint(p: CommandProc, atRest: number): Promise<RssPoint> {
  const m = await p.mem(true);
  return { settledMiB: mib(m.rss), atRestMiB: mib(atRest), anonMiB: mib(p.procStatus().anon), heapUsedMiB: mib(m.heapUsed) };
}

// ---- 1. separate processes -------------------------------------------------------------------------------------

async function benchSeparate(o: Required<AccountsOptions>, receiver: AccountsReceiver, dir: string): Promise<AccountsResult['separate']> {
  const sb = await startSandbox(o);
  const procs: CommandProc[] = [];
  try {
    log(`separate: ${o.separate} openwx processes against ${sb.url}`);
    const t0 = Date.now();
    for (let i = 0; i < o.separate; i++) {
      const name = `sep${String(i + 1).padStart(3, '0')}`;
      procs.push(
        new CommandProc(
          ['--wechat-origin', sb.url, '--post-api', `${receiver.url}?client=${name}`, '--data-dir', join(dir, name), '--account', name, ...quietFlags],
          { probe: true },
        ),
      );
    }
    const urls = await Promise.all(procs.map((p) => p.waitLine(/Openwx API at (http:\/\/[^/\s]+)\/openwx\//, 120_000).then((m) => m[1]!)));
    await Promise.all(procs.map((p) => p.stopCallRecording()));
    const runningAt: number[] = new Array<number>(procs.length).fill(0);
    const ok = await until(async () => {
      await Promise.all(
        urls.map(async (u, i) => {
          if (runningAt[i]) return;
          const r = await getJson<{ state?: string }>(`${u}/readyz`).catch(() => null);
          if (r?.json?.state === 'running') runningAt[i] = Date.now();
        }),
      );
      return runningAt.every((t) => t > 0);
    }, o.loginDeadlineMs);
    if (!ok) throw new Error(`separate: only ${runningAt.filter((t) => t > 0).length}/${procs.length} running after ${o.loginDeadlineMs} ms`);
    const runningMs = Math.max(...runningAt) - t0;
    log(`separate: all ${procs.length} running after ${runningMs} ms; ${o.restMs / 1000} s idle…`);
    await sleep(o.restMs);
    const atRest = procs.map((p) => p.procStatus().rss);
    const perProcess: RssPoint[] = [];
    for (const [i, p] of procs.entries()) perProcess.push(await settledPoint(p, atRest[i]!));
    const sum = (k: 'settledMiB' | 'atRestMiB' | 'anonMiB') => round(perProcess.reduce((a, p) => a + (p[k] ?? NaN), 0), 1);
    const total = { settledMiB: sum('settledMiB'), atRestMiB: sum('atRestMiB'), anonMiB: sum('anonMiB') };
    const f = o.accounts / o.separate;
    const scaled = { settledMiB: round(total.settledMiB * f, 0), atRestMiB: round(total.atRestMiB * f, 0), anonMiB: round(total.anonMiB * f, 0) };
    log(`separate: ${procs.length} processes settled ${total.settledMiB} MiB (median ${round(median(perProcess.map((p) => p.settledMiB)), 1)} each), at rest ${total.atRestMiB} MiB, anonymous ${total.anonMiB} MiB; ×${f} = ${scaled.settledMiB} / ${scaled.atRestMiB} / ${scaled.anonMiB} MiB`);
    return { processes: procs.length, runningMs, perProcess, total, scaled };
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    await sb.proc.stop();
  }
}

// ---- 2. + 3. the controller ------------------------------------------------------------------------------------

export interface ClientEntry {
  client: string;
  state: string;
  user_id?: string;
}

export interface Target {
  name: string;
  user: string;
  friends: string[];
  groups: [string, string][];
}

interface WorldJson {
  self: { id: string };
  people: { id: string; friend?: boolean; kind?: string; behavior?: string }[];
  groups: { id: string; members: string[] }[];
}

/** The account's sandbox user and 5 friends + 5 groups (with a member that is not the user) of its world. */
export async function targetOf(sandbox: string, e: ClientEntry): Promise<Target> {
  const user = e.user_id!;
  const { status, json: w } = await getJson<WorldJson>(`${sandbox}/__sandbox/world?user=${encodeURIComponent(user)}`);
  if (status !== 200) throw new Error(`world of ${e.client} (${user}): HTTP ${status}`);
  const friends = w.people.filter((p) => p.friend !== false && (p.kind ?? 'person') === 'person' && !p.behavior).slice(0, 5).map((p) => p.id);
  const groups = w.groups
    .filter((g) => g.members.length > 1)
    .slice(0, 5)
    .map((g): [string, string] => [g.id, g.members.find((m) => m !== w.self.id)!]);
  if (friends.length === 0 || groups.length === 0) throw new Error(`world of ${e.client}: no friend or group to send from`);
  return { name: e.client, user, friends, groups };
}

export interface InboundRun {
  injected: number;
  /** Messages never sent because a part ran out of time (counted as one failure entry). */
  notInjected: number;
  failures: Record<string, number>;
  controlMs: number[];
  /** Per seq: the control call's answer time − its start (ms). */
  controlBySeq: Float64Array;
  /** performance.now() of the first and last injection of each part. */
  spans: { from: number; to: number; seqFrom: number; seqTo: number }[];
}

/**
 * Injects `total` messages at `rate` msg/s through the control API, message i for targets[i mod N], evenly spaced:
 * a 5 ms timer injects the messages due, all of them in ONE control call (POST /__sandbox/messages with an array,
 * each message naming its user), so the harness costs the machine one request per tick instead of one per message
 * (at 1,000 msg/s the runner and the sandbox share the controller's two cores). At most `maxInflight` messages in
 * control calls at once. Latency counts from the start of the control call that carried the message. Parts:
 * [warm-up, measured].
 */
export async function injectAll(pool: Pool, receiver: AccountsReceiver, targets: Target[], parts: number[], rate: number, hooks: { beforePart?(i: number): Promise<void> } = {}): Promise<InboundRun> {
  const run: InboundRun = { injected: 0, notInjected: 0, failures: {}, controlMs: [], controlBySeq: new Float64Array(parts.reduce((a, b) => a + b, 0)).fill(NaN), spans: [] };
  const maxInflight = 512;
  let inflight = 0;
  let seq = 0;
  const fail = (why: string, n = 1) => (run.failures[why] = (run.failures[why] ?? 0) + n);
  const message = (i: number) => {
    const t = targets[i % targets.length]!;
    const k = Math.floor(i / targets.length);
    const content = `${ACCT_PREFIX}${i}`;
    const g = t.groups[(k >> 1) % t.groups.length]!;
    receiver.expected[i] = t.name;
    return k % 2 === 0 ? { type: 'text', from: t.friends[(k >> 1) % t.friends.length]!, content, user: t.user } : { type: 'text', group: g[0], from: g[1], content, user: t.user };
  };
  /** Messages from..to-1 in one control call. */
  const injectBatch = (from: number, to: number) => {
    const body = [];
    for (let i = from; i < to; i++) body.push(message(i));
    const n = to - from;
    inflight += n;
    const at = performance.now();
    for (let i = from; i < to; i++) receiver.injectedAt[i] = at;
    pool
      .request({ method: 'POST', path: '/__sandbox/messages', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } })
      .then(async (r) => {
        const text = await r.body.text();
        const ms = performance.now() - at;
        run.controlMs.push(ms);
        for (let i = from; i < to; i++) run.controlBySeq[i] = ms;
        if (r.statusCode === 200) run.injected += n;
        else {
          // the messages before the failing one are in (docs/sandbox.md)
          const injected = (JSON.parse(text) as { injected?: unknown[] }).injected?.length ?? 0;
          run.injected += injected;
          fail(`HTTP ${r.statusCode} ${text.slice(0, 100)}`, n - injected);
        }
      })
      .catch((err: Error) => fail(err.message, n))
      .finally(() => (inflight -= n));
  };
  for (const [p, n] of parts.entries()) {
    await hooks.beforePart?.(p);
    const seqFrom = seq;
    const end = seq + n;
    const t0 = performance.now();
    // bounded: a part may take at most twice its time plus 30 s (control calls time out after 30 s)
    const giveUpAt = t0 + (n / rate) * 2_000 + 30_000;
    while (seq < end) {
      if (performance.now() > giveUpAt) {
        fail(`not injected: the part's deadline passed with ${inflight} control calls in flight`);
        run.notInjected += end - seq;
        seq = end;
        break;
      }
      const due = Math.min(end, seqFrom + Math.floor(((performance.now() - t0) * rate) / 1000));
      const upTo = Math.min(due, seq + Math.max(0, maxInflight - inflight));
      if (upTo > seq) {
        injectBatch(seq, upTo);
        seq = upTo;
      }
      await sleep(5);
    }
    run.spans.push({ from: t0, to: performance.now(), seqFrom, seqTo: end });
  }
  await until(() => inflight === 0, 30_000, 20);
  return run;
}

async function benchController(o: Required<AccountsOptions>, receiver: AccountsReceiver, dir: string): Promise<Omit<AccountsResult['controller'], 'ratio'> & { inbound: AccountsResult['inbound'] }> {
  const launcher = await launcherRss(dir);
  log(`controller: its launcher process: ${launcher.rssMiB} MiB RSS (${launcher.anonMiB} MiB anonymous)`);
  const sb = await startSandbox(o);
  const t0 = Date.now();
  const ctl = new CommandProc(
    ['controller', '--wechat-origin', sb.url, '--post-api', receiver.url, '--data-dir', join(dir, 'controller'), '--max-clients', String(o.accounts), ...quietFlags],
    // BENCH_CONTROLLER_NODE_FLAGS: node flags after the shipped ones (e.g. --max-semi-space-size=16), for experiments
    { probe: true, nodeFlags: (process.env['BENCH_CONTROLLER_NODE_FLAGS'] ?? '').split(/\s+/).filter(Boolean) },
  );
  const pool = new Pool(sb.url, { connections: 32, pipelining: 1, headersTimeout: 30_000, bodyTimeout: 30_000 });
  try {
    const api = (await ctl.waitLine(/Controller API at (http:\/\/[^/\s]+)\/openwx\//, 120_000))[1]!;
    const launchMs = Date.now() - t0;
    await ctl.stopCallRecording();
    log(`controller: API at ${api} after ${launchMs} ms; ${o.restMs / 1000} s idle with no account…`);
    await sleep(o.restMs);
    const idle = await settledPoint(ctl, ctl.procStatus().rss);
    log(`controller: no account: settled ${idle.settledMiB} MiB, at rest ${idle.atRestMiB} MiB; starting ${o.accounts} accounts…`);

    const names = Array.from({ length: o.accounts }, (_, i) => `acct${String(i + 1).padStart(3, '0')}`);
    const s0 = Date.now();
    for (const name of names) {
      const r = await getJson<{ code: number; status: string }>(`${api}/openwx/start_client?client=${name}`);
      if (r.json?.code !== 0) throw new Error(`start_client ${name}: ${JSON.stringify(r.json)}`);
    }
    let entries: ClientEntry[] = [];
    let lastLog = Date.now();
    const ok = await until(async () => {
      const r = await getJson<{ client: ClientEntry[] }>(`${api}/openwx/check_client`).catch(() => null);
      entries = r?.json?.client ?? entries;
      const running = entries.filter((e) => e.state === 'running').length;
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        log(`controller: ${running}/${o.accounts} running after ${Date.now() - s0} ms`);
      }
      return running === o.accounts;
    }, o.loginDeadlineMs, 500);
    const runningMs = Date.now() - s0;
    const running = entries.filter((e) => e.state === 'running');
    if (!ok) log(`controller: only ${running.length}/${o.accounts} running after ${runningMs} ms (states: ${[...new Set(entries.map((e) => e.state))].join(',')})`);
    else log(`controller: all ${o.accounts} running after ${runningMs} ms; ${o.restMs / 1000} s idle…`);
    if (running.length === 0) throw new Error('controller: no account running');
    await sleep(o.restMs);
    const loaded = await settledPoint(ctl, ctl.procStatus().rss);
    // The sandbox collects its logins' garbage now too (as the controller just did for its reading): the hundred
    // logins leave it ~300 MiB past its live heap, whose mark-compact would otherwise fall into the measured traffic
    await sb.proc.mem(true);
    const perAccount = {
      settledMiB: round((loaded.settledMiB - idle.settledMiB) / running.length, 2),
      atRestMiB: round((loaded.atRestMiB - idle.atRestMiB) / running.length, 2),
      anonMiB: round((loaded.anonMiB! - idle.anonMiB!) / running.length, 2),
    };
    log(`controller: ${running.length} accounts: settled ${loaded.settledMiB} MiB, at rest ${loaded.atRestMiB} MiB (heap ${loaded.heapUsedMiB} MiB); per added account ${perAccount.settledMiB} / ${perAccount.atRestMiB} MiB (anonymous ${loaded.anonMiB} MiB, ${perAccount.anonMiB} per account)`);

    // ---- inbound
    const targets: Target[] = [];
    for (const e of running) targets.push(await targetOf(sb.url, e));
    const rate = o.ratePerAccount * targets.length;
    const warmN = rate * o.warmupS;
    const loopBefore = cpuLoopMs();
    const measN = rate * o.seconds;
    receiver.reset(warmN + measN);
    log(`inbound: ${rate} msg/s (${o.ratePerAccount}/s × ${targets.length} accounts): ${o.warmupS} s warm-up, ${o.seconds} s measured…`);
    const prof = process.env['BENCH_PROF'];
    const cpu0 = { ctl: 0, sb: 0, runner: process.cpuUsage() };
    const run = await injectAll(pool, receiver, targets, [warmN, measN], rate, {
      async beforePart(i) {
        if (i !== 1) return;
        cpu0.ctl = cpuMs(ctl.pid);
        cpu0.sb = cpuMs(sb.proc.pid);
        cpu0.runner = process.cpuUsage();
        await Promise.all([ctl.eventLoopDelayStart(), sb.proc.eventLoopDelayStart()]);
        if (prof) await Promise.all([ctl.profileStart(), sb.proc.profileStart(), profileStart()]);
        // BENCH_ACCOUNTS_SNAPSHOT=file: a heap snapshot of the controller 5 s into the measured part (what is alive
        // under load; the snapshot stops the controller for seconds, so that run's latency means nothing)
        const snap = process.env['BENCH_ACCOUNTS_SNAPSHOT'];
        if (snap) setTimeout(() => void ctl.heapSnapshot(snap).then((f) => log(`heap snapshot: ${f}`), (e: Error) => log(`heap snapshot failed: ${e.message}`)), 5_000);
        // BENCH_SANDBOX_SNAPSHOT=file: three of the sandbox, 5 s apart from 5 s on (file.1, .2, .3); objects keep their
        // ids across them (probe.mjs), so bench/lib/snapshot-lifetimes.mjs tells what lives for seconds
        const sbSnap = process.env['BENCH_SANDBOX_SNAPSHOT'];
        if (sbSnap) {
          setTimeout(() => {
            void (async () => {
              for (const i of [1, 2, 3]) {
                log(`sandbox heap snapshot: ${await sb.proc.heapSnapshot(`${sbSnap}.${i}`)}`);
                if (i < 3) await sleep(5_000);
              }
            })().catch((e: Error) => log(`sandbox heap snapshot failed: ${e.message}`));
          }, 5_000);
        }
      },
    });
    const span = run.spans[1]!;
    const wall = span.to - span.from;
    const runnerCpu = process.cpuUsage(cpu0.runner);
    const cpuPct = {
      controller: round(((cpuMs(ctl.pid) - cpu0.ctl) / wall) * 100, 0),
      sandbox: round(((cpuMs(sb.proc.pid) - cpu0.sb) / wall) * 100, 0),
      runner: round(((runnerCpu.user + runnerCpu.system) / 1000 / wall) * 100, 0),
    };
    const eventLoopDelay = { controller: await ctl.eventLoopDelayStop(), sandbox: await sb.proc.eventLoopDelayStop() };
    if (prof) {
      await ctl.profileStop(join(prof, 'accounts-controller.cpuprofile'));
      await sb.proc.profileStop(join(prof, 'accounts-sandbox.cpuprofile'));
      await profileStop(join(prof, 'accounts-runner.cpuprofile'));
    }
    const all = await receiver.done(o.drainDeadlineMs, run.injected);
    const loopAfter = cpuLoopMs(); // once every report is in (it blocks the runner, whose receiver stamps them)
    if (!all) log(`inbound: ${receiver.got}/${run.injected} received after a ${o.drainDeadlineMs} ms drain`);
    const dump = process.env['BENCH_ACCOUNTS_DUMP'];
    if (dump) {
      // the first line: the wall-clock time (epoch ms) of injectedAtMs 0, to line the rows up with other recordings
      const rows = [`# t0 ${round(performance.timeOrigin + run.spans[0]!.from, 1)}`, 'seq\taccount\tkind\tinjectedAtMs\tcontrolMs\tlatencyMs'];
      for (let i = 0; i < receiver.latency.length; i++) {
        const k = Math.floor(i / targets.length);
        rows.push(`${i}\t${receiver.expected[i]}\t${k % 2 === 0 ? 'friend' : 'group'}\t${round(receiver.injectedAt[i]! - run.spans[0]!.from, 1)}\t${round(run.controlBySeq[i]!, 1)}\t${round(receiver.latency[i]!, 1)}`);
      }
      writeFileSync(dump, `${rows.join('\n')}\n`);
    }
    const lat = Array.from(receiver.latency.subarray(span.seqFrom, span.seqTo)).filter((x) => !Number.isNaN(x));
    const inbound: AccountsResult['inbound'] = {
      ratePerAccount: o.ratePerAccount,
      totalRate: rate,
      seconds: o.seconds,
      warmupS: o.warmupS,
      injected: run.injected,
      injectFailures: run.failures,
      received: receiver.got,
      lost: run.injected - receiver.got,
      duplicates: receiver.duplicates,
      misrouted: receiver.misrouted,
      msgPerSec: round((measN / wall) * 1000, 0),
      p50Ms: round(percentile(lat, 50), 1),
      p90Ms: round(percentile(lat, 90), 1),
      p99Ms: round(percentile(lat, 99), 1),
      maxMs: round(percentile(lat, 100), 1),
      controlP50Ms: round(percentile(run.controlMs, 50), 1),
      controlP99Ms: round(percentile(run.controlMs, 99), 1),
      cpuPct,
      eventLoopDelay: {
        controller: eventLoopDelay.controller && roundAll(eventLoopDelay.controller),
        sandbox: eventLoopDelay.sandbox && roundAll(eventLoopDelay.sandbox),
      },
      cpuLoopMs: { before: loopBefore, after: loopAfter },
    };
    log(
      `inbound: ${inbound.msgPerSec} msg/s injected, p50 ${inbound.p50Ms} ms, p90 ${inbound.p90Ms} ms, p99 ${inbound.p99Ms} ms, max ${inbound.maxMs} ms; control call p50 ${inbound.controlP50Ms} / p99 ${inbound.controlP99Ms} ms; ` +
        `injected ${inbound.injected}, received ${inbound.received}, lost ${inbound.lost}, duplicates ${inbound.duplicates}, misrouted ${inbound.misrouted}, failures ${JSON.stringify(run.failures)}; CPU % ${JSON.stringify(cpuPct)}; machine speed (cpuLoopMs) ${loopBefore} → ${loopAfter} ms; event-loop delay ${JSON.stringify(inbound.eventLoopDelay)}`,
    );
    await sleep(o.restMs);
    const afterInbound = await settledPoint(ctl, ctl.procStatus().rss);
    log(`controller after the inbound: settled ${afterInbound.settledMiB} MiB, at rest ${afterInbound.atRestMiB} MiB (heap ${afterInbound.heapUsedMiB} MiB, peak VmHWM ${mib(ctl.procStatus().hwm)} MiB)`);
    return { launchMs, idle, runningMs, running: running.length, loaded, perAccount, afterInbound, launcher, inbound };
  } finally {
    await pool.close();
    const exit = await ctl.stop();
    if (exit.code !== 0) log(`controller exit ${JSON.stringify(exit)}: ${ctl.tail.slice(-5).join(' | ')}`);
    await sb.proc.stop();
  }
}

export async function benchAccounts(opts: AccountsOptions = {}): Promise<AccountsResult> {
  const o = { ...DEFAULTS, ...opts };
  const dir = mkdtempSync(join(o.dataRoot, 'owx-bench-accounts-'));
  const receiver = await new AccountsReceiver().start();
  const before = loadAvg();
  try {
    const separate = await benchSeparate(o, receiver, dir);
    const c = await benchController(o, receiver, dir);
    const { inbound, ...controller } = c;
    const l = controller.launcher;
    const ratio = {
      settled: round((controller.loaded.settledMiB + l.rssMiB) / separate.scaled.settledMiB, 3),
      atRest: round((controller.loaded.atRestMiB + l.rssMiB) / separate.scaled.atRestMiB, 3),
      anon: round((controller.loaded.anonMiB! + l.anonMiB) / separate.scaled.anonMiB!, 3),
    };
    return {
      accounts: o.accounts,
      worldSize: o.worldSize,
      separate,
      controller: { ...controller, ratio },
      inbound,
      load: { before, after: loadAvg() },
      dataRoot: o.dataRoot,
      targets: {
        // all N accounts running, in ≤ 1/5 of the RSS of N separate processes (settled and at rest, before and after the traffic)
        rss:
          controller.running === o.accounts &&
          Math.max(controller.loaded.settledMiB, controller.afterInbound.settledMiB) + l.rssMiB <= separate.scaled.settledMiB / 5 &&
          Math.max(controller.loaded.atRestMiB, controller.afterInbound.atRestMiB) + l.rssMiB <= separate.scaled.atRestMiB / 5,
        p99: inbound.p99Ms <= 100,
        zeroLost: inbound.lost === 0 && inbound.misrouted === 0 && Object.keys(inbound.injectFailures).length === 0,
      },
    };
  } finally {
    await receiver.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const num = (name: string): number | undefined => {
    const i = process.argv.indexOf(`--${name}`);
    if (i < 0) return undefined;
    const n = Number(process.argv[i + 1]);
    if (!Number.isFinite(n) || n <= 0) {
      process.stderr.write(`--${name} must be a positive number\n`);
      process.exit(2);
    }
    return n;
  };
  const o: AccountsOptions = {};
  for (const [flag, key] of [['accounts', 'accounts'], ['separate', 'separate'], ['seconds', 'seconds'], ['rate', 'ratePerAccount'], ['warmup-s', 'warmupS'], ['rest-ms', 'restMs']] as const) {
    const v = num(flag);
    if (v !== undefined) o[key] = v;
  }
  try {
    execSync('test -f dist/cli/main.js', { cwd: fileURLToPath(new URL('..', import.meta.url)) });
  } catch {
    process.stderr.write('dist/ is not built: npm run build\n');
    process.exit(2);
  }
  const r = await benchAccounts(o);
  console.log(JSON.stringify(r, null, 2));
  process.exit(0);
}
