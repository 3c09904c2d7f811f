/**
 * Benchmark 4, API: autocannon (10 connections, loopback, bounded duration) against the openwx process logged
 * in to the big world: get_friend_info (all 5,000 friends), search_friend by displayname, get_group_basic_info
 * (500 groups) and send_friend_message (text, send spacing and token bucket off, so the sandbox's
 * webwxsendmsg is the far end). Baseline in the same run: a bare fastify route (own process) returning a
 * constant JSON of the same size as that openwx answer; runs alternate openwx / baseline, median of `reps`.
 *
 * Standalone: node --import tsx bench/api.ts [reps]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { request } from 'undici';
import { OpenwxProc } from './lib/openwx-proc.ts';
import { profileStart, profileStop } from './lib/profiler.ts';
import { median, round } from './lib/stats.ts';
import { bigSandbox, confirmWhenWaiting } from './lib/world.ts';
import type { Sandbox } from '../src/sandbox/index.ts';
import { Path } from '../src/wire/paths.ts';
import { WxTestClient } from '../test/helpers/wx-test-client.ts';
import { log } from './inbound.ts';

const here = fileURLToPath(new URL('.', import.meta.url));

export interface ApiRouteResult {
  route: string;
  path: string;
  bytes: number;
  reqPerSec: number;
  p99Ms: number;
  baselineReqPerSec: number;
  baselineP99Ms: number;
  ratio: number;
  errors: number;
  target: boolean;
  runs: { reqPerSec: number; p99Ms: number; baselineReqPerSec: number; baselineP99Ms: number }[];
}

export interface ApiResult {
  connections: number;
  durationS: number;
  routes: ApiRouteResult[];
  /**
   * The far end of send_friend_message alone: autocannon straight at the sandbox's webwxsendmsg (same process, same
   * connections, same text), logged in by a protocol-only test client after openwx is stopped. Every openwx send
   * needs one such call, so this bounds send_friend_message; `ceilingRatio` = it ÷ the send route's baseline.
   */
  sendFarEnd?: { reqPerSec: number; p99Ms: number; errors: number; ceilingRatio: number; runs: number[] };
}

async function fetchText(url: string): Promise<string> {
  const r = await request(url);
  const t = await r.body.text();
  if (r.statusCode !== 200) throw new Error(`${url}: HTTP ${r.statusCode} ${t.slice(0, 200)}`);
  return t;
}

async function cannon(url: string, durationS: number, connections: number) {
  const r = await autocannon({ url, connections, duration: durationS, pipelining: 1 });
  return { reqPerSec: r.requests.average, p99Ms: r.latency.p99, errors: r.errors + r.timeouts + r.non2xx };
}

