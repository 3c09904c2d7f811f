/**
 * The database password is a secret: never in a settings error, a start-up failure or a log line at any level (the
 * controller's whole trace-level log through joining, an account's start and the shutdown).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { loadControllerSettings, startControllerFrom } from '../../src/cli/controller.ts';
import { SettingsError } from '../../src/cli/config.ts';
import { ClusterNode } from '../../src/cluster/node.ts';
import { freePort, postgresForFile } from '../helpers/postgres.ts';
import { callApi } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { usersSandbox } from '../host/helpers.ts';

const server = postgresForFile();

test('a bad database_url is refused without printing it; an unreachable database fails start-up without its password', async () => {
  const pw = 'S3cretDbPassw0rd';
  for (const bad of [`mysql://u:${pw}@h/db`, `postgres://u:${pw}@h/db with space`]) {
    assert.throws(
      () => loadControllerSettings({ flags: { database_url: bad }, env: {} }),
      (e: unknown) => e instanceof SettingsError && /^invalid setting database_url: .*got a value of \d+ characters$/.test(e.message) && !e.message.includes(pw),
    );
  }
  const env = loadControllerSettings({ env: { OPENWX_DATABASE_URL: `postgres://u:${pw}@127.0.0.1:1/db` } });
  assert.equal(env.database_url, `postgres://u:${pw}@127.0.0.1:1/db`);
  const port = await freePort();
  await assert.rejects(
    ClusterNode.open({ databaseUrl: `postgres://u:${pw}@127.0.0.1:${port}/db`, workerId: 'w', logger: pino({ level: 'silent' }) }),
    (e: Error & { code?: string }) => e.code === 'OWX_ERR_CLUSTER_DB' && /127\.0\.0\.1/.test(e.message) && !e.message.includes(pw),
  );
});

test("a cluster member's trace-level log never holds the database password", async () => {
  const url = await server.createDatabase();
  const password = decodeURIComponent(new URL(url).password);
  assert.ok(password.length >= 8);
  let log = '';
  const sink = new Writable({
    write(chunk, _enc, cb) {
      log += String(chunk);
      cb();
    },
  });
  const logger = pino({ level: 'trace' }, sink);
  const sb = await usersSandbox(1);
  const dataDir = mkdtempSync(join(tmpdir(), 'owx-cluster-secret-'));
  const settings = loadControllerSettings({
    flags: { port: 0, data_dir: dataDir, quiet: true, wechat_origin: sb.url, database_url: url, worker_id: 's1' },
    env: {},
  });
  const host = await startControllerFrom(settings, { logger });
  try {
    const r = await callApi(host.urls[0]!, 'start_client', { client: 'alice' });
    assert.equal(r.json.status, 'success');
    await waitFor(() => /QR code ready/.test(log), 'the account shows a QR', 20_000);
  } finally {
    await host.close(200);
    await sb.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  assert.match(log, /cluster database ready/);
  assert.match(log, /joined the cluster/);
  assert.ok(!log.includes(password), 'the password is in the log');
  assert.ok(!log.includes(url), 'the URL with its credentials is in the log');
});
