/**
 * A controller with `--database` keeps its hot path on PostgreSQL (PgStorage through host.ts `hostStorage`): a
 * message from the sandbox reaches post_api with the event id of its openwx_events row, its history record and outbox
 * row are in PostgreSQL (not in the data folder's SQLite), an account without post_api still logs its reports, and
 * revoke_message finds a sent message by its bare MsgID in the PostgreSQL history.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postgresForFile } from '../helpers/postgres.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { control, UrlReceiver, usersSandbox } from '../host/helpers.ts';
import { loginAs, rows, startClusterController } from '../cluster/helpers.ts';

const server = postgresForFile();

test('a controller on PostgreSQL: reports in openwx_events and at post_api with one event id; history and outbox in PostgreSQL; revoke by MsgID', async () => {
  const url = await server.createDatabase('owx_ctl');
  const sb = await usersSandbox(2);
  const receiver = await new UrlReceiver().start();
  const c1 = await startClusterController(sb, url, 'c1');
  try {
    assert.equal((await c1.call('start_client', { client: 'alice', post_api: receiver.url })).json.status, 'success');
    await loginAs(sb, c1, 'alice', 'wxid_user1');
    assert.equal((await c1.call('start_client', { client: 'bob' })).json.status, 'success');
    await loginAs(sb, c1, 'bob', 'wxid_user2');

    await control(sb, 'POST', 'messages', { user: 'wxid_user1', type: 'text', from: 'Ann', content: 'to alice' });
    await control(sb, 'POST', 'messages', { user: 'wxid_user2', type: 'text', from: 'Ann', content: 'to bob' });
    const post = await receiver.waitFor((p) => p.json?.content === 'to alice', 'post_api gets the message');
    const [ev] = await waitFor(
      async () => {
        const r = await rows(url, "SELECT event_id, report FROM openwx_events WHERE client = 'alice' AND report->>'content' = 'to alice'");
        return r.length > 0 ? r : null;
      },
      "alice's message in openwx_events",
    );
    assert.equal(post.headers['x-openwx-event-id'], ev.event_id, 'the event log row and the POST carry one event id');
    const { media_data: _none, ...posted } = post.json;
    assert.deepEqual(ev.report, posted, 'the event is the exact post_api body');
    const msgId = String(post.json.id).split(':')[0];
    assert.equal((await rows(url, "SELECT peer FROM openwx_messages WHERE client = 'alice' AND msg_id = $1", [msgId])).length, 1, 'the history is in PostgreSQL');
    await waitFor(async () => (await rows(url, "SELECT 1 FROM openwx_outbox WHERE client = 'alice'")).length === 0, 'the delivered row deleted from the PostgreSQL outbox');

    // bob has no post_api: nothing in the outbox, but his reports are in the event log.
    await waitFor(async () => (await rows(url, "SELECT 1 FROM openwx_events WHERE client = 'bob' AND report->>'content' = 'to bob'")).length === 1, "bob's message in openwx_events");
    assert.equal((await rows(url, "SELECT 1 FROM openwx_outbox WHERE client = 'bob'")).length, 0);

    // A sent message is revoked by its bare MsgID: the history (its chat, its LocalID) is read from PostgreSQL.
    const sent = await c1.call('send_friend_message', { client: 'alice', displayname: 'Ann', content: 'take it back' }, 'form');
    assert.equal(sent.json.code, 0, sent.text);
    const sentId = String(sent.json.id).split(':')[0]!;
    await waitFor(async () => (await rows(url, "SELECT 1 FROM openwx_messages WHERE client = 'alice' AND msg_id = $1 AND class = 'send'", [sentId])).length === 1, 'the sent message in the history');
    const revoked = await c1.call('revoke_message', { client: 'alice', id: sentId });
    assert.deepEqual([revoked.json.code, revoked.json.status], [0, 'revoke success'], revoked.text);

    // The data folder's SQLite holds none of it.
    const local = c1.host.db!;
    assert.equal((local.prepare('SELECT count(*) AS n FROM messages').get() as { n: number }).n, 0);
    assert.equal((local.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n, 0);
  } finally {
    await c1.close();
    await sb.close();
    await receiver.stop();
  }
});
