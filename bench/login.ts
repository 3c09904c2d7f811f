/**
 * Benchmark 2, login to running: from the QR confirm (the runner confirms in the sandbox as soon as the openwx
 * process shows a QR) to the client's `running` state, with every contact and group member loaded
 * (webwxinit, webwxgetcontact pages, webwxbatchgetcontact for every group). Each run is a fresh openwx process
 * with an empty data folder (a QR login, no resume). The protocol calls are counted inside the openwx process
 * (undici diagnostics channel), and the contact book is checked through the API afterwards.
 *
 * Standalone: node --import tsx bench/login.ts [runs]
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { OpenwxProc } from './lib/openwx-proc.ts';
import { profileStart, profileStop } from './lib/profiler.ts';
import { median, round } from './lib/stats.ts';
import { bigSandbox, confirmWhenWaiting } from './lib/world.ts';
import { log } from './inbound.ts';

export interface LoginRun {
  ms: number;
  calls: Record<string, number>;
  totalCalls: number;
  friends: number;
  groups: number;
  members: number;
}

export interface LoginResult {
  runs: LoginRun[];
  medianMs: number;
  calls: Record<string, number>;
  expected: { groups: number; members: number };
  complete: boolean;
  target: boolean;
}

async function getJson(url: string): Promise<any> {
  const r = await request(url);
  return JSON.parse(await r.body.text());
}

export async function benchLogin(o: { runs?: number } = {}): Promise<LoginResult> {
  const runs = o.runs ?? 3;
  const prof = process.env['BENCH_PROF'];
  const sb = await bigSandbox({ longPollMs: 25_000 });
  const world = sb.handle.world();
  const expected = { groups: world.groups.length, members: world.groups.reduce((a, g) => a + g.members.length, 0) };
  const out: LoginRun[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const proc = await OpenwxProc.start({ origin: sb.url });
      try {
        if (prof && i === 0) await Promise.all([proc.profileStart(), profileStart()]);
        const confirmedAt = await confirmWhenWaiting(sb);
        const runningAt = await proc.waitState('running', 60_000);
        if (prof && i === 0) {
          await proc.profileStop(join(prof, 'login-openwx.cpuprofile'));
          await profileStop(join(prof, 'login-runner.cpuprofile'));
        }
        const calls: Record<string, number> = {};
        for (const c of await proc.calls(confirmedAt)) {
          if (c.t > runningAt) continue;
          const name = c.path.startsWith('/qrcode/') ? 'qrcode' : c.path.split('/').pop() || c.path;
          calls[name] = (calls[name] ?? 0) + 1;
        }
        const friends = (await getJson(`${proc.url}/openwx/get_friend_info`)) as unknown[];
        const groups = (await getJson(`${proc.url}/openwx/get_group_info`)) as { member?: unknown[] }[];
        const run: LoginRun = {
          ms: runningAt - confirmedAt,
          calls,
          totalCalls: Object.values(calls).reduce((a, b) => a + b, 0),
          friends: friends.length,
          groups: groups.length,
          members: groups.reduce((a, g) => a + (g.member?.length ?? 0), 0),
        };
        out.push(run);
        log(`login #${i + 1}: ${run.ms} ms, ${run.totalCalls} calls ${JSON.stringify(calls)}, ${run.friends} friends, ${run.groups} groups, ${run.members} members`);
      } finally {
        await proc.stop();
      }
    }
  } finally {
    await sb.close();
  }
  const medianMs = round(median(out.map((r) => r.ms)), 0);
  const complete = out.every((r) => r.groups === expected.groups && r.members >= expected.members - expected.groups);
  return { runs: out, medianMs, calls: out[out.length - 1]?.calls ?? {}, expected, complete, target: complete && medianMs <= 5000 };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await benchLogin({ runs: Number(process.argv[2] ?? 3) });
  console.log(JSON.stringify({ ...r, runs: r.runs.map((x) => x.ms) }, null, 2));
  process.exit(0);
}
