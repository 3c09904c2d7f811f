/**
 * /healthz and /readyz against a real sandbox: not ready while the QR waits (with the reason), ready once logged
 * in, not ready after WeChat (the sandbox) ends the session, ready again after the new login; not ready while
 * synccheck hangs past the sync age limit although the state is still `running`, ready again once it answers.
 * Both are public; the QR route answers the image while one waits and a JSON error otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait-for.ts';

const TOKEN = 'health-token-123';
const auth = { authorization: `Bearer ${TOKEN}` };

test('readiness follows the login: waiting for the QR (reason), logged in, logged out by WeChat, logged in again', async () => {
  const s = await startStack({ noLogin: true, sandbox: { autoLoginMs: undefined }, openwx: { token: TOKEN } });
  try {
    const health = await s.call('/healthz');
    assert.equal(health.status, 200, 'healthz needs no token');
    assert.equal(health.json.status, 'ok');
    assert.equal(health.json.pid, process.pid);

    void s.client.run().catch(() => undefined);
    await waitFor(() => s.client.state === 'scaning', 'QR waiting');
    const waiting = await s.call('/readyz');
    assert.equal(waiting.status, 503, 'readyz needs no token, and is not ready');
    assert.deepEqual(
      { ready: waiting.json.ready, state: waiting.json.state, reason: waiting.json.reason },
      { ready: false, state: 'scaning', reason: 'not logged in (state scaning)' },
    );

    // The QR for scripts: the image bytes while one waits (behind the token), equal to the client's QR file.
    assert.equal((await s.call('get_qrcode')).status, 401);
    const qr = await s.call('get_qrcode', {}, 'query', auth);
    assert.equal(qr.status, 200);
    assert.equal(qr.headers['content-type'], 'image/jpeg');
    assert.equal(qr.headers['cache-control'], 'no-cache');
    assert.deepEqual([...qr.body.subarray(0, 3)], [0xff, 0xd8, 0xff]);
    const state = s.sb.handle.state();
    const fromSandbox = Buffer.from(await (await fetch(`${s.sb.url}/qrcode/${state.uuid}`)).arrayBuffer());
    assert.ok(qr.body.equals(fromSandbox), 'the sandbox QR of the waiting uuid');
    const post = await s.call('get_qrcode', {}, 'form', auth);
    assert.ok(post.body.equals(qr.body), 'POST answers the same');

    s.sb.handle.confirm();
    await waitFor(() => s.client.state === 'running', 'logged in');
    const ready = await s.call('/readyz');
    assert.equal(ready.status, 200);
    assert.equal(ready.json.ready, true);
    assert.equal(ready.json.reason, null);
    assert.ok(ready.json.last_sync_age_ms >= 0 && ready.json.last_sync_age_ms < 60_000, JSON.stringify(ready.json));
    const none = await s.call('get_qrcode', {}, 'query', auth);
    assert.equal(none.status, 404);
    assert.deepEqual(none.json, { code: -1, status: 'no login QR code is waiting to be scanned (state running)' });

    // WeChat ends the session: the client relogs in (a new QR, nobody scans it) and is not ready meanwhile.
    s.sb.handle.logout();
    const gone = await waitFor(async () => {
      const r = await s.call('/readyz');
      return r.status === 503 ? r : null;
    }, 'not ready after the server-side logout');
    assert.equal(gone.json.ready, false);
    assert.match(gone.json.reason, /^(not logged in \(state \w+\)|client stopped)$/);
    assert.notEqual(gone.json.state, 'running');
    await waitFor(() => s.client.state === 'scaning' || s.client.state === 'confirming', 'a new QR (or push login) after the logout');
    s.sb.handle.confirm();
    await waitFor(() => s.client.state === 'running', 'logged in again');
    assert.equal((await s.call('/readyz')).status, 200);
  } finally {
    await s.close();
  }
});

test('readiness needs a successful sync within the limit: a hanging synccheck makes it not ready while running', async (t) => {
  // A 1.5 s limit instead of 60 s; the sandbox answers each poll after 300 ms, so a healthy account syncs often.
  const s = await startStack({ openwx: { readySyncMaxAgeMs: 1_500 } });
  try {
    const first = await s.call('/readyz');
    assert.equal(first.status, 200, JSON.stringify(first.json));
    if (first.json.sync_source !== 'wire') {
      // Without the transport's per-request events only login and messages are seen: the age cannot be enforced.
      t.todo('the client transport does not publish openwx:wire:request yet (src/client/transport.ts)');
      return;
    }
    // Healthy and quiet for longer than the limit: still ready (the long polls keep succeeding).
    const start = Date.now();
    await waitFor(async () => {
      const r = await s.call('/readyz');
      assert.equal(r.status, 200, `a quiet healthy account stays ready: ${r.text}`);
      return Date.now() - start > 2_500;
    }, 'quiet for longer than the limit', 10_000, 100);

    // synccheck hangs (the sandbox holds the next one for 4 s; the client's own timeout is 5 s): still running, not ready.
    s.sb.handle.fault({ endpoint: 'synccheck', delayMs: 4_000, times: 1 });
    const stale = await waitFor(async () => {
      const r = await s.call('/readyz');
      return r.status === 503 ? r : null;
    }, 'not ready while synccheck hangs', 10_000);
    assert.equal(stale.json.state, 'running');
    assert.equal(s.client.state, 'running');
    assert.match(stale.json.reason, /^no successful sync with WeChat for \d+(\.\d)? s \(limit 1\.5 s\)$/);
    assert.ok(stale.json.last_sync_age_ms > 1_500);
    // The poll answers at last: ready again.
    await waitFor(async () => (await s.call('/readyz')).status === 200, 'ready again', 10_000);
  } finally {
    await s.close();
  }
});
