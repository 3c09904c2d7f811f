import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startStack, type Stack, type Via } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait-for.ts';

let s: Stack;
let png: string;
before(async () => {
  s = await startStack();
  png = join(s.mediaDir, 'hello.png');
  writeFileSync(png, Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(200, 7)]));
});
after(() => s.close());

const sentTo = (nick: string) => s.sb.handle.sent().filter((r) => r.toNickName === nick);

test('send_friend_message by id, account-less markname, displayname; GET, form, JSON, multipart; Chinese content', async () => {
  const id = s.friendId('张伟');
  const cases: [Record<string, string>, Via][] = [
    [{ id, content: '你好 1' }, 'query'],
    [{ markname: '老张', content: '你好 2' }, 'form'],
    [{ displayname: '老张', content: '你好 3' }, 'json'],
    [{ id, content: '你好 4' }, 'multipart'],
  ];
  for (const [p, via] of cases) {
    const r = await s.call('send_friend_message', p, via);
    assert.equal(r.status, 200, via);
    assert.equal(r.json.code, 0, JSON.stringify(r.json));
    assert.equal(r.json.status, '发送成功');
    assert.equal(typeof r.json.msg_id, 'string');
    assert.equal(r.json.id, `${r.json.msg_id}:${id}`);
    const rec = s.sb.handle.sent().find((x) => x.MsgID === r.json.msg_id);
    assert.equal(rec?.Content, p.content);
  }
});

test('send_group_message by id and by displayname', async () => {
  const gid = s.groupId('相亲相爱一家人');
  const a = await s.call('send_group_message', { id: gid, content: '大家好' });
  assert.equal(a.json.code, 0);
  assert.equal(a.json.id, `${a.json.msg_id}:${gid}`);
  const b = await s.call('send_group_message', { displayname: '相亲相爱一家人', content: '群里好' }, 'form');
  assert.equal(b.json.code, 0);
  assert.equal(s.sb.handle.sent().find((x) => x.MsgID === b.json.msg_id)?.Content, '群里好');
});

test('unknown target: {"id":null,"code":100,"status":"object not found"}', async () => {
  for (const p of [{ id: '@nope', content: 'x' }, { markname: '没有', content: 'x' }, { content: 'x' }]) {
    const r = await s.call('send_friend_message', p);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { id: null, code: 100, status: 'object not found' });
  }
  const g = await s.call('send_group_message', { displayname: '没有', content: 'x' });
  assert.equal(g.json.code, 100);
});

test('nothing to send answers at once with HTTP 400', async () => {
  const r = await s.call('send_friend_message', { id: s.friendId('张伟') });
  assert.equal(r.status, 400);
  assert.deepEqual(r.json, { code: -1, status: 'bad parameter: content, media_path, media_id or media_data is required' });
  const e = await s.call('send_group_message', { id: s.groupId('相亲相爱一家人'), content: '' });
  assert.equal(e.status, 400);
});

test('bad media answers at once with code -1: missing file, outside the media folders, symlink out, bad scheme, unreachable URL', async () => {
  const id = s.friendId('张伟');
  const link = join(s.mediaDir, 'escape.txt');
  symlinkSync('/etc/hostname', link);
  for (const media_path of [join(s.mediaDir, 'missing.png'), '/etc/hostname', link, 'ftp://example.com/a.png']) {
    const r = await s.call('send_friend_message', { id, media_path });
    assert.equal(r.status, 200, media_path);
    assert.equal(r.json.code, -1, media_path);
    assert.match(r.json.status, /^invalid media: /, media_path);
    assert.equal(r.json.media_id, '');
  }
  // A port that refuses connections.
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  const t0 = Date.now();
  const r = await s.call('send_friend_message', { id, media_path: `http://127.0.0.1:${port}/a.png` });
  assert.equal(r.json.code, -1);
  assert.ok(r.json.status.length > 0);
  assert.ok(Date.now() - t0 < 10_000);
});

test('media send by local path returns media_id; reusing media_id does not upload again', async () => {
  const id = s.friendId('张伟');
  const r = await s.call('send_friend_message', { id, media_path: png });
  assert.equal(r.json.code, 0, JSON.stringify(r.json));
  assert.equal(r.json.status, '发送成功');
  assert.match(r.json.media_id, /^.+:\d+$/);
  const gid = s.groupId('技术交流群🚀');
  const again = await s.call('send_group_message', { id: gid, media_id: r.json.media_id });
  assert.equal(again.json.code, 0, JSON.stringify(again.json));
  const rec = s.sb.handle.sent().find((x) => x.MsgID === again.json.msg_id);
  assert.equal(rec?.MediaId, r.json.media_id.split(':')[0]);
});

test('content and media together: text first, then media; answer of the media send with text ids', async () => {
  const id = s.friendId('王芳');
  const r = await s.call('send_friend_message', { id, content: '看图', media_path: png });
  assert.equal(r.json.code, 0);
  assert.ok(r.json.media_id);
  assert.ok(r.json.text_msg_id);
  const mine = sentTo('王芳');
  assert.equal(mine.find((x) => x.MsgID === r.json.text_msg_id)?.Content, '看图');
});

test('async=1 answers at once and sends in the background; async=0 waits', async () => {
  const id = s.friendId('陈静');
  const r = await s.call('send_friend_message', { id, content: '后台发送', async: '1' });
  assert.deepEqual(r.json, { code: 0, status: 'request already in execution' });
  await waitFor(() => sentTo('陈静').some((x) => x.Content === '后台发送'), 'async send');
  const w = await s.call('send_friend_message', { id, content: '同步发送', async: '0' });
  assert.equal(w.json.status, '发送成功');
});

test('id=@all broadcasts to real friends only, paced by the send queue', async () => {
  const friends = s.client.friends().filter((f) => f.category === '好友');
  const r = await s.call('send_friend_message', { id: '@all', content: '群发通知' });
  assert.deepEqual(r.json, { id: '0', code: 0, status: 'request already executed', count: friends.length });
  await waitFor(() => s.sb.handle.sent().filter((x) => x.Content === '群发通知').length === friends.length, 'broadcast done');
  const got = s.sb.handle.sent().filter((x) => x.Content === '群发通知').map((x) => x.ToUserName);
  assert.ok(!got.includes('filehelper'));
  assert.equal(new Set(got).size, friends.length);
});

test('id=@all above broadcast_max is refused before anything is sent', async () => {
  const s2 = await startStack({ openwx: { broadcastMax: 2 } });
  try {
    const r = await s2.call('send_friend_message', { id: '@all', content: '太多了' });
    assert.equal(r.status, 400);
    assert.match(r.json.status, /^broadcast to \d+ friends exceeds the limit of 2/);
    assert.equal(s2.sb.handle.sent().length, 0);
  } finally {
    await s2.close();
  }
});

test('revoke_message: success, missing id, malformed id', async () => {
  const r = await s.call('send_friend_message', { id: s.friendId('张伟'), content: '撤回我' });
  const ok = await s.call('revoke_message', { id: r.json.id });
  assert.deepEqual(ok.json, { id: r.json.id, code: 0, status: 'revoke success' });
  await waitFor(() => s.sb.handle.sent().find((x) => x.MsgID === r.json.msg_id)?.revoked, 'revoked in the sandbox');
  const none = await s.call('revoke_message', {});
  assert.deepEqual(none.json, { id: null, code: -1, status: 'msg id not found' });
  const bad = await s.call('revoke_message', { id: '123' });
  assert.equal(bad.json.code, 201);
  assert.equal(bad.json.status, 'revoke failure');
  assert.equal(bad.json.id, '123');
});
