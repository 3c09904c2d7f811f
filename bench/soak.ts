/**
 * `npm run soak -- --minutes N`: nothing lost under chaos (docs/benchmarks.md, "Soak"). Not part of `npm test`.
 *
 * Three processes: this one (injector, post_api receiver, chaos), the sandbox (bench/lib/soak-sandbox.mjs, dist/)
 * and the real `openwx` command (bin/openwx.js → dist/, restarted after every kill on the same data folder, so it
 * resumes the session without a scan). For N minutes:
 * - `--rate` (100) text messages per second, alternately from friends and groups, through the sandbox control API
 *   (POST /__sandbox/messages), each with content `soak:<seq>`;
 * - kill -9 of openwx every 20–40 s (`--kill-every-s`), restarted at once;
 * - protocol fault storms on synccheck/webwxsync: for 10–25 s (`--storm-s`) a fault every 1–4 s (`--fault-every-s`),
 *   then 15–45 s calm (`--calm-s`); faults are HTTP 500, garbage bodies, 20–25 s hangs, Ret/retcode 1205, each for
 *   1–4 calls; the sandbox queues them, so during a storm they pile up faster than openwx's backoff uses them;
 * - post_api receiver episodes between normal stretches: 503 to everything, 30 % 503s, slow answers (0.5–15 s,
 *   beyond post_api_timeout_ms some attempts time out: duplicates), down (connections refused).
 * Then the drain: chaos off, faults cleared, openwx running, until every injected message arrived or `--drain-s`
 * (360) passed. Counted at the receiver: delivered, lost (never arrived), duplicates (same event id = a retried
 * report; new event id = reported twice); RSS of openwx from /proc every second; latency injection → receipt.
 * Every lost message is traced: where the sandbox has it (still queued / acknowledged by a SyncKey / evicted), and
 * whether openwx's database has it (message history, outbox, dead letters).
 *
 * Prints a table, writes bench/soak-results.json (`--out`), keeps the run folder (logs, data folder) when anything
 * was lost or with `--keep`. Exit 0 when nothing was lost, 1 when something was, 2 on a failed run (setup).
 * Every loop ends by itself; all traffic is on 127.0.0.1. Options: --minutes N (10), --rate R (100), --seed S,
 * --kill-every-s A,B, --storm-s A,B, --calm-s A,B, --fault-every-s A,B, --no-kills, --no-faults, --no-receiver-chaos, --drain-s S,
 * --world F,G,M (300,40,30), --max-pending-faults N (10), --fault-kinds sc500,sync500,scgarbage,syncgarbage,schang,
 * synchang,sc1205,sync1205 (all), --receiver-modes 503,flaky,slow,down (all), --sandbox-max-stored N (20000), --keep,
 * --out FILE.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { execSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { Pool } from 'undici';
import { SoakOpenwx, newOpenwxStats } from './lib/soak-openwx.ts';
import { SOAK_PREFIX, SoakReceiver, type ReceiverMode } from './lib/soak-receiver.ts';
import { median, percentile, round } from './lib/stats.ts';
import { createRng } from '../src/sandbox/rng.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(here, '..');

// ---- options -------------------------------------------------------------------------------------------------

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}
const flag = (name: string) => process.argv.includes(`--${name}`);
function num(name: string, dflt: number, min: number, max: number): number {
  const v = arg(name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) fail(`--${name} must be a number from ${min} to ${max} (got "${v}")`);
  return n;
}
function range(name: string, dflt: [number, number]): [number, number] {
  const v = arg(name);
  if (v === undefined) return dflt;
  const m = /^(\d+(?:\.\d+)?),(\d+(?:\.\d+)?)$/.exec(v);
  if (!m || Number(m[1]) > Number(m[2]) || Number(m[1]) <= 0) fail(`--${name} is MIN,MAX in seconds, e.g. 20,40 (got "${v}")`);
  return [Number(m![1]), Number(m![2])];
}
function fail(msg: string): never {
  process.stderr.write(`soak: ${msg}\n`);
  process.exit(2);
}

const opts = {
  minutes: num('minutes', 10, 0.1, 24 * 60),
  rate: num('rate', 100, 1, 2000),
  seed: num('seed', Date.now() % 1_000_000, 0, Number.MAX_SAFE_INTEGER),
  killEveryS: range('kill-every-s', [20, 40]),
  faultEveryS: range('fault-every-s', [1, 4]),
  stormS: range('storm-s', [10, 25]),
  calmS: range('calm-s', [15, 45]),
  maxPendingFaults: num('max-pending-faults', 10, 1, 1000),
  faultKinds: arg('fault-kinds')?.split(','),
  receiverModes: arg('receiver-modes')?.split(','),
  sandboxMaxStored: num('sandbox-max-stored', 20000, 1, 10_000_000),
  kills: !flag('no-kills'),
  faults: !flag('no-faults'),
  receiverChaos: !flag('no-receiver-chaos'),
  drainS: num('drain-s', 360, 10, 3600),
  world: (() => {
    const m = /^(\d+),(\d+),(\d+)$/.exec(arg('world') ?? '300,40,30');
    if (!m) fail('--world is F,G,M (friends, groups, members per group)');
    return { friends: Number(m[1]), groups: Number(m[2]), members: Number(m[3]) };
  })(),
  keep: flag('keep'),
  out: arg('out') ?? join(here, 'soak-results.json'),
};
const FAULT_KEYS = ['sc500', 'sync500', 'scgarbage', 'syncgarbage', 'schang', 'synchang', 'sc1205', 'sync1205'];
for (const k of opts.receiverModes ?? []) if (!['503', 'flaky', 'slow', 'down'].includes(k)) fail(`--receiver-modes: unknown mode "${k}" (known: 503,flaky,slow,down)`);
for (const k of opts.faultKinds ?? []) if (!FAULT_KEYS.includes(k)) fail(`--fault-kinds: unknown kind "${k}" (known: ${FAULT_KEYS.join(',')})`);
if (!existsSync(join(ROOT, 'dist/cli/main.js')) || !existsSync(join(ROOT, 'dist/sandbox/index.js'))) {
  fail('dist/ is missing: run `npm run build` first (`npm run soak` does)');
}

// ---- small helpers -------------------------------------------------------------------------------------------

/** The chaos schedule is reproducible from --seed (the sandbox's mulberry32). */
const rand = createRng(opts.seed).next;
const between = (a: number, b: number) => a + rand() * (b - a);
const intBetween = (a: number, b: number) => Math.floor(between(a, b + 1));
const t0 = performance.now();
const now = () => performance.now() - t0;
const sec = (ms: number) => round(ms / 1000, 1);
const log = (line: string) => process.stderr.write(`[soak ${sec(now()).toFixed(1).padStart(7)} s] ${line}\n`);

