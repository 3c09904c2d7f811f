/**
 * One incarnation of the real `openwx` command for the soak: `node <shebang flags> bin/openwx.js …` (dist/, the
 * runtime flags and environment of bin/openwx.js's shebang), its stdout/stderr (JSON log lines, --log-format json)
 * appended to the run's log file and watched for the API URL, state changes, resumes and warnings.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { shippedRuntime } from './openwx-proc.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface SoakOpenwxStats {
  /** Log lines by level name and message (warnings and errors only), over every incarnation. */
  warnings: Map<string, number>;
  errors: Map<string, number>;
  resumed: number;
  resumeFailed: number;
  freshLogins: number;
}

export function newOpenwxStats(): SoakOpenwxStats {
  return { warnings: new Map(), errors: new Map(), resumed: 0, resumeFailed: 0, freshLogins: 0 };
}

const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

export class SoakOpenwx {
  readonly child: ChildProcess;
  readonly incarnation: number;
  apiUrl = '';
  state = 'init';
  runningAt = 0;
  readonly startedAt: number;
  readonly #exited: Promise<void>;
  #exitCode: number | null = null;
  #signal: string | null = null;
  #waiters = new Set<() => void>();

  private constructor(child: ChildProcess, incarnation: number, log: WriteStream, stats: SoakOpenwxStats, now: () => number) {
    this.child = child;
    this.incarnation = incarnation;
    this.startedAt = now();
    this.#exited = once(child, 'exit').then(([code, signal]) => {
      this.#exitCode = code as number | null;
      this.#signal = signal as string | null;
      this.#wake();
    });
    const onLine = (line: string) => {
      log.write(`${incarnation}\t${line}\n`);
      const api = /Openwx API at (http:\/\/[^/\s]+)\/openwx\//.exec(line);
      if (api) {
        this.apiUrl = api[1]!;
        this.#wake();
        return;
      }
      if (line[0] !== '{') return;
      let o: { level?: number; msg?: string; to?: string };
      try {
        o = JSON.parse(line);
      } catch {
        return;
      }
      const msg = String(o.msg ?? '');
      if (typeof o.to === 'string' && msg.startsWith('state ')) {
        this.state = o.to;
        if (o.to === 'running') this.runningAt = now();
        if (o.to === 'scaning') stats.freshLogins++;
        this.#wake();
      }
      if (msg.startsWith('saved session is alive')) stats.resumed++;
      else if (msg.startsWith('saved session is no longer valid')) stats.resumeFailed++;
      const level = o.level ?? 30;
      // messages with numbers in them (Ret 1205, retry in …) are grouped by their text without digits
      const key = msg.replace(/\d+/g, 'N').slice(0, 120);
      if (level >= 50) bump(stats.errors, key);
      else if (level >= 40) bump(stats.warnings, key);
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
  }

  /** Starts the command with `args` (flags of `openwx`). */
  static start(args: string[], incarnation: number, log: WriteStream, stats: SoakOpenwxStats, now: () => number): SoakOpenwx {
    const shipped = shippedRuntime();
    const env: NodeJS.ProcessEnv = { ...shipped.env };
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OPENWX_') && !(k in env)) env[k] = v;
    const child = spawn(process.execPath, [...shipped.flags, join(ROOT, 'bin/openwx.js'), ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    log.write(`${incarnation}\t# started pid ${child.pid} at ${new Date().toISOString()}\n`);
    return new SoakOpenwx(child, incarnation, log, stats, now);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.#exitCode === null && this.#signal === null;
  }

  get exit(): { code: number | null; signal: string | null } {
    return { code: this.#exitCode, signal: this.#signal };
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  /** Resolves once `pred` holds (checked on every log line of interest and on exit); false at the deadline. */
  waitFor(pred: () => boolean, deadlineMs: number): Promise<boolean> {
    if (pred()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (v: boolean) => {
        clearTimeout(t);
        this.#waiters.delete(check);
        resolve(v);
      };
      const check = () => {
        if (pred()) done(true);
        else if (!this.alive) done(false);
      };
      const t = setTimeout(() => done(false), deadlineMs);
      this.#waiters.add(check);
    });
  }

  /** VmRSS of the process in bytes (NaN once it is gone). */
  rss(): number {
    try {
      const s = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      return Number(/^VmRSS:\s+(\d+) kB/m.exec(s)?.[1] ?? NaN) * 1024;
    } catch {
      return NaN;
    }
  }

  async kill9(): Promise<void> {
    if (this.alive) this.child.kill('SIGKILL');
    await this.#exited;
  }

  /** SIGTERM (a clean stop), SIGKILL after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.alive) this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(t);
  }
}
