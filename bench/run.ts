/**
 * `npm run bench`: every benchmark of docs/benchmarks.md in one bounded run (≈ 9–12 minutes on 2 cores), a results
 * table on stdout and `bench/results.json`. Progress lines go to stderr. Options:
 *   --only login,inbound,api,upload,accounts,onebot   run a subset (results.json keeps the other sections, and the date,
 *                                     machine and commit at its top, of the last full run)
 *   --only onebot                     OneBot reverse WebSocket latency (bench/onebot.ts, ≈ 4–5 minutes)
 *   --only failover                   kill -9 of a cluster controller (bench/failover.ts, ≈ 3–6 minutes; only when
 *                                     named: not part of the full run); also --controllers N, --accounts N (per
 *                                     controller), --kills N, --rate N, --pre-kill-s S, --leases default,fast
 *   BENCH_PROF=<dir>                  also write CPU profiles of the measured phases (openwx and runner processes)
 */
import { execSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { benchAccounts } from './accounts.ts';
import { benchApi } from './api.ts';
import { benchFailover, failoverArgs } from './failover.ts';
import { log } from './inbound.ts';
import { benchLogin } from './login.ts';
import { benchInboundAndMemory } from './memory.ts';
import { benchOneBot, P99_REFERENCE_MS, type ModeResult } from './onebot.ts';
import { benchUpload } from './upload.ts';

const resultsFile = fileURLToPath(new URL('./results.json', import.meta.url));
const only = (() => {
  const i = process.argv.indexOf('--only');
  return i > 0 ? new Set(process.argv[i + 1]!.split(',')) : null;
})();
const want = (name: string) => !only || only.has(name);
// the failover options are checked before anything runs (a bad one: its message, exit 2)
const failoverOptions = (() => {
  try {
    return failoverArgs(process.argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
})();

function machine() {
  const sh = (c: string) => {
    try {
      return execSync(c, { encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  return {
    nproc: Number(sh('nproc')) || cpus().length,
    cpu: cpus()[0]?.model ?? '',
    memTotalGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    free: sh('free -h'),
    node: process.version,
    os: sh('uname -sr'),
  };
}

const t0 = Date.now();
const previous = existsSync(resultsFile) ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as Record<string, unknown>) : {};
// This run: date, machine, commit. A full run writes them at the top; a subset (--only) leaves the top (the last full
// run's) as it was and stamps the sections it measured that carry their own `run` (accounts).
const run: Record<string, any> = { date: new Date().toISOString(), machine: machine() };
try {
  run['commit'] = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
} catch {
  /* not a git checkout */
}
const results: Record<string, any> = { ...previous, ...(only ? {} : run) };

if (want('login')) {
  log('login to running (3 runs)…');
  results['login'] = await benchLogin({ runs: 3 });
}
if (want('inbound')) {
  log('inbound + memory (5 full-speed rounds with baselines, 3 steady rounds)…');
  const r = await benchInboundAndMemory({ fullRounds: 5, steadyRounds: 3 });
  results['inbound'] = r.inbound;
  results['memory'] = r.memory;
}
if (want('api')) {
  log('API (autocannon, 3 reps per route)…');
  results['api'] = await benchApi({ reps: 3 });
}
if (want('upload')) {
  log('upload 20 MiB (3 runs per variant)…');
  results['upload'] = await benchUpload({ runs: 3 });
}
if (want('accounts')) {
  log('accounts: 10 separate openwx processes, then 100 accounts in one openwx controller + 1,000 msg/s inbound (≈ 5 minutes)…');
  const t = Date.now();
  const r = await benchAccounts();
  results['accounts'] = { ...r, run: { date: run['date'], commit: run['commit'], durationS: Math.round((Date.now() - t) / 1000) } };
}
if (want('onebot')) {
  log('onebot: 100 accounts in one openwx controller, 1,000 msg/s inbound, over post_api, then OneBot 12 and OneBot 11 reverse WebSocket (≈ 4–5 minutes)…');
  const t = Date.now();
  const r = await benchOneBot();
  results['onebot'] = { ...r, run: { date: run['date'], commit: run['commit'], durationS: Math.round((Date.now() - t) / 1000) } };
}
// The failover benchmark runs only when named (--only failover): it needs PostgreSQL (embedded or
// OPENWX_TEST_DATABASE_URL) and ≈ 3–6 minutes.
if (only?.has('failover')) {
  log('failover: openwx controllers on one PostgreSQL, kill -9 of one during steady inbound, default and short leases (≈ 3–6 minutes with 3 × 30)…');
  const t = Date.now();
  const r = await benchFailover(failoverOptions);
  results['failover'] = { ...r, run: { date: run['date'], commit: run['commit'], durationS: Math.round((Date.now() - t) / 1000), machine: run['machine'] } };
}
run['durationS'] = Math.round((Date.now() - t0) / 1000);
if (!only) results['durationS'] = run['durationS'];
writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);

// ---- the table ---------------------------------------------------------------------------------------------
const rows: [string, string, string, string][] = [];
const ok = (b: boolean | undefined) => (b === undefined ? '' : b ? 'PASS' : 'FAIL');
const L = results['login'];
if (L) rows.push(['login → running (5000/500/200)', `${L.medianMs} ms, ${Object.values(L.calls as Record<string, number>).reduce((a, b) => a + b, 0)} calls`, '≤ 5000 ms, all loaded', ok(L.target)]);
const I = results['inbound'];
if (I) {
  const s = I.summary;
  rows.push(['inbound full speed (20k msgs)', `${s.msgPerSec} msg/s vs baseline ${s.baselineMsgPerSec} = ${s.ratio}`, '≥ 0.5 of baseline', ok(I.targets.ratio)]);
  rows.push(['inbound full speed latency', `p50 ${s.fullP50Ms} ms, p99 ${s.fullP99Ms} ms`, '(reported)', '']);
  rows.push(['inbound steady 1000 msg/s', `${s.steadyMsgPerSec} msg/s, p50 ${s.steadyP50Ms} ms, p99 ${s.steadyP99Ms} ms`, 'p99 ≤ 50 ms', ok(I.targets.steadyP99)]);
  rows.push(['inbound lost / duplicated', `${s.lost} / ${s.duplicates}`, 'zero lost', ok(I.targets.zeroLost)]);
}
const M = results['memory'];
if (M) {
  const last = M.rounds[M.rounds.length - 1];
  if (M.beforeLogin) rows.push(['memory before login (idle process)', `RSS ${M.beforeLogin.rssMiB} MiB, heap ${M.beforeLogin.heapUsedMiB} MiB`, '(reported)', '']);
  const maxRound = Math.max(...M.rounds.map((r: { rssMiB: number }) => r.rssMiB));
  rows.push(['memory after login', `RSS ${M.afterLogin.rssMiB} MiB (at rest without a forced GC ${M.afterLogin.rssAtRestMiB ?? '?'}; right after the GC ${M.afterLogin.rssAtGcMiB}), heap ${M.afterLogin.heapUsedMiB} MiB`, 'RSS ≤ 150 MB (143.05 MiB)', ok(M.afterLogin.rssMiB * 1048576 <= 150e6)]);
  rows.push([`memory after each of ${M.rounds.length} inbound rounds`, `RSS max ${maxRound} MiB, last ${last.rssMiB} MiB (last at rest without a forced GC ${last.rssAtRestMiB ?? '?'}), heap ${last.heapUsedMiB} MiB`, 'RSS ≤ 150 MB (143.05 MiB)', ok(M.targets.rss)]);
  rows.push(['memory growth round 1 → last', `heap ${M.growth.heapMiB} MiB, RSS ${M.growth.rssMiB} MiB`, 'no growth (≤ 5 / 10 MiB)', ok(M.targets.noLeak)]);
}
const A = results['api'];
if (A) {
  for (const r of A.routes) rows.push([`API ${r.route} (${r.bytes} B)`, `${r.reqPerSec} req/s vs ${r.baselineReqPerSec} = ${r.ratio}, p99 ${r.p99Ms} ms (baseline ${r.baselineP99Ms})`, '≥ 1/3 of baseline', ok(r.target)]);
  const far = A.sendFarEnd;
  if (far) rows.push(['  its far end alone: sandbox webwxsendmsg', `${far.reqPerSec} req/s = ${far.ceilingRatio} of the send baseline, p99 ${far.p99Ms} ms`, '(ceiling of send_friend_message)', '']);
}
const U = results['upload'];
if (U) {
  rows.push(['upload 20 MiB, upload path', `peak RSS +${U.uploadOnly.growthMiB} MiB, ${U.uploadOnly.ms} ms`, '≤ 30 MiB', ok(U.uploadOnly.growthMiB <= 30)]);
  rows.push(['upload 20 MiB, defaults + post_api (media_data)', `peak RSS +${U.withReport.growthMiB} MiB, ${U.withReport.ms} ms`, '≤ 30 MiB', ok(U.withReport.growthMiB <= 30)]);
  if (U.withSignedReport) rows.push(['upload 20 MiB, + signed post_api', `peak RSS +${U.withSignedReport.growthMiB} MiB, ${U.withSignedReport.ms} ms`, '≤ 30 MiB', ok(U.withSignedReport.growthMiB <= 30)]);
}
const C = results['accounts'];
if (C) {
  const c = C.controller;
  const sep = C.separate;
  rows.push([
    `accounts: ${C.accounts} in one controller (${C.worldSize})`,
    `RSS ${c.loaded.settledMiB} MiB settled, ${c.loaded.atRestMiB} MiB at rest (after the traffic ${c.afterInbound.settledMiB} / ${c.afterInbound.atRestMiB}); no account ${c.idle.settledMiB} / ${c.idle.atRestMiB}; per added account ${c.perAccount.settledMiB} / ${c.perAccount.atRestMiB} MiB`,
    '(reported)',
    '',
  ]);
  rows.push([
    `accounts: ${C.accounts} separate openwx (${sep.processes} measured × ${C.accounts / sep.processes})`,
    `RSS ${sep.scaled.settledMiB} MiB settled, ${sep.scaled.atRestMiB} MiB at rest; controller ÷ separate = ${c.ratio.settled} / ${c.ratio.atRest}${c.ratio.anon !== undefined ? ` (anonymous memory only: ${c.ratio.anon})` : ''}`,
    '≤ 1/5 (0.2)',
    ok(C.targets.rss),
  ]);
  rows.push([`accounts: time until all running`, `controller ${c.running}/${C.accounts} in ${(c.runningMs / 1000).toFixed(1)} s (start_client → running); ${sep.processes} separate in ${(sep.runningMs / 1000).toFixed(1)} s (spawn → running)`, '(reported)', '']);
  const ib = C.inbound;
  rows.push([`accounts: inbound ${ib.totalRate} msg/s (${ib.ratePerAccount}/s × ${c.running})`, `${ib.msgPerSec} msg/s injected, p50 ${ib.p50Ms} ms, p99 ${ib.p99Ms} ms (control call p99 ${ib.controlP99Ms} ms; CPU % controller ${ib.cpuPct.controller}, sandbox ${ib.cpuPct.sandbox}, runner ${ib.cpuPct.runner})`, 'p99 ≤ 100 ms', ok(C.targets.p99)]);
  rows.push(['accounts: inbound lost / duplicated / misrouted', `${ib.lost} / ${ib.duplicates} / ${ib.misrouted} of ${ib.injected} (control call failures ${Object.values(ib.injectFailures as Record<string, number>).reduce((a, b) => a + b, 0)})`, 'zero lost', ok(C.targets.zeroLost)]);
}
const O = results['onebot'];
if (O) {
  const byMode = O.modes as Record<string, ModeResult>;
  for (const [mode, label] of [['post_api', 'post_api (reference)'], ['v12', 'OneBot 12 reverse WS'], ['v11', 'OneBot 11 reverse WS']] as const) {
    const m = byMode[mode];
    if (!m) continue;
    const cost = O.costVsPostApi[mode] as { p50: number; p99: number } | undefined;
    rows.push([
      `onebot: ${label}, ${m.totalRate} msg/s (${O.ratePerAccount}/s × ${m.running})`,
      `${m.msgPerSec} msg/s, p50 ${m.p50Ms} ms, p99 ${m.p99Ms} ms${cost ? ` (× post_api: p50 ${cost.p50}, p99 ${cost.p99})` : ''}; CPU % controller ${m.cpuPct.controller}; load ${m.load.before}`,
      mode === 'post_api' ? '(reported)' : `p99 ≤ ${P99_REFERENCE_MS} ms (accounts' bound)`,
      mode === 'post_api' ? '' : ok(m.p99Ms <= P99_REFERENCE_MS),
    ]);
  }
  const counts = Object.values(byMode).map((m) => `${m.mode} ${m.lost} / ${m.duplicates} / ${m.misrouted}`).join(', ');
  rows.push(['onebot: lost / duplicated / misrouted', counts, 'zero lost', ok(O.targets.zeroLost)]);
}
const F = results['failover'];
if (F) {
  for (const r of F.runs) {
    rows.push([
      `failover: kill -9 of 1 of ${F.controllers} controllers × ${F.accountsPerController}, lease ${r.leaseTtlMs} ms`,
      `p50 ${(r.failoverP50Ms / 1000).toFixed(1)} s, max ${(r.failoverMaxMs / 1000).toFixed(1)} s over ${r.kills.length} kills (${r.kills.map((k: { moved: number; failoverMs: number }) => `${k.moved} in ${(k.failoverMs / 1000).toFixed(1)} s`).join(', ')}); new sessions ${r.kills.reduce((a: number, k: { newSessions: number }) => a + k.newSessions, 0)}`,
      '≤ 30 s, no scan',
      ok(r.failoverMaxMs <= 30_000 && r.kills.every((k: { newSessions: number; qrCodes: number }) => k.newSessions === 0 && k.qrCodes === 0)),
    ]);
    const tr = r.traffic;
    rows.push([
      `failover: lost / duplicated, lease ${r.leaseTtlMs} ms`,
      `post_api ${tr.postApi.lost} / ${tr.postApi.duplicates} (misrouted ${tr.postApi.misrouted}), openwx_events ${tr.events.lost} / ${tr.events.duplicates} of ${tr.injected}`,
      'zero lost',
      ok(tr.postApi.lost === 0 && tr.events.lost === 0 && tr.postApi.misrouted === 0),
    ]);
  }
}
const w = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length), 6));
const line = (r: string[]) => r.map((c, i) => c.padEnd(w[i]!)).join(' | ');
const m = run['machine'];
console.log(`openwx benchmarks — ${run['date']} — ${m.nproc} cores ${m.cpu}, ${m.memTotalGiB} GiB, Node ${m.node}, ${run['durationS']} s${only ? ` (--only ${[...only].join(',')}; the other rows: ${results['date'] ?? '?'})` : ''}`);
console.log(line(['benchmark', 'result (medians)', 'target', '']));
console.log(w.map((n) => '-'.repeat(n)).join('-|-'));
for (const r of rows) console.log(line(r));
console.log(`\nwritten: ${resultsFile}`);
process.exit(0);
