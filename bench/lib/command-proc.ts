/**
 * One real `openwx` command (`openwx …`, `openwx controller …`, `openwx sandbox …`) in its own process, as users run
 * it: `node <bin/openwx.js's shebang flags> bin/openwx.js <args>` with the shebang's environment (dist/). For the
 * measured processes, `probe: true` also preloads bench/lib/probe.mjs with `--expose-gc` and an IPC channel, so the
 * runner can read settled memory (after a forced GC) as bench/memory.ts does; the command itself is untouched.
 * stdout/stderr are read line by line (kept: the last 50 lines, for error messages) and watched for a pattern.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Mem } from './openwx-proc.ts';
import { shippedRuntime } from './openwx-proc.ts';
import { RELAUNCH_ENV, relaunchFlags } from '../../src/cli/launch.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const BIN = join(here, '../../bin/openwx.js');

export interface CommandProcOptions {
  /** Preload probe.mjs (+ --expose-gc) and open an IPC channel: mem(), procStatus(), profiles. */
  probe?: boolean;
  /** Extra node flags after the shipped ones. */
  nodeFlags?: string[];
  /**
   * `openwx controller` as users start it: through its launcher (src/cli/launch.ts), whose pid this is. Without it
   * the controller process itself is started (with the flags the launcher would give it), so it can be measured.
   */
  launcher?: boolean;
}

export class CommandProc {
  readonly child: ChildProcess;
  readonly args: string[];
  readonly startedAt = Date.now();
  readonly tail: string[] = [];
  #seq = 0;
  #pending = new Map<number, (v: unknown) => void>();
  #lineWaiters = new Set<(line: string) => void>();
  readonly #exited: Promise<void>;
  #exit: { code: number | null; signal: string | null } | null = null;

