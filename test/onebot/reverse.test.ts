/**
 * Reverse WebSocket, both versions: openwx dials the app with the token and (v11) X-Self-ID, sends the connect /
 * lifecycle meta event and the heartbeat, answers actions, reconnects with backoff after the app went away, and
 * delivers the events of the outage from its bounded buffer.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';
import { startStack, type Stack } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { Peer, ReverseApp, TOKEN } from './helpers.ts';

let s: Stack;
let app12: ReverseApp;
let app11: ReverseApp;

before(async () => {
  app12 = await new ReverseApp().start();
  app11 = await new ReverseApp().start();
  s = await startStack({
    openwx: {
      onebot: {
        accessToken: TOKEN,
        reconnectBaseMs: 20,
        reconnectMaxMs: 200,
        reverseBufferMax: 3,
        v12: { http: false, ws: false, webhook: [], ws_reverse: [app12.url], heartbeat_ms: 100 },
        v11: { http: false, ws: false, http_post: [], ws_reverse: [app11.url], heartbeat_ms: 100, message_format: 'string' },
      },
    },
  });
});
after(async () => {
  await s.close();
  await app12.stop().catch(() => undefined);
  await app11.stop().catch(() => undefined);
});

test('reverse v12 and v11: handshake headers, meta events, heartbeat, message events, actions', async () => {
  await waitFor(() => app12.peers.length > 0 && app11.peers.length > 0, 'both apps dialled');
  const p12 = app12.peers[0]!;
  const p11 = app11.peers[0]!;
  assert.equal(p12.headers['authorization'], `Bearer ${TOKEN}`);
  assert.equal(p12.headers['x-onebot-version'], '12');
  assert.equal(p12.headers['sec-websocket-protocol'], '12.openwx', 'the spec\'s subprotocol is offered');
  assert.equal(p12.protocol, '12.openwx');
  assert.equal(p11.headers['sec-websocket-protocol'], undefined);
  assert.equal(p11.headers['authorization'], `Bearer ${TOKEN}`);
  assert.equal(p11.headers['x-client-role'], 'Universal');
  await p12.peer.next((m) => m.detail_type === 'connect', 'v12 connect');
  await p12.peer.next((m) => m.detail_type === 'heartbeat' && m.interval === 100, 'v12 heartbeat');
  const life = await p11.peer.next((m) => m.meta_event_type === 'lifecycle', 'v11 lifecycle');
  assert.equal(String(life.self_id), p11.headers['x-self-id']);
  await p11.peer.next((m) => m.meta_event_type === 'heartbeat', 'v11 heartbeat');

  s.sb.handle.inject({ type: 'text', from: '张伟', content: 'reverse [1]' });
  const e12 = await p12.peer.next((m) => m.type === 'message', 'v12 message');
  assert.equal(e12.alt_message, 'reverse [1]');
  const e11 = await p11.peer.next((m) => m.post_type === 'message', 'v11 message');
  assert.equal(e11.message, 'reverse &#91;1&#93;', 'string format: CQ-escaped');

  const r12 = await p12.peer.call('send_message', { detail_type: 'private', user_id: e12.user_id, message: [{ type: 'text', data: { text: 'r12' } }] });
  assert.equal(r12.status, 'ok', JSON.stringify(r12));
  const r11 = await p11.peer.call('send_private_msg', { user_id: e11.user_id, message: 'r11' });
  assert.equal(r11.status, 'ok', JSON.stringify(r11));
  assert.deepEqual(s.sb.handle.sent().slice(-2).map((x) => x.Content), ['r12', 'r11']);
});

test('reverse: reconnects with backoff after the app went away; the outage events arrive, bounded to the newest', async () => {
  const port = Number(new URL(app12.url).port);
  await app12.stop();
  // While it is down: 5 messages; the buffer keeps the newest 3.
  for (let i = 1; i <= 5; i++) s.sb.handle.inject({ type: 'text', from: '张伟', content: `down ${i}` });
  // v11 (still up) sees all five, so they were emitted while v12 was down
  await app11.peers[0]!.peer.next((m) => m.raw_message === 'down 5', 'v11 got the last');
  const wss = new WebSocketServer({ port, host: '127.0.0.1' });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const again = new Peer();
  wss.on('connection', (ws) => again.attach(ws));
  try {
    assert.equal((wss.address() as AddressInfo).port, port);
    await again.next((m) => m.detail_type === 'connect', 'reconnected');
    await again.next((m) => m.alt_message === 'down 5', 'newest event delivered');
    const texts = again.got.filter((m) => m.type === 'message').map((m) => m.alt_message);
    assert.deepEqual(texts, ['down 3', 'down 4', 'down 5']);
  } finally {
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
  }
});

test('reverse v12 to an app server that selects no subprotocol: dialled again with the header as a plain header, and it works', async () => {
  const plain = await new ReverseApp({ selectProtocol: false }).start();
  const t = await startStack({
    openwx: {
      onebot: {
        accessToken: TOKEN,
        reconnectBaseMs: 60_000,
        reconnectMaxMs: 60_000,
        v12: { http: false, ws: false, webhook: [], ws_reverse: [plain.url], heartbeat_ms: 0 },
      },
    },
  });
  try {
    // The first dial offered the subprotocol and was refused by the client's check; the second (at once, not after
    // the 60 s backoff) carries it as a header only.
    // The server completed both upgrades: the first was then dropped by openwx's client.
    await waitFor(() => plain.peers.length >= 2, 'the app got the second connection');
    assert.equal(plain.peers[0]!.headers['sec-websocket-protocol'], '12.openwx');
    const p = plain.peers[1]!;
    assert.equal(p.protocol, '');
    assert.equal(p.headers['sec-websocket-protocol'], '12.openwx');
    await p.peer.next((m) => m.detail_type === 'connect', 'v12 connect');
    t.sb.handle.inject({ type: 'text', from: '张伟', content: 'no subprotocol' });
    const e = await p.peer.next((m) => m.type === 'message', 'v12 message');
    assert.equal(e.alt_message, 'no subprotocol');
  } finally {
    await t.close();
    await plain.stop().catch(() => undefined);
  }
});
