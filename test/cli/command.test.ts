/**
 * The real `openwx` command (bin/openwx.js on dist/): `openwx sandbox` takes its own --port/--host;
 * bridge options before it are refused
 * (split from one file so that each stays well inside the runner's per-file time limit on a loaded machine.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCommand, startSandboxCommand } from './real-command.ts';
import { WxTestClient } from '../helpers/wx-test-client.ts';
import { Path } from '../../src/wire/paths.ts';

test('openwx sandbox --host H --port N listens on H:N (the bridge\'s own --host/--port do not take them)', async () => {
  const { cmd, url } = await startSandboxCommand();
  try {
    const state = (await (await fetch(`${url}/__sandbox/state`)).json()) as { login: string; friends: number };
    assert.equal(state.login, 'offline');
    assert.ok(state.friends > 0);
    cmd.child.kill('SIGTERM');
    assert.equal(await cmd.exited, 0);
  } finally {
    cmd.kill();
  }
});

test('bridge options given before "sandbox" are refused with a hint, not silently dropped', async () => {
  const cmd = startCommand(['--port', '5031', 'sandbox', '--port', '0']);
  assert.equal(await cmd.exited, 1);
  assert.match(cmd.err(), /--port given before "sandbox": options there belong to the bridge; put sandbox options after it/);
  assert.equal(cmd.out(), '');
});

test('openwx sandbox --max-stored-messages N: each session keeps only the N newest messages the client acknowledged', async () => {
  const { cmd, url } = await startSandboxCommand(['--max-stored-messages', '3']);
  try {
    const client = new WxTestClient(url);
    const init = await client.login(() => undefined); // --auto-login 0 confirms the QR
    assert.equal(init.BaseResponse.Ret, 0);
    const r = await fetch(`${url}/__sandbox/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'image', from: '王芳', count: 6 }) });
    const { msgIds } = (await r.json()) as { msgIds: string[] };
    assert.equal(msgIds.length, 6);
    const got: string[] = [];
    for (let i = 0; i < 10 && got.length < 6; i++) got.push(...(await client.sync()).AddMsgList.filter((m: any) => m.MsgType === 3).map((m: any) => m.MsgId));
    assert.deepEqual(got, msgIds, 'every message delivered (queued ones are never dropped)');
    await client.sync(); // its SyncKey acknowledges them
    const image = async (id: string) => (await client.req('page', `${Path.getMsgImg}?&MsgID=${id}&skey=${encodeURIComponent(client.keys!.skey!)}`)).body.length;
    assert.equal(await image(msgIds[0]!), 0, 'the oldest acknowledged image is gone');
    assert.equal(await image(msgIds[2]!), 0);
    assert.ok((await image(msgIds[3]!)) > 0, 'the 3 newest are kept');
    assert.ok((await image(msgIds[5]!)) > 0);
  } finally {
    cmd.kill();
  }
});

test('openwx sandbox --max-stored-messages 0 is refused with a one-line error', async () => {
  const cmd = startCommand(['sandbox', '--port', '0', '--max-stored-messages', '0']);
  assert.equal(await cmd.exited, 1);
  assert.match(cmd.err(), /--max-stored-messages must be between 1 and/);
});
