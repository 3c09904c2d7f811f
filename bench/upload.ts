/**
 * Benchmark 5, upload: send_friend_message with a local 20 MiB file (media_path inside the media folder) from
 * the openwx process to the sandbox (chunked webwxuploadmedia, then webwxsendappmsg). Peak RSS growth of the
 * openwx process during the send: RSS after a full GC right before, and the peak over the send (sampled every
 * 2 ms inside the process, and the kernel's VmHWM after resetting it through /proc/<pid>/clear_refs when
 * allowed). Median of `runs`. Variants: the upload path alone (`post_media_data` off, no post_api); the defaults
 * with a post_api receiver, so the send_message report carries the file as base64 `media_data` (streamed from the
 * file into the POST body) and the window lasts until the receiver has the whole report; the same with a signing
 * secret (the file is read twice: once for the HMAC).
 *
 * Standalone: node --import tsx bench/upload.ts [runs]
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { OpenwxProc } from './lib/openwx-proc.ts';
import { median, mib, round, MiB } from './lib/stats.ts';
import { bigSandbox, confirmWhenWaiting } from './lib/world.ts';
import { log } from './inbound.ts';

export interface UploadRun {
  ms: number;
  growthMiB: number;
  hwmGrowthMiB: number | null;
  code: number;
}

export interface UploadVariant {
  /** What the openwx process ran with. */
  settings: Record<string, unknown>;
  runs: UploadRun[];
  growthMiB: number;
  ms: number;
}

export interface UploadResult {
  sizeMiB: number;
  /** post_media_data off, no post_api: the upload path alone. */
  uploadOnly: UploadVariant;
  /** Default settings and a post_api receiver: the send_message report carries the file as base64 media_data. */
  withReport: UploadVariant;
  /** The same with `post_api_secret`: the report is signed (its body streamed twice). */
  withSignedReport: UploadVariant;
  target: boolean;
}

function resetHwm(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A post_api receiver that answers 200 and resolves `next(minBytes)` when a report of at least that size arrived. */
async function mediaReceiver() {
  let waiter: { min: number; resolve: (n: number) => void } | null = null;
  const server = createServer((req, res) => {
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' }).end('ok');
      if (waiter && n >= waiter.min) {
        waiter.resolve(n);
        waiter = null;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/post_api`,
    next: (min: number) => new Promise<number>((resolve) => (waiter = { min, resolve })),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

async function variant(settings: Record<string, unknown>, runs: number, size: number, withReceiver: boolean): Promise<UploadVariant> {
  const sb = await bigSandbox({ longPollMs: 25_000 });
  const rx = withReceiver ? await mediaReceiver() : null;
  const proc = await OpenwxProc.start({ origin: sb.url, settings, client: { sendIntervalMs: 0 }, ...(rx ? { postApi: rx.url } : {}) });
  const out: UploadRun[] = [];
  try {
    await confirmWhenWaiting(sb);
    await proc.waitState('running', 60_000);
    const friends = JSON.parse(await (await request(`${proc.url}/openwx/get_friend_info`)).body.text()) as { id: string; category: string; displayname: string }[];
    const f = friends.filter((x) => x.category === '好友' && x.displayname !== 'echo')[10]!;
    const dir = join(proc.dataDir, 'media');
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < runs; i++) {
      const file = join(dir, `bench-upload-${i}.bin`);
      writeFileSync(file, randomBytes(size));
      const before = await proc.mem(true);
      const hwm = resetHwm(proc.pid);
      await proc.peakStart();
      // the send_message report with the file as base64 (4/3 of it) reaches the receiver after the send's answer
      const report = rx?.next(Math.floor((size * 4) / 3));
      const t0 = performance.now();
      const res = await request(`${proc.url}/openwx/send_friend_message?id=${encodeURIComponent(f.id)}&media_path=${encodeURIComponent(file)}`);
      const answer = JSON.parse(await res.body.text()) as { code: number; status: string };
      const ms = performance.now() - t0;
      if (report) {
        const bytes = await report;
        log(`upload: send_message report delivered, ${mib(bytes)} MiB, ${round(performance.now() - t0, 0)} ms after the request`);
      }
      // and whatever follows it (the check_event copy, the history record): include it in the peak
      await sleep(1_000);
      const peak = await proc.peakStop();
      const at = await proc.peakDetail();
      const st = proc.procStatus();
      const run: UploadRun = {
        ms: round(ms, 0),
        growthMiB: mib(peak - before.rss),
        hwmGrowthMiB: hwm ? mib(st.hwm - before.rss) : null,
        code: answer.code,
      };
      if (answer.code !== 0) log(`upload #${i + 1} failed: ${JSON.stringify(answer)}`);
      out.push(run);
      const held = at ? `; at the peak: heap ${mib(at.heapUsed - before.heapUsed)} MiB, array buffers ${mib(at.arrayBuffers - before.arrayBuffers)} MiB more than before` : '';
      log(`upload ${JSON.stringify(settings)} #${i + 1}: ${run.ms} ms, peak RSS growth ${run.growthMiB} MiB (VmHWM ${run.hwmGrowthMiB ?? 'n/a'} MiB), code ${run.code}${held}`);
    }
  } finally {
    await proc.stop();
    await rx?.close();
    await sb.close();
  }
  if (out.some((r) => r.code !== 0)) throw new Error('upload failed');
  return {
    settings,
    runs: out,
    growthMiB: round(median(out.map((r) => Math.max(r.growthMiB, r.hwmGrowthMiB ?? 0))), 1),
    ms: round(median(out.map((r) => r.ms)), 0),
  };
}

export async function benchUpload(o: { runs?: number; sizeBytes?: number } = {}): Promise<UploadResult> {
  const runs = o.runs ?? 3;
  const size = o.sizeBytes ?? 20 * MiB;
  const uploadOnly = await variant({ post_media_data: false }, runs, size, false);
  const withReport = await variant({}, runs, size, true);
  const withSignedReport = await variant({ post_api_secret: 'bench-upload-secret' }, runs, size, true);
  const target = [uploadOnly, withReport, withSignedReport].every((v) => v.growthMiB <= 30);
  return { sizeMiB: mib(size), uploadOnly, withReport, withSignedReport, target };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await benchUpload({ runs: Number(process.argv[2] ?? 3) });
  console.log(JSON.stringify(r, null, 2));
  process.exit(0);
}