  constructor(args: string[], o: CommandProcOptions = {}) {
    this.args = args;
    const shipped = shippedRuntime();
    const env: NodeJS.ProcessEnv = { ...shipped.env };
    // the runner's environment, but none of its OPENWX_* settings (the flags given are the whole configuration)
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OPENWX_') && !(k in env)) env[k] = v;
    const probe = o.probe ? ['--expose-gc', '--import', join(here, 'probe.mjs')] : [];
    // `openwx controller` runs in a process of its own with its heap flags (src/cli/launch.ts); measured is that
    // process, started here with those flags directly (the launcher's own RSS: launcherRss()).
    const flags = o.launcher ? shipped.flags : (relaunchFlags(['node', BIN, ...args], shipped.flags, {}) ?? shipped.flags);
    if (!o.launcher) env[RELAUNCH_ENV] = '0';
    this.child = fork(BIN, args, {
      execArgv: [...flags, ...probe, ...(o.nodeFlags ?? [])],
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.#exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        for (const w of [...this.#lineWaiters]) w('');
        resolve();
      }),
    );
    this.child.on('message', (m: any) => {
      if (typeof m?.id === 'number') {
        this.#pending.get(m.id)?.(m.result);
        this.#pending.delete(m.id);
      }
    });
    const onLine = (line: string) => {
      this.tail.push(line);
      if (this.tail.length > 50) this.tail.shift();
      for (const w of [...this.#lineWaiters]) w(line);
    };
    createInterface({ input: this.child.stdout! }).on('line', onLine);
    createInterface({ input: this.child.stderr! }).on('line', onLine);
    // BENCH_PROC_LOG_DIR=<dir>: every line of the process's output also goes to <dir>/<pid>.log (e.g. --trace-gc).
    const logDir = process.env['BENCH_PROC_LOG_DIR'];
    if (logDir && this.child.pid) {
      const out = createWriteStream(join(logDir, `${this.child.pid}.log`));
      this.child.stdout!.pipe(out);
      this.child.stderr!.pipe(out);
    }
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.#exit === null;
  }

  /** The first match of `re` in an output line from now on (rejects at the deadline or when the process exits). */
  waitLine(re: RegExp, deadlineMs: number): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const done = (err: Error | null, m?: RegExpExecArray) => {
        clearTimeout(t);
        this.#lineWaiters.delete(check);
        if (err) reject(err);
        else resolve(m!);
      };
      const check = (line: string) => {
        const m = re.exec(line);
        if (m) done(null, m);
        else if (!this.alive) done(new Error(`openwx ${this.args[0] ?? ''} exited (${JSON.stringify(this.#exit)}): ${this.tail.slice(-5).join(' | ')}`));
      };
      const t = setTimeout(() => done(new Error(`openwx ${this.args.join(' ')}: no line matching ${re} within ${deadlineMs} ms: ${this.tail.slice(-5).join(' | ')}`)), deadlineMs);
      this.#lineWaiters.add(check);
      if (!this.alive) check('');
    });
  }

  /** One probe request over IPC; rejects after `deadlineMs` (a stuck process never hangs the runner). */
  #ask<T>(op: string, arg?: unknown, deadlineMs = 60_000): Promise<T> {
    const id = ++this.#seq;
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`openwx ${this.args[0] ?? ''}: no answer to ${op} within ${deadlineMs} ms`));
      }, deadlineMs);
      this.#pending.set(id, (v) => {
        clearTimeout(t);
        resolve(v as T);
      });
      this.child.send({ id, op, arg });
    });
  }

  /** memoryUsage() of the process; with `gc`, after a forced full GC once the RSS has settled (probe.mjs `mem`). */
  mem(gc = true): Promise<Mem> {
    return this.#ask('probe:mem', gc);
  }

  /** Ends the probe's recording of protocol calls (it records until asked, which would grow the heap). */
  async stopCallRecording(): Promise<void> {
    await this.#ask('probe:calls', Date.now());
  }

  /** Starts measuring the process's event-loop delay (perf_hooks monitorEventLoopDelay, 10 ms resolution). */
  eventLoopDelayStart(): Promise<boolean> {
    return this.#ask('probe:eld-start');
  }

  /** The event-loop delay since eventLoopDelayStart (ms: how late a 10 ms timer fired). */
  eventLoopDelayStop(): Promise<{ p50Ms: number; p99Ms: number; maxMs: number; meanMs: number } | null> {
    return this.#ask('probe:eld-stop');
  }

  profileStart(): Promise<boolean> {
    return this.#ask('probe:prof-start');
  }

  profileStop(file: string): Promise<string> {
    return this.#ask('probe:prof-stop', file);
  }

  /** Writes a V8 heap snapshot of the process to `file` (pauses it for seconds). */
  heapSnapshot(file: string): Promise<string> {
    return this.#ask('probe:heap-snapshot', file, 300_000);
  }

  /** V8's heap spaces and the resident memory by mapping (after `mem(true)` for a post-GC picture). */
  spaces(): Promise<{ spaces: { space: string; size: number; used: number; committed: number }[]; maps: Record<string, number> }> {
    return this.#ask('probe:spaces');
  }

  /**
   * VmRSS / VmHWM and RssAnon from /proc (bytes; NaN once the process is gone). RssAnon leaves out the file-backed
   * pages (the node binary, libraries: ~40–50 MiB), which every node process maps and RSS counts in each.
   */
  procStatus(): { rss: number; hwm: number; anon: number } {
    try {
      const s = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN) * 1024;
      return { rss: kb('VmRSS'), hwm: kb('VmHWM'), anon: kb('RssAnon') };
    } catch {
      return { rss: NaN, hwm: NaN, anon: NaN };
    }
  }

  /** SIGINT (a clean stop), SIGKILL after `graceMs`. */
  async stop(graceMs = 15_000): Promise<{ code: number | null; signal: string | null }> {
    if (this.alive) this.child.kill('SIGINT');
    const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(t);
    return this.#exit!;
  }
}
