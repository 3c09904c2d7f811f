/**
 * The console's feed of one account converts a message when it arrives (the contact book as it was then, as post_api
 * got it) and makes its copy without media_data only when something reads it: the recent list (on its first read,
 * then kept) or an open event stream (at once).
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

test('console feed: each message converted once, when it arrived; its copy made on the first read of the recent list, in order', async () => {
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
    assert.equal(built, 3, 'each one converted when it arrived');
    assert.deepEqual(feed.recent.map((j) => j['content']), ['two', 'three']);
    assert.equal(built, 3, 'not converted again when read');
    assert.strictEqual(feed.recent[1], feed.recent[1], 'the copy is kept after the first read');
    assert.equal(feed.recent[0]!['media_data'], undefined);
    feed.close();
  } finally {
    await s.close();
  }
});

test('console feed: the recent list shows a message as it was when it arrived (as post_api got it), not after a contact change', async () => {
  const s = await startStack();
  try {
    const feed = new ConsoleFeed({ client: s.client, qr: new QrWatch(s.client), toJson: (m: Message) => messagePostJson(m, s.client) });
    const reported: Record<string, unknown>[] = [];
    const messages: Message[] = [];
    s.client.on('receive_message', (m: Message) => {
      messages.push(m);
      reported.push(messagePostJson(m, s.client));
    });
    const post = async (path: string, body: unknown) => {
      const r = await request(`${s.sb.url}/__sandbox/${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
      assert.equal(r.statusCode, 200, await r.body.text());
    };
    await post('messages', { type: 'text', from: '张伟', content: 'before the rename' });
    await waitFor(() => reported.length === 1, 'message received');
    const atArrival = reported[0]!;
    let updated = 0;
    s.client.on('friend_property_change', () => updated++);
    await post('contacts', { op: 'update_friend', friend: '张伟', remarkName: '老张改名' });
    await waitFor(() => updated > 0, 'rename seen by the client');
    // The contact book changed: the same message converted now gets the new markname.
    assert.equal(messagePostJson(messages[0]!, s.client)['sender_markname'], '老张改名');
    assert.notEqual(atArrival['sender_markname'], '老张改名');
    const shown = feed.recent[0]!;
    assert.equal(shown['content'], 'before the rename');
    assert.equal(shown['sender_markname'], atArrival['sender_markname'], 'the markname the message was reported with');
    assert.equal(shown['sender'], atArrival['sender']);
    feed.close();
  } finally {
    await s.close();
  }
});

test('a hosted account builds each message\'s post JSON once: the reporter and the console share it', async () => {
  let built = 0;
  const s = await startStack({
    postApi: true,
    openwx: {
      toJson: (m: Message) => {
        built++;
        return messagePostJson(m, s.client);
      },
    },
  });
  try {
    for (const content of ['uno', 'dos']) {
      const r = await request(`${s.sb.url}/__sandbox/messages`, {
        method: 'POST',
        body: JSON.stringify({ type: 'text', from: '张伟', content }),
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(r.statusCode, 200, await r.body.text());
    }
    await waitFor(() => s.receiver!.received.filter((p) => (p.json as Record<string, unknown> | undefined)?.['post_type'] === 'receive_message').length === 2, 'both reported');
    const recent = (await s.call('/console/api/recent')).json as { content: string }[];
    assert.deepEqual(recent.map((j) => j.content).slice(-2), ['uno', 'dos']);
    assert.equal(built, 2, 'one build per message, not one per reader');
  } finally {
    await s.close();
  }
});

test('the post JSON the console lists and the one check_event hands out carry the post_type of the event (one object, built with it)', async () => {
  const s = await startStack();
  try {
    const r = await request(`${s.sb.url}/__sandbox/messages`, {
      method: 'POST',
      body: JSON.stringify({ type: 'text', from: '张伟', content: 'in' }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(r.statusCode, 200, await r.body.text());
    const sent = await s.call('/openwx/send_friend_message', { markname: '老张', content: 'out' });
    assert.equal((sent.json as { code: number }).code, 0, JSON.stringify(sent.json));
    const polled: Record<string, unknown>[] = [];
    await waitFor(async () => {
      polled.push(...((await s.call('/openwx/check_event')).json as Record<string, unknown>[]));
      return polled.length >= 2;
    }, 'both messages polled');
    const recent = ((await s.call('/console/api/recent')).json as Record<string, unknown>[]).filter((j) => j['content'] === 'in' || j['content'] === 'out');
    assert.deepEqual(recent.map((j) => [j['content'], j['post_type']]), [['in', 'receive_message'], ['out', 'send_message']]);
    assert.deepEqual(polled.map((j) => [j['content'], j['post_type']]), [['in', 'receive_message'], ['out', 'send_message']]);
    assert.deepEqual(polled, recent, 'the same JSON (no media_data in a text message)');
  } finally {
    await s.close();
  }
});
