/**
 * Loaded with `--import` into the measured openwx process (bench/lib/openwx-main.ts). Answers the bench runner
 * over the IPC channel: memory (after an optional full GC, needs --expose-gc), the protocol calls made so far
 * (undici's `undici:request:create` diagnostics channel: every WeChat request, by endpoint), and a peak-RSS
 * sampler for a window (upload benchmark). Nothing here touches openwx itself.
 */
import { subscribe } from 'node:diagnostics_channel';
import { writeHeapSnapshot } from 'node:v8';
import { profileStart, profileStop } from './profiler.ts';

type Msg = { id: number; op: string; arg?: unknown };

// Recorded from the start until the first `probe:calls` (the login's calls); never afterwards, so the probe
// itself holds nothing per message during the inbound rounds (an earlier version did: it showed as a "leak").
let calls: { t: number; method: string; path: string }[] | null = [];
subscribe('undici:request:create', (m) => {
  if (!calls) return;
  const r = (m as { request: { method: string; path: string } }).request;
  calls.push({ t: Date.now(), method: r.method, path: r.path.split('?')[0]! });
});

let peak = 0;
let sampler: NodeJS.Timeout | null = null;

function mem(gc: boolean) {
  const g = (globalThis as { gc?: () => void }).gc;
  if (gc && g) {
    g();
    g();
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers };
}

process.on('message', async (raw) => {
  const msg = raw as Msg;
  if (!msg || typeof msg !== 'object' || typeof msg.op !== 'string' || !msg.op.startsWith('probe:')) return;
  let result: unknown;
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