let stopping = false;
/** Sleeps `ms`, or less when the run is ending (every loop checks `stopping` after it). */
const wakers = new Set<() => void>();
function nap(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      wakers.delete(done);
      resolve();
    };
    const t = setTimeout(done, ms);
    wakers.add(done);
  });
}
function endChaos(): void {
  stopping = true;
  for (const w of [...wakers]) w();
}

interface TimelineEntry {
  t: number;
  what: string;
  detail?: unknown;
}
const timeline: TimelineEntry[] = [];
const mark = (what: string, detail?: unknown) => timeline.push({ t: sec(now()), what, ...(detail === undefined ? {} : { detail }) });

// ---- the run folder, the sandbox process, the receiver ---------------------------------------------------------

const runDir = mkdtempSync(join(tmpdir(), 'owx-soak-'));
const dataDir = join(runDir, 'data');
const logFile = join(runDir, 'openwx.log');
const openwxLog = createWriteStream(logFile, { flags: 'a' });
const distBuiltAt = statSync(join(ROOT, 'dist/cli/main.js')).mtimeMs;

interface SandboxProc {
  child: ChildProcess;
  url: string;
  ask<T>(op: string, arg?: unknown): Promise<T>;
}

async function startSandboxProc(): Promise<SandboxProc> {
  const child = fork(join(here, 'lib/soak-sandbox.mjs'), [JSON.stringify({ worldSize: opts.world, seed: 1, maxStoredMessages: opts.sandboxMaxStored })], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: process.env['SOAK_SANDBOX_MODULE']?.endsWith('.ts') ? ['--import', 'tsx'] : [],
  });
  const pending = new Map<number, (v: unknown) => void>();
  let seq = 0;
  const url = await new Promise<string>((resolve, reject) => {
    child.on('message', (m: any) => {
      if (m?.op === 'ready') resolve(String(m.url));
      else if (typeof m?.id === 'number') {
        pending.get(m.id)?.(m.result);
        pending.delete(m.id);
      }
    });
    child.once('exit', (code) => reject(new Error(`the sandbox process exited (${code}) before it was ready`)));
  });
  return {
    child,
    url,
    ask<T>(op: string, a?: unknown): Promise<T> {
      if (!child.connected) return Promise.reject(new Error('the sandbox process is gone'));
      const id = ++seq;
      return new Promise<T>((resolve, reject) => {
        const t = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`sandbox ${op}: no answer`));
        }, 30_000);
        pending.set(id, (v) => {
          clearTimeout(t);
          resolve(v as T);
        });
        child.send({ id, op, arg: a });
      });
    },
  };
}

