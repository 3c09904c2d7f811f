/**
 * Benchmark 3, memory of the openwx process alone (the sandbox and the receiver run in the runner process):
 * RSS and heap after a full GC (`--expose-gc` in the openwx process, read over IPC), after login with the big
 * world and after each of 5 full-speed inbound rounds of 20,000 messages (the inbound benchmark's rounds: one
 * session measures both). Leak check: heap and RSS after round 5 vs after round 1 (round 1 warms the JIT,
 * caches and the outbox); growth beyond 5 MiB heap / 10 MiB RSS fails it. `--heap-snapshot` (env
 * BENCH_HEAP_SNAPSHOTS=dir) writes heap snapshots after login and after the last round.
 *
 * Standalone: node --import tsx bench/memory.ts
 */
import { fileURLToPath } from 'node:url';
import { benchInbound, log, type InboundHooks, type InboundResult } from './inbound.ts';
import type { Mem, OpenwxProc } from './lib/openwx-proc.ts';
import { mib } from './lib/stats.ts';

export interface MemPoint {
  at: string;
  /** Settled RSS after a full GC (bench/lib/probe.mjs `mem`). */
  rssMiB: number;
  /** RSS read right after the GC, before V8 handed the freed pages back. */
  rssAtGcMiB: number;
  /**
   * VmRSS at rest, without a forced GC (what `ps` shows): 20 s after the phase ended, after login and after the last
   * round. V8's memory reducer collects by itself ~10–15 s after the allocation rate drops; before that the process
   * still holds the phase's garbage (up to ~70 MiB more).
   */
  rssAtRestMiB?: number;
  heapUsedMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
}

export interface MemoryResult {
  /** Before the login: Node + tsx + openwx modules, API listening. */
  beforeLogin: MemPoint;
  afterLogin: MemPoint;
  rounds: MemPoint[];
  peakRssMiB: number;
  growth: { heapMiB: number; rssMiB: number };
  targets: { rss: boolean; noLeak: boolean };
}

/** Issue 6: RSS ≤ 150 MB after login and after the inbound run. */
export const RSS_LIMIT_BYTES = 150_000_000;

const point = (at: string, m: Mem): MemPoint => ({
  at,
  rssMiB: mib(m.rss),
  rssAtGcMiB: mib(m.rssAtGc),
  heapUsedMiB: mib(m.heapUsed),
  heapTotalMiB: mib(m.heapTotal),
  externalMiB: mib(m.external),
});

const REST_MS = 20_000;

/** VmRSS of the process REST_MS after a phase ended, without forcing a GC. */
async function restingRss(proc: OpenwxProc): Promise<number> {
  await new Promise((r) => setTimeout(r, REST_MS));
  return proc.procStatus().rss;
}

/** Hooks for benchInbound that sample memory; `result()` after the run. */
export function memoryProbe(fullRounds: number): { hooks: InboundHooks; result(): MemoryResult } {
  let afterLogin: MemPoint | null = null;
  let beforeLogin: MemPoint | null = null;
  const rounds: MemPoint[] = [];
  let peak = 0;
  return {
    hooks: {
      async afterLogin(s) {
        beforeLogin = point('before login', s.idleMem);
        const rest = await restingRss(s.proc);
        afterLogin = { ...point('after login', await s.proc.mem(true)), rssAtRestMiB: mib(rest) };
        peak = Math.max(peak, s.proc.procStatus().hwm);
        log(`memory after login: rss ${afterLogin.rssMiB} MiB (at the GC ${afterLogin.rssAtGcMiB}, at rest ${afterLogin.rssAtRestMiB}), heap ${afterLogin.heapUsedMiB} MiB`);
      },
      async afterFullRound(s, i) {
        const rest = i === fullRounds - 1 ? { rssAtRestMiB: mib(await restingRss(s.proc)) } : {};
        const p: MemPoint = { ...point(`after inbound round ${i + 1}`, await s.proc.mem(true)), ...rest };
        peak = Math.max(peak, s.proc.procStatus().hwm);
        rounds.push(p);
        log(`memory ${p.at}: rss ${p.rssMiB} MiB (at the GC ${p.rssAtGcMiB}, at rest ${p.rssAtRestMiB ?? '-'}), heap ${p.heapUsedMiB} MiB`);
      },
    },
    result() {
      const first = rounds[0]!;
      const last = rounds[rounds.length - 1]!;
      const growth = {
        heapMiB: Math.round((last.heapUsedMiB - first.heapUsedMiB) * 10) / 10,
        rssMiB: Math.round((last.rssMiB - first.rssMiB) * 10) / 10,
      };
      // settled after a forced GC, and at rest without one (login, last round): both must be within the target
      const maxRss = Math.max(...[afterLogin!, ...rounds].flatMap((p) => [p.rssMiB, p.rssAtRestMiB ?? 0]));
      // The target is 150 MB, i.e. 150,000,000 bytes = 143.05 MiB (not 150 MiB).
      return {
        beforeLogin: beforeLogin!,
        afterLogin: afterLogin!,
        rounds,
        peakRssMiB: mib(peak),
        growth,
        targets: { rss: maxRss * 1024 * 1024 <= RSS_LIMIT_BYTES, noLeak: growth.heapMiB <= 5 && growth.rssMiB <= 10 },
      };
    },
  };
}

export async function benchInboundAndMemory(o: { fullRounds?: number; steadyRounds?: number } = {}): Promise<{ inbound: InboundResult; memory: MemoryResult }> {
  const m = memoryProbe(o.fullRounds ?? 5);
  const inbound = await benchInbound({ fullRounds: o.fullRounds ?? 5, steadyRounds: o.steadyRounds ?? 3, hooks: m.hooks });
  return { inbound, memory: m.result() };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await benchInboundAndMemory({ steadyRounds: 0 });
  console.log(JSON.stringify(r.memory, null, 2));
  process.exit(0);
}
