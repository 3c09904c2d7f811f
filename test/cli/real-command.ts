/**
 * The real `openwx` command, as installed: bin/openwx.js running the compiled dist/ (`npm test` builds it first; run
 * `npm run build` before running these test files alone). Spawned with plain node, its output collected, its exit
 * awaited.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { callApi } from '../helpers/stack.ts';
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

/** `node [nodeFlags] bin/openwx.js <args>`. */
export function startCommand(args: string[], env: NodeJS.ProcessEnv = cleanEnv(), nodeFlags: string[] = []): RunningCommand {
  const child = spawn(process.execPath, [...nodeFlags, BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
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

export const tmp = () => mkdtempSync(join(tmpdir(), 'owx-command-'));

/** `openwx sandbox --host 127.0.0.2 --port <free port>`, answering fast; resolves with its base URL. */
export async function startSandboxCommand(extra: string[] = []): Promise<{ cmd: RunningCommand; url: string }> {
  const port = await freePort('127.0.0.2');
  const cmd = startCommand(['sandbox', '--host', '127.0.0.2', '--port', String(port), '--auto-login', '0', '--chatter', 'off', '--long-poll-ms', '300', ...extra]);
  const m = await cmd.waitForOutput(/^openwx sandbox listening on (\S+)$/m, 'the sandbox URL line').catch((e: Error) => {
    cmd.kill();
    throw e;
  });
  assert.equal(m[1], `http://127.0.0.2:${port}`, 'the URL of the given host and port');
  return { cmd, url: m[1]! };
}

/** `openwx` on 127.0.0.3 against the sandbox, logged in; resolves with its API base URL. */
export async function startBridge(sandboxUrl: string, dir: string, extra: string[] = []): Promise<{ cmd: RunningCommand; base: string }> {
  const port = await freePort('127.0.0.3');
  const cmd = startCommand(['--host', '127.0.0.3', '--port', String(port), '--wechat-origin', sandboxUrl, '--data-dir', dir, '--stop-delay-ms', '0', '--log-level', 'warn', '--log-format', 'json', '--quiet', ...extra]);
  try {
    const m = await cmd.waitForOutput(/Openwx API at (http:\/\/\S+)\/openwx\//, 'the API URL line');
    assert.equal(m[1], `http://127.0.0.3:${port}`);
    await waitFor(async () => (await callApi(m[1]!, 'get_client_info')).json?.state === 'running', 'logged in to the sandbox', 20_000);
    return { cmd, base: m[1]! };
  } catch (e) {
    cmd.kill();
    throw e;
  }
}
