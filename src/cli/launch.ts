/**
 * V8's heap settings per command. They are fixed when the process starts, and one entry point (bin/openwx.js's
 * shebang, `npm start`) serves every command, so `openwx controller` starts its own process with the settings it
 * needs and stays beside it as a launcher (docs/decisions.md, "The controller's young generation"):
 * - `openwx` (one account) runs with the shebang's `--max-semi-space-size=4`: a young generation of 2 × 4 MiB keeps
 *   one account's RSS low (docs/benchmarks.md, "Memory").
 * - `openwx controller` (many accounts) needs 2 × 32 MiB. At 1,000 msg/s with 4 MiB semi-spaces a scavenge ran every
 *   ~40 ms, so every object that lives through a WeChat round trip (a synccheck long poll, a webwxsync, a report
 *   waiting for its commit and POST) was promoted: 14 MB/s into the old generation, a mark-compact of the ~135 MiB
 *   heap every 3–5 s, and each one's concurrent marking took about a core for ~250 ms on a machine whose cores the
 *   controller shares. Every inbound latency spike of the benchmark (p99 200–450 ms) lined up with one.
 *   With 32 MiB semi-spaces it was still 11 MB/s: V8's allocation-site pretenuring had learnt, during the login's
 *   contact parsing, to allocate objects of some sites (undici's header buffers among them, ~4 MB/s) straight in the
 *   old generation, and kept doing so under the message load, whose objects all die young. With
 *   `--no-allocation-site-pretenuring`: 1.6 MB/s, and no mark-compact in a 15 s run at 1,000 msg/s.
 *   `--heap-growing-percent` lets the old generation grow by that share of what is live before the next
 *   mark-compact (V8 otherwise picks ~10 % for a heap this size). `--min-semi-space-size` keeps the young generation
 *   at its size: V8 shrinks it while the controller idles, and traffic after a quiet spell then ran hot for ~20 s
 *   (small semi-spaces, promotion) while it grew back. The cost: ~65 MiB more RSS for an idle controller.
 *   `--no-memory-reducer`: V8's memory reducer forces a memory-reducing mark-compact (up to three in a row) once no
 *   mark-compact ran for 100 s, however busy the process is. With promotion down to ~1 MB/s that watchdog, not the
 *   heap's growth, set the controller's mark-compacts: each of three 120 s runs of the benchmark had a span of p99
 *   200–365 ms 95–110 s into the traffic, where both the controller and the sandbox ran one; without it, no
 *   mark-compact in 125 s of traffic and p99 ≤ 64 ms in every 10 s. The cost: an idle controller keeps its heap (at most twice what is live,
 *   by `--heap-growing-percent`) until its next mark-compact instead of handing the rest back.
 *
 * The launcher passes its own node flags on (with the controller's heap flags instead of any given), forwards
 * SIGINT, SIGTERM and SIGHUP, and exits with the controller's exit code (or its signal). The controller stops
 * when the launcher disappears (the IPC channel closes), so a `kill -9` of the launcher leaves nothing running.
 * `OPENWX_RELAUNCH=0` turns this off (the controller then runs with the flags it was given, e.g. under a process
 * manager that must own the process itself); a process that already has a young generation of at least 32 MiB
 * semi-spaces is not relaunched either.
 *
 * No imports beyond node:child_process: the launcher loads nothing else (~40 MiB of RSS).
 */
import { spawn } from 'node:child_process';

/** Semi-space size (MiB) of `openwx controller`. */
export const CONTROLLER_SEMI_SPACE_MIB = 32;
/** Old-generation growth before the next mark-compact, in % of the live heap after the last one. */
export const CONTROLLER_HEAP_GROWING_PERCENT = 100;
/** The environment variable that turns the relaunch off ("0"); the launcher sets it for the controller. */
export const RELAUNCH_ENV = 'OPENWX_RELAUNCH';
/** Set by the launcher for the controller: the launcher's pid (the controller stops when its IPC channel closes). */
export const LAUNCHER_ENV = 'OPENWX_LAUNCHER_PID';

