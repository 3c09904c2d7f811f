/**
 * The real `openwx` command, as installed: bin/openwx.js running the compiled dist/ (`npm test` builds it first; run
 * `npm run build` before running these test files alone). Spawned with plain node, its output collected, its exit
 * awaited.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../helpers/wait-for.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/openwx.js', import.meta.url));
if (!existsSync(new URL('../../dist/cli/main.js', import.meta.url))) throw new Error('dist/ is missing: run `npm run build` first');

/** The environment of the tests minus the OPENWX_* settings the runner sets (OPENWX_LOG_LEVEL=silent). */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OPENWX_')) env[k] = v;
  return { ...env, ...extra };
}

export interface RunningCommand {
  child: ChildProcess;
  /** stdout and stderr so far. */
  out(): string;
  err(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Waits until `re` matches stdout; returns the match. */
  waitForOutput(re: RegExp, what: string, deadlineMs?: number): Promise<RegExpExecArray>;
  /** SIGKILL if still running (test cleanup). */
  kill(): void;
}

export function startCommand(args: string[], env: NodeJS.ProcessEnv = cleanEnv()): RunningCommand {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let done = false;
  void exited.then(() => (done = true));
  return {
    child,
    out: () => out,
    err: () => err,
    exited,
    waitForOutput: (re, what, deadlineMs = 20_000) =>
      waitFor(
        () => {
          const m = re.exec(out);
          if (!m && done) throw new Error(`exited before ${what}`);
          return m;
        },
        what,
        deadlineMs,
      ).catch((e: Error) => {
        throw new Error(`${e.message}; output:\n${out}\n${err}`);
      }),
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** A port nothing listens on right now at `host` (taken by the OS, then released). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
