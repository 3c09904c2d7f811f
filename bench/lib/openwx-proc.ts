/**
 * Spawns and drives the measured openwx process (openwx-main.mjs + probe.mjs, running the compiled dist/) in its own process, so its CPU and
 * memory are its own: the sandbox, the post_api receiver and the load generators live in the runner process.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

/** What `openwx` runs with, from bin/openwx.js's shebang (`#!/usr/bin/env -S [NAME=VALUE]… node <flags>`). */
export function shippedRuntime(): { env: Record<string, string>; flags: string[] } {
  const first = readFileSync(join(here, '../../bin/openwx.js'), 'utf8').split('\n', 1)[0]!;
  const m = /^#!\/usr\/bin\/env -S (.*)$/.exec(first);
  const words = m?.[1]?.trim().split(/\s+/) ?? [];
  const node = words.indexOf('node');
  const env = Object.fromEntries(words.slice(0, Math.max(0, node)).map((w) => w.split('=', 2) as [string, string]));
  return { env, flags: node >= 0 ? words.slice(node + 1) : [] };
}


export interface Mem {
  /** RSS once settled after the GC (see probe.mjs `mem`). */
  rss: number;
  /** RSS read right after the GC (includes pages V8 is still handing back). */
  rssAtGc: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

export interface Call {
  t: number;
  method: string;
  path: string;
}

export interface OpenwxProcOptions {
  /** The sandbox URL (`--wechat-origin`). */
  origin: string;
  postApi?: string;
  /** Extra CLI settings (setting names as in src/cli/config.ts). */
  settings?: Record<string, unknown>;
  /** Client option overrides (src/client/options.ts) the CLI has no flag for. */
  client?: Record<string, unknown>;
  /** Extra node flags, e.g. ['--cpu-prof', '--cpu-prof-dir=…']. */
  nodeFlags?: string[];
}

export class OpenwxProc {
  readonly child: ChildProcess;
  readonly dataDir: string;
  url = '';
  readonly states: { from: string; to: string; t: number }[] = [];
  #seq = 0;
  #pending = new Map<number, (v: unknown) => void>();
  #exited: Promise<number | null>;
  #stateWaiters = new Set<() => void>();

  private constructor(child: ChildProcess, dataDir: string) {
    this.child = child;
    this.dataDir = dataDir;
    this.#exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    child.on('message', (m: any) => {
      if (m?.op === 'state') {
        this.states.push({ from: m.from, to: m.to, t: m.t });
        for (const w of [...this.#stateWaiters]) w();
      } else if (typeof m?.id === 'number') {
        this.#pending.get(m.id)?.(m.result);
        this.#pending.delete(m.id);
      }
    });
  }

  static async start(o: OpenwxProcOptions): Promise<OpenwxProc> {
    const dataDir = mkdtempSync(join(tmpdir(), 'owx-bench-'));
    const settings = {
      wechat_origin: o.origin,
      data_dir: dataDir,
      port: 0,
      quiet: true,
      log_level: process.env['BENCH_LOG_LEVEL'] ?? 'warn',
      ...(o.postApi ? { post_api: o.postApi } : {}),
      ...o.settings,
    };
    // dist/ by default (what users run); BENCH_OPENWX_SRC=1 runs src/ through tsx, for comparison.
    const tsx = process.env['BENCH_OPENWX_SRC'] === '1' ? ['--import', 'tsx'] : [];
    const shipped = shippedRuntime();
    const child = fork(join(here, 'openwx-main.mjs'), [JSON.stringify(settings), JSON.stringify(o.client ?? {})], {
      // the shipped flags first (what `openwx` runs with), so a benchmark's own nodeFlags can override them
      execArgv: [...shipped.flags, '--expose-gc', ...tsx, '--import', join(here, 'probe.mjs'), ...(o.nodeFlags ?? [])],
      // the shebang's environment (glibc malloc settings) too, unless the runner's environment already sets them
      env: { ...shipped.env, ...process.env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const p = new OpenwxProc(child, dataDir);
    p.url = await new Promise<string>((resolve, reject) => {
      const onMsg = (m: any) => {
        if (m?.op === 'ready') {
          child.off('message', onMsg);
          resolve(String(m.url));
        }
      };
      child.on('message', onMsg);
      child.once('exit', (code) => reject(new Error(`openwx process exited (${code}) before it was ready`)));
    });
    return p;
  }

  get pid(): number {
    return this.child.pid!;
  }

  #ask<T>(op: string, arg?: unknown): Promise<T> {
    const id = ++this.#seq;
    return new Promise<T>((resolve) => {
      this.#pending.set(id, resolve as (v: unknown) => void);
      this.child.send({ id, op, arg });
    });
  }

  /** memoryUsage() of the openwx process, after a full GC when `gc`. */
  mem(gc = true): Promise<Mem> {
    return this.#ask('probe:mem', gc);
  }

  /** V8's heap spaces and the resident memory by mapping (after `mem(true)` for a post-GC picture). */
  spaces(): Promise<{ spaces: { space: string; size: number; used: number; committed: number }[]; maps: Record<string, number> }> {
    return this.#ask('probe:spaces');
  }

  /** VmRSS / VmHWM of the process from /proc (bytes). */
  procStatus(): { rss: number; hwm: number } {
    const s = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  }

  /** The WeChat (and other undici) requests made since `since`; recording stops after this call. */
  calls(since = 0): Promise<Call[]> {
    return this.#ask('probe:calls', since);
  }

  peakStart(): Promise<number> {
    return this.#ask('probe:peak-start');
  }

  peakStop(): Promise<number> {
    return this.#ask('probe:peak-stop');
  }

  /** memoryUsage() at the highest RSS the last peak window saw (null if it never rose). */
  peakDetail(): Promise<Omit<Mem, 'rssAtGc'> | null> {
    return this.#ask('probe:peak-detail');
  }

  /** Writes a heap snapshot of the openwx process (after a full GC) to `file`. */
  heapSnapshot(file: string): Promise<string> {
    return this.#ask('probe:heap-snapshot', file);
  }

  profileStart(): Promise<boolean> {
    return this.#ask('probe:prof-start');
  }

  /** Writes the CPU profile of the openwx process to `file`. */
  profileStop(file: string): Promise<string> {
    return this.#ask('probe:prof-stop', file);
  }

  /** Resolves with the time the client entered `state` (or rejects after the deadline). */
  waitState(state: string, deadlineMs = 60_000): Promise<number> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = this.states.find((s) => s.to === state);
        if (hit) {
          clearTimeout(t);
          this.#stateWaiters.delete(check);
          resolve(hit.t);
        }
      };
      const t = setTimeout(() => {
        this.#stateWaiters.delete(check);
        reject(new Error(`openwx did not reach state ${state} within ${deadlineMs} ms (states: ${this.states.map((s) => s.to).join(',')})`));
      }, deadlineMs);
      this.#stateWaiters.add(check);
      check();
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.connected) this.child.send({ op: 'stop' });
    const t = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.#exited;
    clearTimeout(t);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