const sandbox = await startSandboxProc();
const pool = new Pool(sandbox.url, { connections: 16, pipelining: 1 });

async function control<T = any>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await pool.request({
    method,
    path: `/__sandbox/${path}`,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  const text = await res.body.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = { raw: text };
  }
  return { status: res.statusCode, json };
}

const receiver = await new SoakReceiver({ now, rand }).start();
const stats = newOpenwxStats();

// ---- openwx, kill -9, restart -----------------------------------------------------------------------------------

const openwxArgs = [
  '--wechat-origin', sandbox.url, '--post-api', receiver.url, '--data-dir', dataDir, '--port', '0',
  '--quiet', '--log-format', 'json', '--log-level', 'info', '--stop-delay-ms', '0',
];
let incarnation = 0;
let openwx = SoakOpenwx.start(openwxArgs, ++incarnation, openwxLog, stats, now);
const incarnations: { n: number; pid: number; startedAt: number; runningAt: number; endedAt: number; how: string; maxRssMiB: number }[] = [];
let kills = 0;
let crashes = 0;
let qrConfirms = 0;

function retire(p: SoakOpenwx, how: string, maxRss: number): void {
  incarnations.push({ n: p.incarnation, pid: p.pid, startedAt: sec(p.startedAt), runningAt: sec(p.runningAt), endedAt: sec(now()), how, maxRssMiB: round(maxRss / 2 ** 20, 1) });
}

