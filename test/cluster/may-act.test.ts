/**
 * The client's "may I act" hook (Account.setOwnership, what a cluster's lease drives): once it says no, not one more
 * request reaches WeChat — no sync step, no send — and a send is refused with OWX_ERR_LEASE_LOST; an answer that
 * arrives after it said no is not used. A real sandbox behind a recording proxy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isOpenwxError } from '../../src/errors.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { account, recordingProxy, sandbox, tempDir, testWorld } from '../client/helpers.ts';

test('mayAct false: no request leaves, sends are refused with OWX_ERR_LEASE_LOST, an answer in flight is dropped', async () => {
  const sb = await sandbox({ world: testWorld() });
  const seen: string[] = [];
  const proxy = await recordingProxy(sb, { request: (req) => seen.push(new URL(req.url!, 'http://x').pathname.split('/').pop()!) });
  const { dir, cleanup } = tempDir();
  let allowed = true;
  let refusals = 0;
  const a = account({ ...sb, url: proxy.url } as typeof sb, dir);
  a.setOwnership({
    mayAct: () => {
      if (!allowed) refusals++;
      return allowed;
    },
  });
  try {
    await a.run();
    assert.equal(a.state, 'running');
    await waitFor(() => seen.includes('synccheck'), 'the sync loop polls');
    await a.sendText(a.friends()[0]!.id, 'allowed');
    allowed = false;
    const before = seen.length;
    await assert.rejects(a.sendText(a.friends()[0]!.id, 'refused'), (e: unknown) => isOpenwxError(e, 'OWX_ERR_LEASE_LOST'));
    // What was in flight when it said no may still arrive and come back (its answer is dropped); after that the sync
    // loop's steps are refused before they are sent: while it is refused four more times, nothing goes out.
    await waitFor(() => refusals >= 4, 'the sync loop meets the refusal', 15_000);
    const settled = seen.length;
    await waitFor(() => refusals >= 8, 'the sync loop meets the refusal again and again', 15_000);
    assert.equal(seen.length, settled, 'no request while refused');
    assert.ok(!seen.slice(before).includes('webwxsendmsg'), 'the refused send never left');
    const sent = sb.handle.sent().map((m) => m.Content);
    assert.deepEqual(sent.filter((c) => c === 'refused'), []);
    assert.equal(sent.filter((c) => c === 'allowed').length, 1);
  } finally {
    await a.stop();
    proxy.server.close();
    await sb.close();
    cleanup();
  }
});
