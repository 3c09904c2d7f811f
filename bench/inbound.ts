/**
 * Benchmark 1, inbound: the sandbox (runner process) emits N text messages, a friend/group mix, content
 * `bench:<seq>`; the openwx process syncs them and POSTs each report to the local receiver (runner process),
 * which records the latency from injection to receipt.
 *
 * - full speed: injection is closed-loop, keeping at most `window` messages ahead of what the receiver has got,
 *   so the sandbox always has a queue (webwxsync delivers ≤ 100 per answer with ContinueFlag) and the latency
 *   is that of a saturated pipeline, not of an unbounded backlog.
 * - steady: a timer-driven loop injects at `rate` msg/s (every 5 ms, the messages due by then).
 * - baseline (same run, same machine): a bare undici loop in its own process POSTs the very bodies openwx
 *   delivered in the preceding full-speed round to the same receiver, one at a time.
 *
 * Standalone: node --import tsx bench/inbound.ts [--quick]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Sandbox } from '../src/sandbox/index.ts';
import { BenchReceiver, CONTENT_PREFIX } from './lib/receiver.ts';
import { OpenwxProc, type Mem, type OpenwxProcOptions } from './lib/openwx-proc.ts';
import { median, percentile, round } from './lib/stats.ts';
import { profileStart, profileStop } from './lib/profiler.ts';
import { bigSandbox, confirmWhenWaiting, pickSenders, type Senders } from './lib/world.ts';

const here = fileURLToPath(new URL('.', import.meta.url));

export interface InboundSession {
  sb: Sandbox;
  receiver: BenchReceiver;
  proc: OpenwxProc;
  senders: Senders;
  loginMs: number;
  loginCalls: number;
  /** Memory of the openwx process before the login (modules loaded, API listening, QR pending). */
  idleMem: Mem;
  close(): Promise<void>;
}

export interface RoundResult {
  mode: 'full' | 'steady';
  n: number;
  received: number;
  lost: number;
  duplicates: number;
  msgPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  elapsedMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function openInboundSession(o: Partial<OpenwxProcOptions> = {}): Promise<InboundSession> {
  const sb = await bigSandbox();
  const receiver = await new BenchReceiver().start();
  const proc = await OpenwxProc.start({ origin: sb.url, postApi: receiver.url, ...o });
  const idle = await proc.mem(true);
  const confirmedAt = await confirmWhenWaiting(sb);
  const runningAt = await proc.waitState('running', 120_000);
  const calls = await proc.calls(confirmedAt); // also ends the probe's call recording
  // Let the login's own reports (state_change, login) drain before measuring.
  await sleep(500);
  return {
    sb,
    receiver,
    proc,
    senders: pickSenders(sb),
    loginMs: runningAt - confirmedAt,
    loginCalls: calls.length,
    idleMem: idle,
    async close() {
      await proc.stop();
      await receiver.stop();
      await sb.close();
    },
  };
}

function injector(s: InboundSession): (seq: number) => void {
  const { friends, groups } = s.senders;
  return (seq) => {
    const content = `${CONTENT_PREFIX}${seq}`;
    const k = seq >> 1;
    if (seq % 2 === 0) s.sb.handle.inject({ type: 'text', from: friends[k % friends.length]!, content });
    else {
      const [group, from] = groups[k % groups.length]!;
      s.sb.handle.inject({ type: 'text', group, from, content });
    }
    s.receiver.injectedAt[seq] = performance.now();
  };
}

export async function inboundRound(
  s: InboundSession,
  mode: 'full' | 'steady',
  o: { n?: number; rate?: number; window?: number; keepBodies?: boolean; deadlineMs?: number } = {},
): Promise<RoundResult> {
  const n = o.n ?? 20_000;
  const rate = o.rate ?? 1_000;
  const window = o.window ?? 500;
  const r = s.receiver;
  r.reset(n);
  r.keepBodies = o.keepBodies ?? false;
  const inject = injector(s);
  const done = r.done(o.deadlineMs ?? 180_000);
  done.catch(() => undefined);
  const t0 = performance.now();
  let next = 0;
  if (mode === 'full') {
    while (next < n) {
      const room = Math.min(n - next, window - (next - r.got));
      for (let i = 0; i < room; i++) {
        // the time is taken per message, right before its injection
        r.injectedAt[next] = performance.now();
        inject(next++);
      }
      await sleep(1);
    }
  } else {
    while (next < n) {
      const due = Math.min(n, Math.floor(((performance.now() - t0) * rate) / 1000));
      while (next < due) inject(next++);
      await sleep(5);
    }
  }
  let error: Error | null = null;
  await done.catch((e: Error) => {
    error = e;
  });
  const elapsedMs = (r.lastAt || performance.now()) - t0;
  const result: RoundResult = {
    mode,
    n,
    received: r.got,
    lost: n - r.got,
    duplicates: r.duplicates,
    msgPerSec: round((r.got / elapsedMs) * 1000, 0),
    p50Ms: round(percentile(r.latencies, 50), 1),
    p99Ms: round(percentile(r.latencies, 99), 1),
    maxMs: round(percentile(r.latencies, 100), 1),
    elapsedMs: round(elapsedMs, 0),
  };
  if (error) process.stderr.write(`inbound ${mode}: ${(error as Error).message}\n`);
  return result;
}

/** Replays `bodies` with the bare undici loop (own process) to the session's receiver; msg/s. */
export async function inboundBaseline(s: InboundSession, bodies: string[], n: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'owx-bench-bodies-'));
  const file = join(dir, 'bodies.jsonl');
  writeFileSync(file, bodies.map((b) => JSON.stringify(b)).join('\n'));
  s.receiver.reset(n);
  s.receiver.keepBodies = false;
  const out = await new Promise<string>((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', 'tsx', join(here, 'lib/post-loop.ts'), s.receiver.url, file], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let text = '';
    c.stdout.on('data', (d: Buffer) => (text += d.toString()));
    c.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`baseline loop exited ${code}`))));
  });
  rmSync(dir, { recursive: true, force: true });
  const r = JSON.parse(out.trim().split('\n').pop()!) as { n: number; elapsedMs: number };
  if (s.receiver.got !== r.n) process.stderr.write(`baseline: receiver got ${s.receiver.got}/${r.n}\n`);
  return round((r.n / r.elapsedMs) * 1000, 0);
}

