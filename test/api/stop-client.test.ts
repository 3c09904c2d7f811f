import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait-for.ts';

test('get_client_info, then stop_client: answers, stops the client, posts stop, calls the host hook', async () => {
  let hookCalled = 0;
  const s = await startStack({ postApi: true, openwx: { stopDelayMs: 50, onStopClient: () => void hookCalled++, version: '9.9.9', logLevel: 'warn' } });
  try {
    const info = await s.call('get_client_info');
    assert.equal(info.json.code, 0);
    assert.equal(info.json.status, 'success');
    assert.equal(info.json.pid, process.pid);
    assert.equal(info.json.account, 'default');
    assert.equal(info.json.version, '9.9.9');
    assert.equal(info.json.log_level, 'warn');
    assert.equal(info.json.state, 'running');
    assert.ok(Math.abs(info.json.starttime - Date.now() / 1000) < 60, 'starttime in unix seconds');
    assert.ok(info.json.runtime >= 0 && info.json.runtime < 60);

    const r = await s.call('stop_client', {}, 'form');
    assert.equal(r.json.code, 0);
    assert.equal(r.json.pid, process.pid);
    assert.equal(r.json.status, `success, client(${process.pid}) will stop in 0 seconds`);
    assert.equal(typeof r.json.starttime, 'number');
    await waitFor(() => hookCalled === 1, 'host hook called');
    assert.equal(s.client.state, 'stop');
    const posts = s.receiver!.received.map((x) => x.json);
    assert.ok(posts.some((j) => j.event === 'stop' && Array.isArray(j.params) && j.params.length === 0), 'stop event posted');
    assert.ok(posts.some((j) => j.event === 'state_change' && j.params[1] === 'stop'), 'state_change → stop posted');
    // After the stop, routes that need the account answer 503 -2 at once.
    const after = await s.call('send_friend_message', { id: 'filehelper', content: 'x' });
    assert.ok(after.status === 503 || after.json.code === 100, JSON.stringify(after.json));
  } finally {
    await s.close();
  }
});

test('before login: info routes answer, sending answers 503 {"code":-2}', async () => {
  const s = await startStack({ noLogin: true });
  try {
    const u = await s.call('get_user_info');
    assert.equal(u.status, 503);
    assert.equal(u.json.code, -2);
    assert.deepEqual((await s.call('get_friend_info')).json, []);
    assert.equal((await s.call('get_client_info')).json.state, 'init');
    const r = await s.call('send_friend_message', { id: '@all', content: 'x' });
    assert.equal(r.status, 503);
    assert.deepEqual(r.json, { code: -2, status: 'not logged in (state init)' });
  } finally {
    await s.close();
  }
});