export async function benchApi(o: { reps?: number; durationS?: number; connections?: number } = {}): Promise<ApiResult> {
  const reps = o.reps ?? 3;
  const durationS = o.durationS ?? 3;
  const connections = o.connections ?? 10;
  const prof = process.env['BENCH_PROF'];
  const sb = await bigSandbox({ longPollMs: 25_000 });
  const proc = await OpenwxProc.start({
    origin: sb.url,
    client: { sendIntervalMs: 0, sendBurst: 1_000_000, sendRefillMs: 1 },
  });
  let baseline: ChildProcess | null = null;
  const dir = mkdtempSync(join(tmpdir(), 'owx-bench-api-'));
  try {
    await confirmWhenWaiting(sb);
    await proc.waitState('running', 60_000);
    const friends = JSON.parse(await fetchText(`${proc.url}/openwx/get_friend_info`)) as { id: string; displayname: string; category?: string }[];
    // An ordinary friend in the middle of the list (the generated world's first two friends echo / stay silent).
    const plain = friends.filter((x) => x.category === '好友' && x.displayname && x.displayname !== 'echo');
    const f = plain[Math.floor(plain.length / 2)]!;
    const routes = [
      { route: 'get_friend_info', path: '/openwx/get_friend_info' },
      { route: 'search_friend', path: `/openwx/search_friend?displayname=${encodeURIComponent(f.displayname)}` },
      { route: 'get_group_basic_info', path: '/openwx/get_group_basic_info' },
      { route: 'send_friend_message', path: `/openwx/send_friend_message?id=${encodeURIComponent(f.id)}&content=${encodeURIComponent('bench 你好')}` },
    ];
    // The baseline answers: constant JSON of the same size as each openwx answer.
    const samples: Record<string, string> = {};
    for (const [i, r] of routes.entries()) samples[`/r${i}`] = await fetchText(`${proc.url}${r.path}`);
    const file = join(dir, 'bodies.json');
    writeFileSync(file, JSON.stringify(samples));
    baseline = fork(join(here, 'lib/const-server.ts'), [file], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const baseUrl = await new Promise<string>((resolve, reject) => {
      baseline!.once('message', (m: any) => resolve(String(m.url)));
      baseline!.once('exit', (c) => reject(new Error(`baseline server exited ${c}`)));
    });
    const out: ApiRouteResult[] = [];
    for (const [i, r] of routes.entries()) {
      // warm both up (JIT, connections)
      await cannon(`${proc.url}${r.path}`, 1, connections);
      await cannon(`${baseUrl}/r${i}`, 1, connections);
      const runs: ApiRouteResult['runs'] = [];
      let errors = 0;
      for (let k = 0; k < reps; k++) {
        if (prof && k === 0) await proc.profileStart();
        const a = await cannon(`${proc.url}${r.path}`, durationS, connections);
        if (prof && k === 0) await proc.profileStop(join(prof, `api-${r.route}-openwx.cpuprofile`));
        const b = await cannon(`${baseUrl}/r${i}`, durationS, connections);
        errors += a.errors;
        runs.push({ reqPerSec: a.reqPerSec, p99Ms: a.p99Ms, baselineReqPerSec: b.reqPerSec, baselineP99Ms: b.p99Ms });
      }
      const ratio = round(median(runs.map((x) => x.reqPerSec / x.baselineReqPerSec)), 3);
      const res: ApiRouteResult = {
        route: r.route,
        path: r.path.replace(/\?.*/, '?…'),
        bytes: Buffer.byteLength(samples[`/r${i}`]!),
        reqPerSec: round(median(runs.map((x) => x.reqPerSec)), 0),
        p99Ms: round(median(runs.map((x) => x.p99Ms)), 1),
        baselineReqPerSec: round(median(runs.map((x) => x.baselineReqPerSec)), 0),
        baselineP99Ms: round(median(runs.map((x) => x.baselineP99Ms)), 1),
        ratio,
        errors,
        target: ratio >= 1 / 3 && errors === 0,
        runs,
      };
      out.push(res);
      log(`api ${r.route}: ${res.reqPerSec} req/s (baseline ${res.baselineReqPerSec}), ratio ${ratio}, p99 ${res.p99Ms} ms, ${res.bytes} B, errors ${errors}`);
    }
    await proc.stop();
    const send = out.find((r) => r.route === 'send_friend_message')!;
    const farEnd = await sandboxSendCeiling(sb, f.displayname, durationS, connections, reps);
    const sendFarEnd = { ...farEnd, ceilingRatio: round(farEnd.reqPerSec / send.baselineReqPerSec, 3) };
    log(`api send far end (sandbox webwxsendmsg alone): ${farEnd.reqPerSec} req/s, p99 ${farEnd.p99Ms} ms = ${sendFarEnd.ceilingRatio} of the send baseline`);
    return { connections, durationS, routes: out, sendFarEnd };
  } finally {
    baseline?.kill('SIGTERM');
    await proc.stop();
    await sb.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** autocannon at the sandbox's webwxsendmsg, as a logged-in web client sends it (one text to the same friend). */
async function sandboxSendCeiling(sb: Sandbox, toName: string, durationS: number, connections: number, reps: number) {
  const c = new WxTestClient(sb.url);
  await c.login(() => confirmWhenWaiting(sb));
  // The same friend openwx sent to (its nickname may carry emoji markup on the wire), else an ordinary friend from the
  // middle of the list: the far end's cost does not depend on which ordinary friend.
  type Raw = { UserName: string; NickName?: string; VerifyFlag?: number };
  const people = ((await c.allContacts()) as Raw[]).filter((x) => x.UserName.startsWith('@') && !x.UserName.startsWith('@@') && !x.VerifyFlag);
  const to = (people.find((x) => x.NickName === toName) ?? people[Math.floor(people.length / 2)])?.UserName;
  if (!to) throw new Error('send ceiling: no ordinary friend in the contact list');
  const cookie = await c.jar.getCookieString(`${sb.url}/`);
  const url = `${sb.url}${Path.sendMsg}?lang=zh_CN&pass_ticket=${c.passTicket}`;
  let n = 0;
  const body = () => {
    const id = `${Date.now()}${String(++n).padStart(4, '0')}`;
    return JSON.stringify({ BaseRequest: c.baseRequest(), Msg: { Type: 1, Content: 'bench 你好', FromUserName: c.selfName, ToUserName: to, LocalID: id, ClientMsgId: id }, Scene: 0 });
  };
  const once = (d: number) =>
    autocannon({
      url, connections, duration: d, pipelining: 1, method: 'POST',
      headers: { cookie, 'content-type': 'application/json;charset=UTF-8' },
      requests: [{ setupRequest: (r: Record<string, unknown>) => ({ ...r, body: body() }) }],
    } as never);
  await once(1);
  const runs: { reqPerSec: number; p99Ms: number; errors: number }[] = [];
  for (let k = 0; k < reps; k++) {
    const r = await once(durationS);
    runs.push({ reqPerSec: r.requests.average, p99Ms: r.latency.p99, errors: r.errors + r.timeouts + r.non2xx });
  }
  return {
    reqPerSec: round(median(runs.map((x) => x.reqPerSec)), 0),
    p99Ms: round(median(runs.map((x) => x.p99Ms)), 1),
    errors: runs.reduce((a, x) => a + x.errors, 0),
    runs: runs.map((x) => round(x.reqPerSec, 0)),
  };
}

void profileStart;
void profileStop;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await benchApi({ reps: Number(process.argv[2] ?? 3) });
  console.log(JSON.stringify(r.routes.map(({ runs: _r, ...x }) => x), null, 2));
  process.exit(0);
}
