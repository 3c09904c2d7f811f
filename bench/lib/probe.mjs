/**
 * Loaded with `--import` into the measured openwx process (bench/lib/openwx-main.mjs). Plain JavaScript, so the
 * measured process loads no TypeScript loader (it runs the compiled dist/, as users do). Answers the bench runner
 * over the IPC channel: memory (after an optional full GC, needs --expose-gc), the protocol calls made so far
 * (undici's `undici:request:create` diagnostics channel: every WeChat request, by endpoint), and a peak-RSS
 * sampler for a window (upload benchmark). Nothing here touches openwx itself.
 */
import { subscribe } from 'node:diagnostics_channel';
import { writeHeapSnapshot } from 'node:v8';
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';

// In-process CPU profiling (a phase at a time); the same as ./profiler.ts, which the runner uses.
/** @type {Session | null} */
let session = null;
async function profileStart() {
  session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
}
async function profileStop(file) {
  if (!session) throw new Error('profiler not started');
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(file, JSON.stringify(profile));
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

let peak = 0;
/** @type {NodeJS.Timeout | null} */
let sampler = null;

function mem(gc) {
  const g = globalThis.gc;
  if (gc && g) {
    g();
    g();
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers };
}

process.on('message', async (raw) => {
  const msg = raw;
  if (!msg || typeof msg !== 'object' || typeof msg.op !== 'string' || !msg.op.startsWith('probe:')) return;
  let result;
  switch (msg.op) {
    case 'probe:mem':
      result = mem(Boolean(msg.arg));
      break;
    case 'probe:calls':
      result = (calls ?? []).filter((c) => c.t >= Number(msg.arg ?? 0));
      calls = null;
      break;
    case 'probe:peak-start':
      peak = process.memoryUsage.rss();
      if (sampler) clearInterval(sampler);
      sampler = setInterval(() => {
        const r = process.memoryUsage.rss();
        if (r > peak) peak = r;
      }, 2);
      result = peak;
      break;
    case 'probe:peak-stop':
      if (sampler) clearInterval(sampler);
      sampler = null;
      result = Math.max(peak, process.memoryUsage.rss());
      break;
    case 'probe:heap-snapshot':
      mem(true);
      result = writeHeapSnapshot(String(msg.arg));
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
