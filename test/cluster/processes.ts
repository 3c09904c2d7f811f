/**
 * Real `openwx controller --database …` processes for the cluster's failure tests (kill -9, SIGSTOP): the CLI run
 * from src/ through tsx (the same code as dist/, no build step), on a free port, with short leases through the
 * documented settings (OPENWX_LEASE_TTL_MS, …), logging JSON to a file-like buffer for the failure message.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { callApi, type CallResult, type Via } from '../helpers/stack.ts';
import { freePort } from '../helpers/postgres.ts';
import { waitFor } from '../helpers/wait-for.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface ControllerProcess {
  id: string;
  base: string;
  dataDir: string;
  child: ChildProcess;
  log(): string;
  call(route: string, params?: Record<string, unknown>, via?: Via, headers?: Record<string, string>): Promise<CallResult>;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
}

export async function spawnController(
  id: string,
  o: { databaseUrl: string; wechatOrigin: string; postApi?: string; env?: Record<string, string> },
): Promise<ControllerProcess> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), `owx-cluster-${id}-`));
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OPENWX_')) env[k] = v;
  Object.assign(env, {
    OPENWX_DATABASE_URL: o.databaseUrl,
    OPENWX_WORKER_ID: id,
    OPENWX_LEASE_TTL_MS: '3000',
    OPENWX_LEASE_RENEW_INTERVAL_MS: '500',
    OPENWX_WORKER_DEAD_AFTER_MS: '2000',
    OPENWX_LOG_LEVEL: 'info',
    OPENWX_LOG_FORMAT: 'json',
    OPENWX_QUIET: 'true',
    // the controller process itself, not a launcher (src/cli/launch.ts): kill -9 and SIGSTOP must hit the controller
    OPENWX_RELAUNCH: '0',
    OPENWX_SEND_INTERVAL_MS: '0',
    OPENWX_POST_API_BACKOFF_BASE_MS: '20',
    OPENWX_POST_API_BACKOFF_MAX_MS: '200',
    ...(o.postApi ? { OPENWX_POST_API: o.postApi } : {}),
    ...o.env,
  });
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', MAIN, 'controller', '--port', String(port), '--data-dir', dataDir, '--wechat-origin', o.wechatOrigin],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  // Its data folder goes with it.
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      rmSync(dataDir, { recursive: true, force: true });
      resolve(code);
    }),
  );
  const base = `http://127.0.0.1:${port}`;
  let gone = false;
  void exited.then(() => (gone = true));
  await waitFor(
    () => {
      if (gone) throw new Error(`controller ${id} exited:\n${out}`);
      return /Controller API at/.test(out);
    },
    `controller ${id} listening`,
    60_000,
    50,
  );
  return {
    id,
    base,
    dataDir,
    child,
    log: () => out,
    call: (route, params, via, headers) => callApi(base, route, params, via, headers),
    exited,
    kill: (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}
