/**
 * The OneBot access token never reaches a log line (trace level, every transport exercised, failures included:
 * refused tokens, a reverse WebSocket that cannot connect, a webhook that refuses), and bad frames get the spec's
 * error answers rather than a crash.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { startStack } from '../helpers/stack.ts';
import { Receiver } from '../helpers/receiver.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { Peer, get, post } from './helpers.ts';

const SECRET = 'ob-log-secret-9c1e5d';

test('the OneBot token is in no log line; bad WebSocket frames are answered 10001 / 1400', async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const hook = await new Receiver().start();
  hook.answer = () => ({ status: 500, text: 'no' });
  const s = await startStack({
    openwx: {
      logger: pino({ level: 'trace' }, sink),
      onebot: {
        accessToken: SECRET,
        reconnectBaseMs: 20,
        reconnectMaxMs: 50,
        v12: { http: true, ws: true, webhook: [hook.url], ws_reverse: ['ws://127.0.0.1:9/nothing-here'], heartbeat_ms: 0 },
        v11: { http: true, ws: true, http_post: [], ws_reverse: ['ws://127.0.0.1:9/nothing-here'], heartbeat_ms: 0, message_format: 'array' },
      },
    },
  });
  try {
    const auth = { authorization: `Bearer ${SECRET}` };
    assert.equal((await post(`${s.base}/onebot/v12/?access_token=${SECRET}x`, { action: 'get_status' })).status, 401);
    assert.equal((await get(`${s.base}/onebot/v11/get_status?access_token=${SECRET}`)).status, 200);
    const w12 = await Peer.connect(`${s.base.replace('http', 'ws')}/onebot/v12/ws?access_token=${SECRET}`);
    const w11 = await Peer.connect(`${s.base.replace('http', 'ws')}/onebot/v11/ws`, auth);
    w12.ws.send('not json');
    w11.ws.send('{"no":"action"}');
    assert.equal((await w12.next((m) => m.retcode === 10001, 'v12 bad frame')).status, 'failed');
    assert.equal((await w11.next((m) => m.retcode === 1400, 'v11 bad frame')).status, 'failed');
    s.sb.handle.inject({ type: 'text', from: '张伟', content: 'log me' });
    await w12.next((m) => m.alt_message === 'log me', 'event');
    // the refusing webhook was tried (and logged) at least twice
    await waitFor(() => lines.filter((l) => /onebot-v12-webhook/.test(l)).length >= 2, 'webhook failures logged');
    w12.close();
    w11.close();
  } finally {
    await s.close();
    await hook.stop();
  }
  assert.ok(lines.length > 0);
  for (const l of lines) assert.ok(!l.includes(SECRET), `token in a log line: ${l.slice(0, 200)}`);
});