/** Confirms a QR login whenever the sandbox shows one waiting: the first login, and any later one (counted: each is a session openwx could not resume). */
async function confirmLoop(): Promise<void> {
  while (!drainDone) {
    try {
      const s = await control('GET', 'state');
      if (s.json?.login === 'waiting') {
        const c = await control('POST', 'confirm', {});
        if (c.status === 200) {
          qrConfirms++;
          mark('qr-confirmed', { incarnation: openwx.incarnation });
          log(`QR login confirmed (#${qrConfirms}${qrConfirms > 1 ? ': openwx did NOT resume its session' : ''})`);
        }
      }
    } catch (err) {
      log(`state poll failed: ${(err as Error).message}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

let maxRssThis = 0;
const rssSamples: [number, number, number][] = [];
async function rssLoop(): Promise<void> {
  while (!drainDone) {
    const r = openwx.rss();
    if (Number.isFinite(r)) {
      rssSamples.push([sec(now()), openwx.incarnation, round(r / 2 ** 20, 1)]);
      if (r > maxRssThis) maxRssThis = r;
    }
    await new Promise((res) => setTimeout(res, 1_000));
  }
}

async function restart(why: string): Promise<void> {
  openwx = SoakOpenwx.start(openwxArgs, ++incarnation, openwxLog, stats, now);
  maxRssThis = 0;
  mark('started', { incarnation, why });
  if (!(await openwx.waitFor(() => openwx.apiUrl !== '', 30_000))) log(`openwx #${incarnation} printed no API URL within 30 s`);
}

/** Restarts openwx when it exited by itself (a crash or a stop nobody asked for). */
async function watchdogLoop(): Promise<void> {
  while (!drainDone) {
    if (!openwx.alive && !killing) {
      crashes++;
      const e = openwx.exit;
      log(`openwx #${openwx.incarnation} exited by itself (code ${e.code}, signal ${e.signal}); restarting`);
      mark('exited', { incarnation: openwx.incarnation, ...e });
      retire(openwx, `exited ${e.code ?? e.signal}`, maxRssThis);
      await restart('exited');
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

let killing = false;
async function killLoop(): Promise<void> {
  if (!opts.kills) return;
  while (!stopping) {
    await nap(between(opts.killEveryS[0], opts.killEveryS[1]) * 1000);
    if (stopping) break;
    killing = true;
    const p = openwx;
    await p.kill9();
    kills++;
    mark('kill-9', { incarnation: p.incarnation, state: p.state });
    log(`kill -9 openwx #${p.incarnation} (pid ${p.pid}, state ${p.state}, RSS max ${round(maxRssThis / 2 ** 20, 1)} MiB)`);
    retire(p, 'kill -9', maxRssThis);
    await restart('kill -9');
    killing = false;
  }
}

// ---- protocol faults -----------------------------------------------------------------------------------------

const GARBAGE_SYNC = '{"BaseResponse": {"Ret": 0, "ErrMsg": ""}, "AddMsgCount": 2, "AddMsgList": [{"MsgId": "';
const FAULTS: { key: string; name: string; weight: number; spec: () => Record<string, unknown> }[] = [
  { key: 'sc500', name: 'synccheck 500', weight: 2, spec: () => ({ endpoint: 'synccheck', status: 500, body: '', times: intBetween(1, 4) }) },
  { key: 'sync500', name: 'webwxsync 500', weight: 2, spec: () => ({ endpoint: 'webwxsync', status: 500, body: '', times: intBetween(1, 4) }) },
  { key: 'scgarbage', name: 'synccheck garbage', weight: 1, spec: () => ({ endpoint: 'synccheck', body: '<html><body>502 Bad Gateway</body></html>', times: intBetween(1, 3) }) },
  { key: 'syncgarbage', name: 'webwxsync garbage', weight: 1, spec: () => ({ endpoint: 'webwxsync', body: GARBAGE_SYNC, times: intBetween(1, 3) }) },
  { key: 'schang', name: 'synccheck hang 20-25 s', weight: 1, spec: () => ({ endpoint: 'synccheck', delayMs: intBetween(20_000, 25_000), times: 1 }) },
  { key: 'synchang', name: 'webwxsync hang 20-25 s', weight: 1, spec: () => ({ endpoint: 'webwxsync', delayMs: intBetween(20_000, 25_000), times: 1 }) },
  { key: 'sc1205', name: 'synccheck retcode 1205', weight: 0.5, spec: () => ({ endpoint: 'synccheck', ret: 1205, times: 1 }) },
  { key: 'sync1205', name: 'webwxsync Ret 1205', weight: 0.5, spec: () => ({ endpoint: 'webwxsync', ret: 1205, times: 1 }) },
].filter((f) => !opts.faultKinds || opts.faultKinds.includes(f.key));
const faultCounts: Record<string, number> = {};
let maxPendingFaults = 0;
let storms = 0;
/** Fault uses still queued in the sandbox (as of the last fault added or the last diag). */
let pendingFaultUses = 0;

async function faultLoop(): Promise<void> {
  if (!opts.faults) return;
  const total = FAULTS.reduce((a, f) => a + f.weight, 0);
  let stormEnds = 0;
  while (!stopping) {
    if (now() >= stormEnds) {
      // a calm stretch (the faults queued so far are used up by openwx's calls), then the next storm
      await nap(between(opts.calmS[0], opts.calmS[1]) * 1000);
      if (stopping) break;
      const ms = between(opts.stormS[0], opts.stormS[1]) * 1000;
      stormEnds = now() + ms;
      storms++;
      mark('fault-storm', { seconds: sec(ms) });
    }
    await nap(between(opts.faultEveryS[0], opts.faultEveryS[1]) * 1000);
    if (stopping) break;
    if (pendingFaultUses >= opts.maxPendingFaults) continue; // piled up enough: openwx is still working through them
    let r = rand() * total;
    const f = FAULTS.find((x) => (r -= x.weight) < 0) ?? FAULTS[0]!;
    const spec = f.spec();
    try {
      const res = await control('POST', 'faults', spec);
      if (res.status !== 200) throw new Error(`HTTP ${res.status} ${JSON.stringify(res.json)}`);
      faultCounts[f.name] = (faultCounts[f.name] ?? 0) + 1;
      const pendingN = (res.json.pending as { times: number }[]).reduce((a, p) => a + p.times, 0);
      pendingFaultUses = pendingN;
      maxPendingFaults = Math.max(maxPendingFaults, pendingN);
      mark('fault', { name: f.name, times: spec['times'], pending: pendingN });
    } catch (err) {
      log(`fault not added: ${(err as Error).message}`);
    }
  }
}

// ---- receiver episodes ---------------------------------------------------------------------------------------

const receiverEpisodes: Record<string, { n: number; seconds: number }> = {};
async function receiverLoop(): Promise<void> {
  if (!opts.receiverChaos) return;
  const all: [ReceiverMode, number, number][] = [
    ['503', 5, 20],
    ['flaky', 10, 30],
    ['slow', 10, 30],
    ['down', 5, 30],
  ];
  const modes = all.filter(([m]) => !opts.receiverModes || opts.receiverModes.includes(m));
  while (!stopping) {
    await nap(between(10, 40) * 1000);
    if (stopping) break;
    const [mode, a, b] = modes[Math.floor(rand() * modes.length)]!;
    const ms = between(a, b) * 1000;
    await receiver.setMode(mode);
    mark('receiver', { mode, seconds: sec(ms) });
    const e = (receiverEpisodes[mode] ??= { n: 0, seconds: 0 });
    e.n++;
    e.seconds = round(e.seconds + ms / 1000, 1);
    await nap(ms);
    await receiver.setMode('ok');
    mark('receiver', { mode: 'ok' });
  }
}

// ---- injection -----------------------------------------------------------------------------------------------

let senders: { friends: string[]; groups: [string, string][] } = { friends: [], groups: [] };
const injectedAt: number[] = [];
const msgIdOf: string[] = [];
let injected = 0;
let nextSeq = 0;
const injectFailures: Record<string, number> = {};
let inflight = 0;
const MAX_INFLIGHT = 64;

function injectOne(seq: number): void {
  const content = `${SOAK_PREFIX}${seq}`;
  const k = seq >> 1;
  const body =
    seq % 2 === 0
      ? { type: 'text', from: senders.friends[k % senders.friends.length]!, content }
      : { type: 'text', group: senders.groups[k % senders.groups.length]![0], from: senders.groups[k % senders.groups.length]![1], content };
  inflight++;
  const at = now();
  control<{ msgIds: string[]; error?: string }>('POST', 'messages', body)
    .then((r) => {
      if (r.status === 200 && r.json?.msgIds?.[0]) {
        injectedAt[seq] = at;
        msgIdOf[seq] = r.json.msgIds[0];
        injected++;
      } else {
        const why = `HTTP ${r.status} ${String(r.json?.error ?? '').slice(0, 80)}`;
        injectFailures[why] = (injectFailures[why] ?? 0) + 1;
      }
    })
    .catch((err: Error) => {
      injectFailures[err.message] = (injectFailures[err.message] ?? 0) + 1;
    })
    .finally(() => inflight--);
}

let injectStartedAt = 0;
let injectEndedAt = 0;
async function injectLoop(endAt: number): Promise<void> {
  injectStartedAt = now();
  while (now() < endAt && !aborted) {
    const due = Math.floor(((now() - injectStartedAt) * opts.rate) / 1000);
    while (nextSeq < due && inflight < MAX_INFLIGHT) injectOne(nextSeq++);
    await new Promise((r) => setTimeout(r, 10));
  }
  injectEndedAt = now();
  while (inflight > 0) await new Promise((r) => setTimeout(r, 20));
}

// ---- the run ---------------------------------------------------------------------------------------------------

let drainDone = false;
let aborted = false;
const hardDeadline = setTimeout(() => {
  log('hard deadline passed: killing everything');
  cleanupSync();
  process.exit(2);
}, (opts.minutes * 60 + opts.drainS + 240) * 1000);

function cleanupSync(): void {
  try {
    if (openwx.alive) process.kill(openwx.pid, 'SIGKILL');
  } catch {
    /* gone */
  }
  try {
    if (sandbox.child.exitCode === null) sandbox.child.kill('SIGKILL');
  } catch {
    /* gone */
  }
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    log(`${sig}: stopping openwx and the sandbox`);
    cleanupSync();
    process.exit(130);
  });
}

log(`run folder ${runDir}; sandbox ${sandbox.url}; receiver ${receiver.url}; seed ${opts.seed}`);
log(`${opts.minutes} min at ${opts.rate} msg/s; kills ${opts.kills ? opts.killEveryS.join('–') + ' s' : 'off'}; faults ${opts.faults ? opts.faultEveryS.join('–') + ' s' : 'off'}; receiver chaos ${opts.receiverChaos ? 'on' : 'off'}`);

const confirming = confirmLoop();
const sampling = rssLoop();
let setupOk = await openwx.waitFor(() => openwx.state === 'running', 120_000);
if (!setupOk) {
  log(`openwx did not log in within 120 s (state ${openwx.state}); see ${logFile}`);
  drainDone = true;
  stopping = true;
  cleanupSync();
  process.exit(2);
}
mark('first-login');
{
  const w = (await control('GET', 'world')).json as { self: { id: string }; people: any[]; groups: any[] };
  senders = {
    friends: w.people.filter((p) => p.friend !== false && (p.kind ?? 'person') === 'person' && !p.behavior).slice(0, 50).map((p) => p.id),
    groups: w.groups
      .filter((g) => g.members.length > 1)
      .slice(0, 50)
      .map((g): [string, string] => [g.id, g.members.find((m: string) => m !== w.self.id)]),
  };
  if (senders.friends.length === 0 || senders.groups.length === 0) {
    cleanupSync();
    fail('the world has no friends or groups to send from');
  }
}

const trafficMs = opts.minutes * 60_000;
const watchdog = watchdogLoop();
const chaos = Promise.all([killLoop(), faultLoop(), receiverLoop()]);
/** openwx's outbox depth (get_client_info), for the progress line: where the messages not yet delivered are. */
async function outboxDepth(): Promise<string> {
  if (!openwx.apiUrl || !openwx.alive) return '?';
  try {
    const res = await fetch(`${openwx.apiUrl}/openwx/get_client_info`, { signal: AbortSignal.timeout(2_000) });
    const j = (await res.json()) as { outbox_depth?: number };
    return String(j.outbox_depth ?? '?');
  } catch {
    return '?';
  }
}
const progress = setInterval(() => {
  void outboxDepth().then((depth) => {
    const sb = backlog[backlog.length - 1]?.[1] ?? '?';
    log(`injected ${injected}, delivered ${receiver.delivered} (behind ${injected - receiver.delivered}: sandbox queue ${sb}, outbox ${depth}), dup ${receiver.dupSameEvent}+${receiver.dupNewEvent}, openwx #${openwx.incarnation} ${openwx.state}, receiver ${receiver.mode}, kills ${kills}`);
  });
}, 15_000);
const backlog: [number, number, number][] = [];
/**
 * Delivery stalls: the receiver has been answering for 30 s, openwx (the same process) has been running for 30 s,
 * its outbox is not empty, and nothing was delivered for 30 s. Each is logged with the outbox head (attempts, last
 * error, next attempt) and keeps the run folder.
 */
const stalls: { t: number; incarnation: number; seconds: number; depth: string; head: unknown }[] = [];
let lastDelivered = -1;
let lastDeliveredAt = 0;
let stallOpen = false;
async function checkStall(): Promise<void> {
  const t = now();
  if (receiver.delivered !== lastDelivered) {
    lastDelivered = receiver.delivered;
    lastDeliveredAt = t;
    stallOpen = false;
    return;
  }
  const quiet = Math.min(t - lastDeliveredAt, t - receiver.modeSince, openwx.runningAt ? t - openwx.runningAt : 0);
  if (stallOpen || receiver.mode !== 'ok' || openwx.state !== 'running' || quiet < 30_000) return;
  const depth = await outboxDepth();
  if (depth === '?' || depth === '0') return;
  let head: unknown = null;
  try {
    const db = new Database(join(dataDir, 'openwx.db'), { readonly: true, fileMustExist: true });
    head = db.prepare('SELECT seq, kind, attempts, last_error, next_at - ? AS next_in_ms, created_at - ? AS age_ms FROM outbox ORDER BY seq LIMIT 1').get(Date.now(), Date.now());
    db.close();
  } catch (err) {
    head = { error: (err as Error).message };
  }
  stallOpen = true;
  stalls.push({ t: sec(t), incarnation: openwx.incarnation, seconds: sec(quiet), depth, head });
  mark('delivery-stall', { incarnation: openwx.incarnation, depth, head });
  log(`DELIVERY STALL: nothing delivered for ${sec(quiet)} s with the receiver answering and openwx #${openwx.incarnation} running; outbox ${depth}, head ${JSON.stringify(head)}`);
}
const diagLoop = (async () => {
  while (!drainDone) {
    await checkStall().catch((err: Error) => log(`stall check failed: ${err.message}`));
    try {
      const d = await sandbox.ask<{ online: boolean; faults: number; pending?: number; pendingEvicted?: number }>('diag');
      pendingFaultUses = d.faults;
      if (d.online) backlog.push([sec(now()), d.pending ?? 0, d.pendingEvicted ?? 0]);
    } catch {
      /* the sandbox answers; a missed sample does not matter */
    }
    await new Promise((r) => setTimeout(r, 5_000));
  }
})();

await injectLoop(now() + trafficMs);
log(`traffic over: ${injected} injected; chaos off, faults cleared, draining (up to ${opts.drainS} s)`);
endChaos();
await chaos;
await sandbox.ask('clear-faults');
mark('drain');
await receiver.setMode('ok');
const drainStart = now();
// Until everything arrived, or openwx has nothing left (sandbox queue and outbox empty) and delivered nothing for
// 30 s (what is missing then will never come), or the drain time is up.
let settledSince = 0;
while (receiver.delivered < injected && now() - drainStart < opts.drainS * 1000) {
  await new Promise((r) => setTimeout(r, 1_000));
  const idle = now() - Math.max(lastDeliveredAt, drainStart) >= 30_000;
  const empty = idle && (await outboxDepth()) === '0' && (await sandbox.ask<{ pending?: number }>('diag')).pending === 0;
  if (!empty) settledSince = 0;
  else if (settledSince === 0) settledSince = now();
  else if (now() - settledSince >= 5_000) {
    log(`drain: the sandbox queue and the outbox are empty and nothing arrived for 30 s: ${injected - receiver.delivered} will not come`);
    break;
  }
}
// late duplicates (reports in flight) arrive within a few seconds
await new Promise((r) => setTimeout(r, 5_000));
const drainMs = now() - drainStart;
clearInterval(progress);

// ---- analysis of what was lost, before openwx stops -----------------------------------------------------------

const lost: number[] = [];
for (let s = 0; s < nextSeq; s++) if (injectedAt[s] !== undefined && !receiver.isDelivered(s)) lost.push(s);
const sbWhere = lost.length
  ? ((await sandbox.ask<{ where?: Record<string, string>; acked?: number; lastSeq?: number; pending?: number }>('diag', lost.map((s) => msgIdOf[s]))) ?? {})
  : {};
const sbFinal = await sandbox.ask<Record<string, unknown>>('diag');
drainDone = true;
const finalState = openwx.state;
await openwx.stop();
retire(openwx, 'stopped', maxRssThis);
await Promise.all([confirming, sampling, watchdog, diagLoop]);

interface LostRange {
  from: number;
  to: number;
  count: number;
  injectedFromS: number;
  injectedToS: number;
  sandbox: Record<string, number>;
  openwxDb: Record<string, number>;
  nearby: TimelineEntry[];
}
const dbWhere: Record<number, string> = {};
if (lost.length > 0 && existsSync(join(dataDir, 'openwx.db'))) {
  const db = new Database(join(dataDir, 'openwx.db'), { readonly: true });
  const inHistory = db.prepare('SELECT 1 FROM messages WHERE msg_id = ?');
  const inOutbox = db.prepare("SELECT 1 FROM outbox WHERE body LIKE ? LIMIT 1");
  const inDead = db.prepare("SELECT 1 FROM dead_letters WHERE body LIKE ? LIMIT 1");
  for (const s of lost) {
    const like = `%"content":"${SOAK_PREFIX}${s}"%`;
    dbWhere[s] = inDead.get(like) ? 'dead letter' : inOutbox.get(like) ? 'outbox (undelivered)' : inHistory.get(msgIdOf[s]) ? 'history only (recorded, no outbox row)' : 'not in the database';
  }
  db.close();
}
const ranges: LostRange[] = [];
for (const s of lost) {
  const last = ranges[ranges.length - 1];
  if (last && last.to === s - 1) {
    last.to = s;
    last.count++;
  } else ranges.push({ from: s, to: s, count: 1, injectedFromS: 0, injectedToS: 0, sandbox: {}, openwxDb: {}, nearby: [] });
}
for (const r of ranges) {
  r.injectedFromS = sec(injectedAt[r.from]!);
  r.injectedToS = sec(injectedAt[r.to]!);
  for (let s = r.from; s <= r.to; s++) {
    const w = sbWhere.where?.[msgIdOf[s]!] ?? 'unknown';
    r.sandbox[w] = (r.sandbox[w] ?? 0) + 1;
    const d = dbWhere[s] ?? 'not checked';
    r.openwxDb[d] = (r.openwxDb[d] ?? 0) + 1;
  }
  r.nearby = timeline.filter((e) => e.t >= r.injectedFromS - 30 && e.t <= r.injectedToS + 30 && e.what !== 'fault').slice(0, 40);
}

// ---- results ---------------------------------------------------------------------------------------------------

await receiver.stop();
await pool.close();
if (sandbox.child.connected) sandbox.child.send({ op: 'stop' });
await new Promise<void>((r) => (sandbox.child.exitCode !== null ? r() : sandbox.child.once('exit', () => r())));
clearTimeout(hardDeadline);
openwxLog.end();

const latencies: number[] = [];
for (let s = 0; s < nextSeq; s++) if (injectedAt[s] !== undefined && receiver.isDelivered(s)) latencies.push(receiver.deliveredAt[s]! - injectedAt[s]!);
const rssAll = rssSamples.map((x) => x[2]);
const sh = (c: string) => {
  try {
    return execSync(c, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
};
const top = (m: Map<string, number>, n = 12) => Object.fromEntries([...m].sort((a, b) => b[1] - a[1]).slice(0, n));
const distRebuilt = statSync(join(ROOT, 'dist/cli/main.js')).mtimeMs !== distBuiltAt;
const results = {
  date: new Date().toISOString(),
  commit: sh('git rev-parse --short HEAD'),
  machine: { nproc: cpus().length, cpu: cpus()[0]?.model ?? '', memTotalGiB: round(totalmem() / 2 ** 30, 1), node: process.version },
  options: { ...opts, out: undefined },
  distRebuiltDuringRun: distRebuilt,
  traffic: {
    seconds: sec(injectEndedAt - injectStartedAt),
    injected,
    injectFailures,
    msgPerSec: round(injected / ((injectEndedAt - injectStartedAt) / 1000), 1),
  },
  delivered: receiver.delivered,
  lost: lost.length,
  duplicates: { sameEventId: receiver.dupSameEvent, newEventId: receiver.dupNewEvent },
  latencyMs: { p50: round(percentile(latencies, 50), 0), p99: round(percentile(latencies, 99), 0), max: round(percentile(latencies, 100), 0) },
  drainSeconds: sec(drainMs),
  chaos: {
    kills,
    exitsByItself: crashes,
    qrLogins: qrConfirms,
    resumes: stats.resumed,
    resumeFailures: stats.resumeFailed,
    faultStorms: storms,
    faults: faultCounts,
    maxPendingFaultUses: maxPendingFaults,
    receiverEpisodes,
    receiverCounts: receiver.counts,
  },
  sandboxBacklog: {
    maxPending: Math.max(0, ...backlog.map((b) => b[1])),
    maxPendingEvicted: Math.max(0, ...backlog.map((b) => b[2])),
    final: sbFinal,
    // every 5 s: [s since start, events queued for openwx, of which messages evicted]
    samples: backlog,
  },
  rssMiB: {
    min: Math.min(...rssAll),
    median: median(rssAll),
    max: Math.max(...rssAll),
    last: rssAll[rssAll.length - 1],
    perIncarnationMax: incarnations.map((i) => i.maxRssMiB),
    // one sample every 10 s: [s since start, incarnation, MiB]
    samples: rssSamples.filter((_, i) => i % 10 === 0),
  },
  openwxFinalState: finalState,
  openwxWarnings: top(stats.warnings),
  openwxErrors: top(stats.errors),
  lostRanges: ranges.slice(0, 50),
  timeline: timeline.filter((e) => e.what !== 'fault'),
  deliveryStalls: stalls,
  runDir: lost.length > 0 || stalls.length > 0 || opts.keep ? runDir : null,
};
writeFileSync(opts.out, `${JSON.stringify(results, null, 2)}\n`);
if (!results.runDir) rmSync(runDir, { recursive: true, force: true });

const rows: [string, string][] = [
  ['traffic', `${results.traffic.seconds} s at ${results.traffic.msgPerSec} msg/s (friends and groups)`],
  ['injected', `${injected}${Object.keys(injectFailures).length ? ` (+ not accepted by the sandbox: ${JSON.stringify(injectFailures)})` : ''}`],
  ['delivered', String(receiver.delivered)],
  ['LOST', String(lost.length)],
  ['duplicates', `${receiver.dupSameEvent} retried (same event id), ${receiver.dupNewEvent} reported twice (new event id)`],
  ['latency inject → post_api', `p50 ${results.latencyMs.p50} ms, p99 ${results.latencyMs.p99} ms, max ${results.latencyMs.max} ms`],
  ['drain', `${results.drainSeconds} s`],
  ['kill -9 / exits by itself', `${kills} / ${crashes}`],
  ['logins: QR / resumed / resume failed', `${qrConfirms} / ${stats.resumed} / ${stats.resumeFailed}`],
  ['protocol faults added', `${Object.values(faultCounts).reduce((a, b) => a + b, 0)} in ${storms} storms (max ${maxPendingFaults} uses pending)`],
  ['receiver episodes', Object.entries(receiverEpisodes).map(([k, v]) => `${k} ${v.n}× ${v.seconds} s`).join(', ') || 'none'],
  ['sandbox backlog (events)', `max ${results.sandboxBacklog.maxPending}, evicted while pending max ${results.sandboxBacklog.maxPendingEvicted}`],
  ['delivery stalls (≥ 30 s, receiver up)', stalls.length ? stalls.map((s) => `${s.t} s (#${s.incarnation}, outbox ${s.depth})`).join(', ') : 'none'],
  ['openwx RSS (MiB)', `min ${results.rssMiB.min}, median ${results.rssMiB.median}, max ${results.rssMiB.max}, last ${results.rssMiB.last}`],
];
const w = Math.max(...rows.map((r) => r[0].length));
console.log(`openwx soak — ${results.date} — ${opts.minutes} min, seed ${opts.seed}, commit ${results.commit}`);
for (const [k, v] of rows) console.log(`${k.padEnd(w)} | ${v}`);
for (const r of ranges.slice(0, 10)) {
  console.log(`lost ${r.from}..${r.to} (${r.count}, injected ${r.injectedFromS}–${r.injectedToS} s): sandbox ${JSON.stringify(r.sandbox)}, openwx db ${JSON.stringify(r.openwxDb)}`);
}
if (distRebuilt) console.log('note: dist/ was rebuilt during the run (restarts after that ran the new build)');
console.log(`written: ${opts.out}${results.runDir ? `; logs and data kept in ${results.runDir}` : ''}`);
process.exit(lost.length > 0 ? 1 : 0);
