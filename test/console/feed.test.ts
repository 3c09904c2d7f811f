/**
 * The console's feed of one account builds a message's JSON only when something reads it: the recent list (on its
 * first read, then kept) or an open event stream (at once). With no console open, a busy account pays nothing per
 * message for it (the Controller's 1,000 msg/s benchmark profiled it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { QrWatch } from '../../src/api/qr-watch.ts';
import { ConsoleFeed } from '../../src/console/plugin.ts';
import { messagePostJson } from '../../src/model/post-json.ts';
import type { Message } from '../../src/model/types.ts';
import { startStack } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait-for.ts';

test('console feed: no JSON built per message until the recent list is read; then each once, in order', async () => {
  const s = await startStack();
  try {
    let built = 0;
    const feed = new ConsoleFeed({
      client: s.client,
      qr: new QrWatch(s.client),
      toJson: (m: Message) => {
        built++;
        return messagePostJson(m, s.client);
      },
      recentSize: 2,
    });
    let received = 0;
    s.client.on('receive_message', () => received++);
    for (const content of ['one', 'two', 'three']) {
      const r = await request(`${s.sb.url}/__sandbox/messages`, {
        method: 'POST',
        body: JSON.stringify({ type: 'text', from: '张伟', content }),
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(r.statusCode, 200, await r.body.text());
    }
    await waitFor(() => received === 3, 'three messages received');
    assert.equal(built, 0, 'nothing read the JSON yet');
    assert.deepEqual(feed.recent.map((j) => j['content']), ['two', 'three']);
    assert.equal(built, 2, 'only the kept ones, once each');
    assert.deepEqual(feed.recent.map((j) => j['content']), ['two', 'three']);
    assert.equal(built, 2, 'kept after the first read');
    assert.equal(feed.recent[0]!['media_data'], undefined);
    feed.close();
  } finally {
    await s.close();
  }
});
