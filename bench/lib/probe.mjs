/**
 * Loaded with `--import` into the measured openwx process (bench/lib/openwx-main.mjs). Plain JavaScript, so the
 * measured process loads no TypeScript loader (it runs the compiled dist/, as users do). Answers the bench runner
 * over the IPC channel: memory (after an optional full GC, needs --expose-gc), the protocol calls made so far
 * (undici's `undici:request:create` diagnostics channel: every WeChat request, by endpoint), and a peak-RSS
 * sampler for a window (upload benchmark). Nothing here touches openwx itself.
 */
import { subscribe } from 'node:diagnostics_channel';
import { getHeapSpaceStatistics } from 'node:v8';
import { monitorEventLoopDelay, PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import { Session } from 'node:inspector/promises';
import { readFileSync, writeFileSync } from 'node:fs';

// In-process CPU profiling (a phase at a time); the same as ./profiler.ts, which the runner uses.
/** @type {Session | null} */
let session = null;
/** GC pauses by kind (PerformanceObserver 'gc' entries) while a profile runs: written next to it as .gc.json. */
/** @type {Record<string, { count: number; ms: number }>} */
let gcStats = {};
const GC_KINDS = { [perfConstants.NODE_PERFORMANCE_GC_MINOR]: 'minor (scavenge)', [perfConstants.NODE_PERFORMANCE_GC_MAJOR]: 'major (mark-compact)', [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental marking', [perfConstants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak callbacks' };
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = GC_KINDS[/** @type {any} */ (e).detail?.kind] ?? 'other';
    const s = (gcStats[kind] ??= { count: 0, ms: 0 });
    s.count++;
    s.ms += e.duration;
  }
});
/** The inspector session of heap snapshots: enabled once, so an object keeps its id from one snapshot to the next. */
/** @type {Session | null} */
let snapSession = null;
/**
 * A heap snapshot written to `file`. Through one inspector session whose HeapProfiler stays enabled: the objects keep
 * their ids across snapshots (v8.writeHeapSnapshot numbers them afresh each time), so what a later snapshot still
 * holds of the objects made between two earlier ones can be told (bench/lib/snapshot-lifetimes.mjs).
 */
async function heapSnapshot(file) {
  if (!snapSession) {
    snapSession = new Session();
    snapSession.connect();
    await snapSession.post('HeapProfiler.enable');
  }
  const chunks = [];
  const onChunk = (m) => chunks.push(m.params.chunk);
  snapSession.on('HeapProfiler.addHeapSnapshotChunk', onChunk);
  try {
    await snapSession.post('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  } finally {
    snapSession.off('HeapProfiler.addHeapSnapshotChunk', onChunk);
  }
  writeFileSync(file, chunks.join(''));
  return file;
}

async function profileStart() {
  gcStats = {};
  gcObserver.observe({ entryTypes: ['gc'] });
  session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  // BENCH_HEAP_PROF=1: also V8's sampling heap profiler (allocation sites, collected objects included), written next
  // to the CPU profile as .heapprofile. BENCH_HEAP_PROF=promoted: only what the young generation's collections did not
  // free (promoted to the old generation, where only a mark-compact frees it), alive or not. BENCH_HEAP_PROF=retained:
  // what is alive after a full GC at the end (.retained.heapprofile).
  if (process.env.BENCH_HEAP_PROF) {
    const mode = process.env.BENCH_HEAP_PROF;
    await session.post('HeapProfiler.enable');
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 16384,
      includeObjectsCollectedByMajorGC: mode !== 'retained',
      includeObjectsCollectedByMinorGC: mode !== 'retained' && mode !== 'promoted',
    });
  }
}
async function profileStop(file) {
  if (!session) throw new Error('profiler not started');
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(file, JSON.stringify(profile));
  gcObserver.disconnect();
  const base = file.replace(/\.cpuprofile$/, '');
  writeFileSync(base + '.gc.json', JSON.stringify(gcStats, null, 1));
  if (process.env.BENCH_HEAP_PROF === 'retained') {
    await session.post('HeapProfiler.collectGarbage');
    const heap = await session.post('HeapProfiler.stopSampling');
    writeFileSync(base + '.retained.heapprofile', JSON.stringify(heap.profile));
  } else if (process.env.BENCH_HEAP_PROF) {
    const heap = await session.post('HeapProfiler.stopSampling');
    writeFileSync(base + '.heapprofile', JSON.stringify(heap.profile));
  }
  session.disconnect();
  session = null;
  return file;
}

