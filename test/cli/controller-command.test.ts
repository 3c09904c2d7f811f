/**
 * The real `openwx controller` command (bin/openwx.js on dist/): the offline demo with an embedded sandbox of 3
 * users (two accounts started and running, each its own user), the settings file's `clients:` started at launch,
 * SIGINT stopping everything with exit 0, and a bad setting answered in one line with exit 2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { callApi } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { freePort, startCommand, tmp } from './real-command.ts';

test('openwx controller --sandbox --sandbox-users 3: clients from the settings file and start_client run, each as its own user; SIGINT exits 0', async () => {
  const dir = tmp();
  const sandboxPort = await freePort();
  const config = join(dir, 'controller.yaml');
  writeFileSync(config, 'clients:\n  - client: alice\n    send_interval_ms: 0\n');
  const cmd = startCommand(['controller', '--port', '0', '--sandbox', '--sandbox-users', '3', '--sandbox-port', String(sandboxPort), '--data-dir', dir, '--config', config, '--log-level', 'silent', '--quiet']);
  try {
    const m = await cmd.waitForOutput(/Controller API at (http:\/\/127\.0\.0\.1:\d+)\/openwx\//, 'the controller URL', 30_000);
    const base = m[1]!;
    assert.match(cmd.out(), /sandbox \(fake WeChat, 3 users\)/);
    assert.equal((await callApi(base, 'start_client', { client: 'bob' })).json.status, 'success');
    const running = async () => {
      const r = await callApi(base, 'check_client');
      return (r.json.client as any[]).filter((c) => c.state === 'running');
    };
    const both = await waitFor(async () => ((await running()).length === 2 ? running() : null), 'alice and bob running', 30_000, 50);
    assert.deepEqual(both.map((c: any) => c.client).sort(), ['alice', 'bob']);
    assert.notEqual(both[0].user_id, both[1].user_id);
    assert.notEqual(both[0].user_name, both[1].user_name, 'each account is its own sandbox user');
    cmd.child.kill('SIGINT');
    assert.equal(await cmd.exited, 0, cmd.err());
    assert.match(cmd.out(), /openwx controller: stopped \(SIGINT\)/);
  } finally {
    cmd.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('openwx controller: a bad setting is one line and exit 2 (flags, and a clients: entry)', async () => {
  const dir = tmp();
  try {
    const a = startCommand(['controller', '--max-clients', '0', '--data-dir', dir]);
    assert.equal(await a.exited, 2);
    assert.equal(a.err(), 'openwx controller: invalid setting max_clients: expected integer 1-10000, got "0"\n');
    const config = join(dir, 'bad.yaml');
    writeFileSync(config, 'clients:\n  - client: ok\n  - client: "no/slash"\n');
    const b = startCommand(['controller', '--config', config, '--data-dir', dir]);
    assert.equal(await b.exited, 2);
    assert.match(b.err(), /^openwx controller: invalid setting clients\[1\]: client name "no\/slash": it must start with a letter or digit/);
    writeFileSync(config, 'clients:\n  - client: ok\n    relogin: sometimes\n');
    const c = startCommand(['controller', '--config', config, '--data-dir', dir]);
    assert.equal(await c.exited, 2);
    assert.equal(c.err(), 'openwx controller: invalid setting clients[0] (ok): invalid setting relogin: expected relogin or stop, got "sometimes"\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
