/**
 * A controller stopping while the path to PostgreSQL is silent (packets dropped, nothing closed): its accounts' last
 * writes used to wait out the storage's retry window (30 s, DEFAULT_RETRY_GIVE_UP_MS) and each step of leaving the
 * cluster its query timeout. Now the host tells the storage to stop retrying when it starts closing, and leaving the
 * cluster stops touching PostgreSQL after its first failure; the leases and the heartbeat run out by themselves, as
 * after a crash.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RETRY_GIVE_UP_MS } from '../../src/store/pg/pg-storage.ts';
import { blackholer, postgresForFile } from '../helpers/postgres.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { usersSandbox } from '../host/helpers.ts';
import { rows, startClusterController } from './helpers.ts';

const server = postgresForFile();

test('close with PostgreSQL silent ends well inside the storage retry window; nothing is released (the leases run out)', async () => {
  const url = await server.createDatabase();
  const proxy = await blackholer(url);
  const sb = await usersSandbox(3);
  const r1 = await startClusterController(sb, proxy.url, 'r1', {}, { queryTimeoutMs: 400, connectTimeoutMs: 400 });
  try {
    for (const client of ['a1', 'a2', 'a3']) assert.equal((await r1.call('start_client', { client, worker: 'r1' })).json.status, 'success');
    await waitFor(async () => (await rows(url, "SELECT 1 FROM openwx_accounts WHERE worker = 'r1' AND lease_until > now()")).length === 3, 'three leases held by r1');
    proxy.blackhole();
    const t0 = Date.now();
    await r1.close();
    const ms = Date.now() - t0;
    // Before: ~63 s here (two storage retry windows). Now: a few query timeouts (400 ms each, several in parallel).
    assert.ok(ms < DEFAULT_RETRY_GIVE_UP_MS / 3, `close took ${ms} ms`);
    assert.ok(proxy.attempts() > 0, 'PostgreSQL was tried (the silent path was really in the way)');
    assert.equal((await rows(url, "SELECT 1 FROM openwx_accounts WHERE worker = 'r1' AND lease_until IS NULL")).length, 0, 'no lease released: they run out');
  } finally {
    await r1.close().catch(() => undefined);
    await sb.close();
    await proxy.close();
  }
});
