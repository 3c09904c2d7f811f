import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Weixin, type OpenwxHandle } from '../../src/index.ts';
import { startSandbox } from '../../src/sandbox/index.ts';
import { Receiver } from '../helpers/receiver.ts';
import { callApi, silent } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait-for.ts';

test('the library launcher: load("ShowMsg"), load("Openwx", {listen, post_api}), run()', async () => {
  const sb = await startSandbox({ port: 0, chatter: false, longPollMs: 300, autoLoginMs: 30 });
  const receiver = await new Receiver().start();
  const dataDir = mkdtempSync(join(tmpdir(), 'owx-plugin-'));
  const client = new Weixin({ wechatOrigin: sb.url, dataDir, showQrInTerminal: false, sendIntervalMs: 0, logger: silent, output: null });
  let handle: OpenwxHandle | null = null;
  try {
    client.load('ShowMsg');
    client.load('Openwx', { listen: [{ host: '127.0.0.1', port: 0 }], post_api: receiver.url, onStart: (h: OpenwxHandle) => (handle = h) });
    void client.run().catch(() => undefined);
    const h = await waitFor(() => handle, 'Openwx started');
    await waitFor(() => client.state === 'running', 'logged in');
    const r = await callApi(h.urls[0]!, 'send_friend_message', { displayname: 'echo', content: 'plugin' });
    assert.equal(r.json.code, 0);
    await waitFor(() => receiver.received.some((x) => x.json?.post_type === 'receive_message' && x.json.content === 'plugin'), 'echo reported');
    assert.ok(receiver.received.some((x) => x.json?.event === 'login'));
  } finally {
    await client.stop('test done');
    await waitFor(() => handle === null || !handle.app.server.listening, 'API closed with the client');
    await receiver.stop();
    await sb.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('load("Openwx") on a busy port stops the client', async () => {
  const sb = await startSandbox({ port: 0, chatter: false, longPollMs: 300, autoLoginMs: 30 });
  const dataDir = mkdtempSync(join(tmpdir(), 'owx-plugin-'));
  const a = new Weixin({ wechatOrigin: sb.url, dataDir, showQrInTerminal: false, logger: silent, output: null });
  let first: OpenwxHandle | null = null;
  a.load('Openwx', { listen: { host: '127.0.0.1', port: 0 }, onStart: (h: OpenwxHandle) => (first = h) });
  void a.run().catch(() => undefined);
  try {
    const h = await waitFor(() => first, 'first API');
    const port = Number(new URL(h.urls[0]!).port);
    const b = new Weixin({ wechatOrigin: sb.url, dataDir: join(dataDir, 'b'), showQrInTerminal: false, logger: silent, output: null });
    b.load('Openwx', { listen: { host: '127.0.0.1', port } });
    void b.run().catch(() => undefined);
    await waitFor(() => b.state === 'stop', 'second client stopped');
  } finally {
    await a.stop('test done');
    await sb.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