export interface InboundResult {
  n: number;
  full: RoundResult[];
  steady: RoundResult[];
  baselineMsgPerSec: number[];
  /** Per full-speed round: openwx msg/s ÷ the baseline measured right after it. */
  ratios: number[];
  summary: {
    msgPerSec: number;
    baselineMsgPerSec: number;
    ratio: number;
    fullP50Ms: number;
    fullP99Ms: number;
    steadyMsgPerSec: number;
    steadyP50Ms: number;
    steadyP99Ms: number;
    lost: number;
    duplicates: number;
  };
  targets: { ratio: boolean; steadyP99: boolean; zeroLost: boolean };
}

export interface InboundHooks {
  afterLogin?(s: InboundSession): Promise<void>;
  afterFullRound?(s: InboundSession, i: number): Promise<void>;
}

export async function benchInbound(o: { fullRounds?: number; steadyRounds?: number; n?: number; hooks?: InboundHooks; proc?: Partial<OpenwxProcOptions> } = {}): Promise<InboundResult> {
  const fullRounds = o.fullRounds ?? 5;
  const steadyRounds = o.steadyRounds ?? 3;
  const n = o.n ?? 20_000;
  const prof = process.env['BENCH_PROF'];
  const s = await openInboundSession(o.proc);
  const full: RoundResult[] = [];
  const steady: RoundResult[] = [];
  const base: number[] = [];
  const ratios: number[] = [];
  try {
    await o.hooks?.afterLogin?.(s);
    for (let i = 0; i < fullRounds; i++) {
      if (prof && i === 0) await Promise.all([s.proc.profileStart(), profileStart()]);
      const r = await inboundRound(s, 'full', { n, keepBodies: true });
      if (prof && i === 0) {
        await s.proc.profileStop(join(prof, 'inbound-full-openwx.cpuprofile'));
        await profileStop(join(prof, 'inbound-full-runner.cpuprofile'));
      }
      full.push(r);
      const bodies = s.receiver.bodies;
      const b = await inboundBaseline(s, bodies, n);
      base.push(b);
      ratios.push(round(r.msgPerSec / b, 3));
      log(`inbound full #${i + 1}: ${r.msgPerSec} msg/s (baseline ${b}), p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, lost ${r.lost}`);
      s.receiver.bodies = [];
      await o.hooks?.afterFullRound?.(s, i);
    }
    for (let i = 0; i < steadyRounds; i++) {
      const r = await inboundRound(s, 'steady', { n });
      steady.push(r);
      log(`inbound steady #${i + 1}: ${r.msgPerSec} msg/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, lost ${r.lost}`);
    }
  } finally {
    await s.close();
  }
  const lost = [...full, ...steady].reduce((a, r) => a + r.lost, 0);
  const duplicates = [...full, ...steady].reduce((a, r) => a + r.duplicates, 0);
  const summary = {
    msgPerSec: median(full.map((r) => r.msgPerSec)),
    baselineMsgPerSec: median(base),
    ratio: median(ratios),
    fullP50Ms: median(full.map((r) => r.p50Ms)),
    fullP99Ms: median(full.map((r) => r.p99Ms)),
    steadyMsgPerSec: median(steady.map((r) => r.msgPerSec)),
    steadyP50Ms: median(steady.map((r) => r.p50Ms)),
    steadyP99Ms: median(steady.map((r) => r.p99Ms)),
    lost,
    duplicates,
  };
  return {
    n,
    full,
    steady,
    baselineMsgPerSec: base,
    ratios,
    summary,
    targets: { ratio: summary.ratio >= 0.5, steadyP99: summary.steadyP99Ms <= 50, zeroLost: lost === 0 },
  };
}

export function log(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  const r = await benchInbound(quick ? { fullRounds: 1, steadyRounds: 1, n: 5000 } : {});
  console.log(JSON.stringify(r.summary, null, 2));
  process.exit(0);
}