// Recorded from the start until the first `probe:calls` (the login's calls); never afterwards, so the probe
// itself holds nothing per message during the inbound rounds (an earlier version did: it showed as a "leak").
/** @type {{ t: number; method: string; path: string }[] | null} */
let calls = [];
subscribe('undici:request:create', (m) => {
  if (!calls) return;
  const r = m.request;
  calls.push({ t: Date.now(), method: r.method, path: r.path.split('?')[0] });
});

/** @type {import('node:perf_hooks').IntervalHistogram | null} */
let eld = null;

let peak = 0;
/** @type {Record<string, number> | null} */
let peakDetail = null;
/** @type {NodeJS.Timeout | null} */
let sampler = null;

/** Resident bytes by mapping name (binary/library file name, [heap] for malloc's main arena, [anon] for the rest). */
function smapsRss() {
  /** @type {Record<string, number>} */
  const by = {};
  let name = '';
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      name = head[1] ? head[1].replace(/.*\//, '') : '[anon]';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) by[name] = (by[name] ?? 0) + Number(rss[1]) * 1024;
  }
  return by;
}

/**
 * memoryUsage() after an optional full GC. With `gc`, the RSS is read once the process has settled: V8 hands the
 * pages a GC freed back to the kernel from background threads shortly after the GC, so a read right after it counts
 * up to ~25 MiB that is already free (docs/benchmarks.md, memory). It polls every 50 ms until two reads agree (at
 * most 1 s); `rssAtGc` is the read right after the GC.
 */
async function mem(gc) {
  const g = globalThis.gc;
  if (!gc || !g) {
    const m = process.memoryUsage();
    return { rss: m.rss, rssAtGc: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers };
  }
  g();
  g();
  const m = process.memoryUsage();
  let rss = m.rss;
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const now = process.memoryUsage.rss();
    if (now === rss) break;
    rss = now;
  }
  return { rss, rssAtGc: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers };
}

process.on('message', async (raw) => {
  const msg = raw;
  if (!msg || typeof msg !== 'object' || typeof msg.op !== 'string' || !msg.op.startsWith('probe:')) return;
  let result;
  switch (msg.op) {
    case 'probe:mem':
      result = await mem(Boolean(msg.arg));
      break;
    case 'probe:calls':
      result = (calls ?? []).filter((c) => c.t >= Number(msg.arg ?? 0));
      calls = null;
      break;
    case 'probe:peak-start':
      peak = process.memoryUsage.rss();
      if (sampler) clearInterval(sampler);
      peakDetail = null;
      sampler = setInterval(() => {
        const r = process.memoryUsage.rss();
        if (r > peak) {
          peak = r;
          // what the process held at its highest point (V8 heap, buffers outside it)
          const m = process.memoryUsage();
          peakDetail = { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers };
        }
      }, 2);
      result = peak;
      break;
    case 'probe:peak-stop':
      if (sampler) clearInterval(sampler);
      sampler = null;
      result = Math.max(peak, process.memoryUsage.rss());
      break;
    case 'probe:peak-detail':
      result = peakDetail;
      break;
    case 'probe:spaces':
      // V8's heap by space (committed/used bytes) and the process's resident memory by mapping (/proc/self/smaps)
      result = { spaces: getHeapSpaceStatistics().map((x) => ({ space: x.space_name, size: x.space_size, used: x.space_used_size, committed: x.physical_space_size })), maps: smapsRss() };
      break;
    case 'probe:heap-snapshot':
      await mem(true);
      result = await heapSnapshot(String(msg.arg));
      break;
    case 'probe:eld-start':
      // event-loop delay of the process over a window (perf_hooks histogram, 10 ms resolution)
      eld?.disable();
      eld = monitorEventLoopDelay({ resolution: 10 });
      eld.enable();
      result = true;
      break;
    case 'probe:eld-stop':
      if (!eld) {
        result = null;
        break;
      }
      eld.disable();
      {
        // the histogram records each 10 ms timer's whole interval: the delay is what exceeds the resolution
        const ms = (ns) => Math.max(0, ns / 1e6 - 10);
        result = { p50Ms: ms(eld.percentile(50)), p99Ms: ms(eld.percentile(99)), maxMs: ms(eld.max), meanMs: ms(eld.mean) };
      }
      eld = null;
      break;
    case 'probe:prof-start':
      await profileStart();
      result = true;
      break;
    case 'probe:prof-stop':
      result = await profileStop(String(msg.arg));
      break;
    default:
      result = { error: `unknown op ${msg.op}` };
  }
  process.send?.({ id: msg.id, result });
});
