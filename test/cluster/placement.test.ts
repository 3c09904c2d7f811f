/**
 * start_client's `worker=`: a lone controller (no --database) refuses it with code 1 (it cannot place an account on
 * another controller, and must not silently ignore the parameter); a cluster member refuses a worker that is not live
 * or unknown, and still answers `client already exists` for an account it runs when worker= is given.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postgresForFile } from '../helpers/postgres.ts';
import { startTestController, usersSandbox } from '../host/helpers.ts';
import { rows, startClusterController } from './helpers.ts';

const server = postgresForFile();

test('a lone controller given worker= answers code 1 and starts nothing', async () => {
  const sb = await usersSandbox(1);
  const ctl = await startTestController(sb);
  try {
    const r = await ctl.call('start_client', { client: 'alice', worker: 'c9' });
    assert.equal(r.json.code, 1, r.text);
    assert.match(r.json.status, /^worker "c9": .*not in a cluster/);
    assert.equal(ctl.host.account('alice'), undefined);
    assert.deepEqual((await ctl.call('check_client')).json, { code: 0, client: [] });
    // Without it (or empty) the same start works.
    assert.equal((await ctl.call('start_client', { client: 'alice', worker: '' })).json.status, 'success');
  } finally {
    await ctl.close();
    await sb.close();
  }
});

test('a cluster member: worker= naming a controller that is not live answers code 1; worker= for an account it runs: client already exists', async () => {
  const url = await server.createDatabase();
  const sb = await usersSandbox(1);
  const c1 = await startClusterController(sb, url, 'p1');
  try {
    // A controller that was in the cluster once and has been silent for an hour.
    await rows(url, "INSERT INTO openwx_workers (worker_id, advertise_url, started, heartbeat) VALUES ('gone', 'http://127.0.0.1:9', now() - interval '2 hours', now() - interval '1 hour')");
    const r = await c1.call('start_client', { client: 'alice', worker: 'gone' });
    assert.equal(r.json.code, 1, r.text);
    assert.match(r.json.status, /^worker "gone": not live/);
    assert.equal((await rows(url, "SELECT 1 FROM openwx_accounts WHERE client = 'alice'")).length, 0, 'nothing placed');
    assert.equal((await c1.call('start_client', { client: 'alice', worker: 'p1' })).json.status, 'success');
    const again = await c1.call('start_client', { client: 'alice', worker: 'p1' });
    assert.deepEqual([again.json.code, again.json.status], [0, 'client already exists'], again.text);
  } finally {
    await c1.close();
    await sb.close();
  }
});
