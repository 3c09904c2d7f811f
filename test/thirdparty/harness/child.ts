/**
 * Runs a third-party client driver in a child process (plain `node`, no tsx, the library untouched) with the
 * names preload, trusting the test certificate, and gives the test an event log + request/response calls over IPC.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';

export const PRELOAD_PATH = fileURLToPath(new URL('./wechat-names-preload.mjs', import.meta.url));

export interface ChildEvent {
  event: string;
  data: any;
}

export class ClientProcess extends EventEmitter {
  readonly events: ChildEvent[] = [];
  private readonly proc: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void; cmd: string }>();
  /** The child's stdout and stderr, as received. */
  readonly stderr: string[] = [];
  private exited = false;

  constructor(driverPath: string, opts: { proxyPort: number; caCertPath: string; env?: Record<string, string> }) {
    super();
    this.proc = fork(driverPath, [], {
      execArgv: ['--import', PRELOAD_PATH],
      env: {
        PATH: process.env['PATH'] ?? '',
        HOME: process.env['HOME'] ?? '',
        NODE_EXTRA_CA_CERTS: opts.caCertPath,
        OPENWX_TP_PROXY_PORT: String(opts.proxyPort),
        ...opts.env,
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.proc.stdout?.on('data', (d: Buffer) => this.stderr.push(d.toString()));
    this.proc.stderr?.on('data', (d: Buffer) => this.stderr.push(d.toString()));
    this.proc.on('message', (m: any) => {
      if (m && typeof m.id === 'number') {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.ok) p.resolve(m.result);
        else p.reject(Object.assign(new Error(`${p.cmd} failed: ${JSON.stringify(m.error)}`), { info: m.error }));
        return;
      }
      if (m && typeof m.event === 'string') {
        this.events.push(m);
        this.emit('event', m);
      }
    });
    this.proc.on('exit', (code, signal) => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(new Error(`client process exited (${code ?? signal}) during ${p.cmd}`));
      this.pending.clear();
      this.emit('exit', code, signal);
    });
  }

  call<T = any>(cmd: string, args?: unknown): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`client process has exited; cannot ${cmd}`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, cmd });
      this.proc.send({ id, cmd, args });
    });
  }

  /** The first event (already logged or still to come) named `name` whose data satisfies `filter`. */
  waitEvent(name: string, filter: (data: any) => boolean = () => true, deadlineMs = 15_000, fromIndex = 0): Promise<any> {
    const found = this.events.slice(fromIndex).find((e) => e.event === name && filter(e.data));
    if (found) return Promise.resolve(found.data);
    if (this.exited) return Promise.reject(new Error(`client process has exited; no event ${name} will come. ${this.diagnostics()}`));
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.off('event', on);
        this.off('exit', onExit);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${deadlineMs} ms waiting for client event ${name}. ${this.diagnostics()}`));
      }, deadlineMs);
      const on = (e: ChildEvent) => {
        if (e.event !== name || !filter(e.data)) return;
        done();
        resolve(e.data);
      };
      const onExit = () => {
        done();
        reject(new Error(`client process exited while waiting for event ${name}. ${this.diagnostics()}`));
      };
      this.on('event', on);
      this.on('exit', onExit);
    });
  }

  /** Reported errors and the tail of the child's output, for failure messages. */
  diagnostics(): string {
    return `errors so far: ${JSON.stringify(this.errors())}; client output: ${JSON.stringify(this.stderr.join('').slice(-2000))}`;
  }

  errors(): any[] {
    return this.events.filter((e) => e.event === 'error').map((e) => e.data);
  }

  async kill(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.once('exit', () => resolve()));
    this.proc.kill('SIGKILL');
    await gone;
  }
}
