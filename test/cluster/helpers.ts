/**
 * Cluster tests: controllers (the composition `openwx controller --database …` runs) sharing one real PostgreSQL
 * (test/helpers/postgres.ts) and one multi-user sandbox, with short leases so failover happens in seconds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Sandbox } from '../../src/sandbox/index.ts';
import { loadControllerSettings, startControllerFrom, type ControllerRuntime } from '../../src/cli/controller.ts';
import type { Host } from '../../src/host/index.ts';
import { callApi, silent, type CallResult, type Via } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { control } from '../host/helpers.ts';

/**
 * Short timings: a lease of 3 s renewed every 0.5 s, a controller dead after 5 s without heartbeat (the controllers of
 * a test share its process: on a loaded machine one stall of its event loop must not make them all look dead, which
 * would change placement; no test here waits for a heartbeat to go stale: a closing controller marks itself dead).
 */
export const FAST: NonNullable<ControllerRuntime['cluster']> = {
  leaseTtlMs: 3_000,
  leaseRenewIntervalMs: 500,
  leaseSafetyMs: 500,
  heartbeatIntervalMs: 300,
  workerDeadAfterMs: 5_000,
  claimIntervalMs: 300,
};

export interface ClusterController {
  id: string;
  host: Host;
  base: string;
  call(route: string, params?: Record<string, unknown>, via?: Via, headers?: Record<string, string>): Promise<CallResult>;
  close(): Promise<void>;
}

export async function startClusterController(
  sb: Sandbox,
  databaseUrl: string,
  id: string,
  flags: Record<string, unknown> = {},
  timings: NonNullable<ControllerRuntime['cluster']> = {},
): Promise<ClusterController> {
  const dataDir = mkdtempSync(join(tmpdir(), `owx-cluster-${id}-`));
  const settings = loadControllerSettings({
    flags: {
      port: 0,
      data_dir: dataDir,
      quiet: true,
      send_interval_ms: 0,
      post_api_backoff_base_ms: 20,
      post_api_backoff_max_ms: 200,
      wechat_origin: sb.url,
      database_url: databaseUrl,
      worker_id: id,
      ...flags,
    },
    env: {},
  });
  const host = await startControllerFrom(settings, { logger: silent, cluster: { ...FAST, ...timings } });
  const base = host.urls[0]!;
  return {
    id,
    host,
    base,
    call: (route, params, via, headers) => callApi(base, route, params, via, headers),
    close: async () => {
      await host.close(500);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The cluster's view of one account (any controller answers the same). */
export async function entry(c: ClusterController, name: string): Promise<any> {
  const r = await c.call('check_client', { client: name });
  return r.json?.client?.[0];
}

/** Confirms the QR `name` shows as sandbox user `user` and waits until it runs (asked through `via`). */
export async function loginAs(sb: Sandbox, via: ClusterController, name: string, user: string): Promise<void> {
  await waitFor(async () => (await entry(via, name))?.state === 'scaning', `${name} shows a QR`, 20_000, 30);
  const c = await control(sb, 'POST', 'confirm', { user });
  if (c.status !== 200) throw new Error(`confirm as ${user}: ${JSON.stringify(c.json)}`);
  await waitFor(async () => (await entry(via, name))?.state === 'running', `${name} running`, 20_000, 30);
}

export async function rows<T = any>(url: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql, values)).rows as T[];
  } finally {
    await c.end();
  }
}