/** The heap flags that take a value (`--flag=N` or `--flag N`), and the ones that take none. */
const HEAP_VALUE_FLAG = /^--(?:(?:max|min)[-_]semi[-_]space[-_]size|heap[-_]growing[-_]percent)(=.*)?$/;
const ON_OFF_FLAG = /^--(?:no[-_])?(?:allocation[-_]site[-_]pretenuring|memory[-_]reducer)$/;
const SEMI_FLAG = /^--max[-_]semi[-_]space[-_]size(?:=(\d+))?$/;

/** The flags the controller process runs with. */
export function controllerHeapFlags(): string[] {
  return [
    `--max-semi-space-size=${CONTROLLER_SEMI_SPACE_MIB}`,
    `--min-semi-space-size=${CONTROLLER_SEMI_SPACE_MIB}`,
    `--heap-growing-percent=${CONTROLLER_HEAP_GROWING_PERCENT}`,
    '--no-allocation-site-pretenuring',
    '--no-memory-reducer',
  ];
}

/** The semi-space size the flags give (the last one wins, as in V8), or undefined when none does. */
export function semiSpaceOf(flags: readonly string[]): number | undefined {
  let v: number | undefined;
  for (let i = 0; i < flags.length; i++) {
    const m = SEMI_FLAG.exec(flags[i]!);
    if (!m) continue;
    const n = Number(m[1] ?? flags[++i]);
    if (Number.isFinite(n)) v = n;
  }
  return v;
}

/** `flags` without the heap flags the controller sets itself. */
function withoutHeapFlags(flags: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < flags.length; i++) {
    const f = flags[i]!;
    if (ON_OFF_FLAG.test(f)) continue;
    const m = HEAP_VALUE_FLAG.exec(f);
    if (!m) out.push(f);
    else if (m[1] === undefined) i++; // `--flag N`: the value is the next word
  }
  return out;
}

/**
 * The node flags to start the controller with, or null when this process runs it itself: another command, a
 * relaunch turned off (`OPENWX_RELAUNCH=0`), or a young generation already at least the controller's.
 * `argv`: process.argv (the command is argv[2]); `execArgv`: the node flags this process got.
 */
export function relaunchFlags(argv: readonly string[], execArgv: readonly string[], env: NodeJS.ProcessEnv): string[] | null {
  if (argv[2] !== 'controller' || env[RELAUNCH_ENV] === '0') return null;
  const given = [...(env['NODE_OPTIONS']?.split(/\s+/).filter(Boolean) ?? []), ...execArgv];
  const semi = semiSpaceOf(given);
  if (semi !== undefined && semi >= CONTROLLER_SEMI_SPACE_MIB) return null;
  return [...withoutHeapFlags(execArgv), ...controllerHeapFlags()];
}

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Runs this very command again in a child process with `flags` (stdio shared, an IPC channel the child watches) and
 * mirrors its end: this process exits with the child's code, or ends by the child's signal. Never returns.
 */
export function relaunch(flags: readonly string[]): void {
  const child = spawn(process.execPath, [...flags, ...process.argv.slice(1)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, [RELAUNCH_ENV]: '0', [LAUNCHER_ENV]: String(process.pid) },
  });
  // A terminal's Ctrl-C reaches both processes (one process group); the controller treats a repeated signal as one.
  const forward = (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  for (const s of FORWARDED) process.on(s, forward);
  child.on('error', (err) => {
    process.stderr.write(`openwx controller: cannot start the controller process: ${err.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      for (const s of FORWARDED) process.off(s, forward);
      process.kill(process.pid, signal);
      // a signal whose default is not to end a process: end anyway
      setTimeout(() => process.exit(1), 1_000);
      return;
    }
    process.exit(code ?? 1);
  });
}

/**
 * In the controller: when a launcher started it, stop (`stop`) once the launcher is gone. The IPC channel does not
 * keep the process alive.
 */
export function watchLauncher(stop: () => void): void {
  if (!process.env[LAUNCHER_ENV]) return;
  // The launcher always opens the channel: without it (closed while the controller was starting) it is gone already.
  if (!process.channel || !process.connected) {
    stop();
    return;
  }
  process.channel.unref();
  process.once('disconnect', stop);
}
