import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startStack, type Stack } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait-for.ts';
import type { Received } from '../helpers/receiver.ts';

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(300, 9)]);

let s: Stack;
let img: Server;
let imgUrl: string;
before(async () => {
  img = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'image/png' });
    res.end(PNG);
  });
  await new Promise<void>((r) => img.listen(0, '127.0.0.1', r));
  imgUrl = `http://127.0.0.1:${(img.address() as AddressInfo).port}/pic.png`;
  // The reply media comes from a local server: loopback URLs are refused unless allowed (docs/security.md).
  s = await startStack({ postApi: true, client: { allowPrivateMediaUrls: true } });
  writeFileSync(join(s.mediaDir, 'reply.png'), PNG);
});
after(async () => {
  await s.close();
  await new Promise<void>((r) => img.close(() => r()));
});

const posts = () => s.receiver!.received.map((r) => r.json);
const find = (pred: (j: any) => boolean, what: string) => waitFor(() => posts().find(pred), what);

test('login and state events are posted from the start', async () => {
  const login = await find((j) => j.post_type === 'event' && j.event === 'login', 'login event');
  assert.deepEqual(login.params, [1]);
  await find((j) => j.event === 'state_change' && j.params[1] === 'running', 'state_change to running');
  const qr = await find((j) => j.event === 'input_qrcode', 'input_qrcode');
  assert.equal(typeof qr.params[0], 'string');
  assert.match(qr.params[1], /^[A-Za-z0-9+/=\n]+$/);
  const r = s.receiver!.received.find((x) => x.json?.event === 'login')!;
  assert.match(String(r.headers['content-type']), /^application\/json/);
});

test('every received message type is posted with Mojo fields', async () => {
  const types = ['text', 'image', 'voice', 'video', 'emoticon', 'file', 'link', 'card', 'transfer', 'location'] as const;
  for (const type of types) {
    s.sb.handle.inject({ type, from: '王芳', content: type === 'card' ? '赵磊' : `类型 ${type}`, title: '标题', url: 'https://example.com/x', fileName: 'a.txt' });
  }
  const got = await waitFor(() => {
    const mine = posts().filter((j) => j.post_type === 'receive_message' && j.sender === '王芳');
    return mine.length >= types.length ? mine : null;
  }, 'all message types posted', 20_000);
  for (const j of got) {
    assert.equal(j.class, 'recv');
    assert.equal(j.type, 'friend_message');
    assert.equal(j.sender_id, s.friendId('王芳'));
    assert.equal(j.receiver_id, s.client.user()!.id);
    assert.equal(j.receiver, '小明同学');
    assert.equal(typeof j.id, 'string');
    assert.equal(typeof j.time, 'number');
  }
  const formats = new Set(got.map((j) => j.format));
  for (const f of ['text', 'media', 'app', 'card', 'payment']) assert.ok(formats.has(f), `format ${f} in ${[...formats]}`);
  const image = got.find((j) => j.media_type === 'image');
  assert.ok(image, 'an image message');
  assert.match(image.media_data, /^[A-Za-z0-9+/=\n]+\n$/, 'base64 media_data, MIME style');
  assert.ok(Buffer.from(image.media_data.replace(/\n/g, ''), 'base64').length > 0);
});

test('group messages and group notices carry group_* and sender_* fields', async () => {
  s.sb.handle.inject({ type: 'text', group: '相亲相爱一家人', from: '张伟', content: '群消息来了' });
  s.sb.handle.inject({ type: 'system', group: '相亲相爱一家人', content: '"张伟"修改群名为"相亲相爱一家人"' });
  const gm = await find((j) => j.content === '群消息来了', 'group message');
  assert.equal(gm.type, 'group_message');
  assert.equal(gm.group, '相亲相爱一家人');
  assert.equal(gm.group_id, s.groupId('相亲相爱一家人'));
  assert.equal(gm.sender_id, s.friendId('张伟'));
  assert.ok('sender_name' in gm && 'receiver_name' in gm && 'group_name' in gm);
  const notice = await find((j) => j.type === 'group_notice', 'group notice');
  assert.equal(notice.group_id, gm.group_id);
  assert.ok(!('sender' in notice));
});

test('sent messages are posted as send_message (API sends and phone sends)', async () => {
  const r = await s.call('send_friend_message', { markname: '老张', content: 'API 发的' });
  const sm = await find((j) => j.post_type === 'send_message' && j.content === 'API 发的', 'send_message report');
  assert.equal(sm.class, 'send');
  assert.equal(sm.receiver_id, s.friendId('张伟'));
  // Mojo's id of a sent message is `<MsgID>:<ToUserName>`, the `id` the send answered.
  assert.equal(sm.id, r.json.id);
  s.sb.handle.inject({ type: 'text', from: s.client.user()!.name, to: '张伟', content: '手机上发的' });
  const phone = await find((j) => j.content === '手机上发的', 'phone-sent report');
  assert.equal(phone.post_type, 'send_message');
});

test('a {"reply"} answer replies in the same chat (friend and group)', async () => {
  s.receiver!.answer = (r: Received) =>
    r.json?.content === '问个问题' ? { json: { reply: '回答你', code: 0 } } : r.json?.content === '群里问' ? { json: { reply: '群里答' } } : { text: 'ok' };
  s.sb.handle.inject({ type: 'text', from: '陈静', content: '问个问题' });
  await waitFor(() => s.sb.handle.sent().find((x) => x.Content === '回答你' && x.toNickName === '陈静'), 'friend reply');
  s.sb.handle.inject({ type: 'text', group: '技术交流群🚀', from: '陈静', content: '群里问' });
  const g = await waitFor(() => s.sb.handle.sent().find((x) => x.Content === '群里答'), 'group reply');
  assert.equal(g.ToUserName, s.groupId('技术交流群🚀'));
});

test('a {"media"} answer replies with an http(s) image or a local file inside the media folders; outside is refused', async () => {
  const before = s.client.user() && s.sb.handle.sent().length;
  s.receiver!.answer = (r: Received) =>
    r.json?.content === '要图' ? { json: { reply: '给你图', media: imgUrl } } : r.json?.content === '本地图' ? { json: { media: join(s.mediaDir, 'reply.png') } } : r.json?.content === '越界' ? { json: { media: '/etc/hostname' } } : { text: 'ok' };
  s.sb.handle.inject({ type: 'text', from: '赵磊', content: '要图' });
  await waitFor(() => s.sb.handle.sent().filter((x) => x.toNickName === '赵磊').length >= 2, 'text + media reply');
  const toZhao = s.sb.handle.sent().filter((x) => x.toNickName === '赵磊');
  assert.equal(toZhao[0]!.Content, '给你图');
  assert.ok(toZhao[1]!.MediaId, 'media reply sent');
  s.sb.handle.inject({ type: 'text', from: '赵磊', content: '本地图' });
  await waitFor(() => s.sb.handle.sent().filter((x) => x.toNickName === '赵磊').length >= 3, 'local media reply');
  const failures = s.api.reporter.stats.replyFailures;
  s.sb.handle.inject({ type: 'text', from: '赵磊', content: '越界' });
  await waitFor(() => s.api.reporter.stats.replyFailures > failures, 'outside file refused');
  assert.equal(s.sb.handle.sent().filter((x) => x.toNickName === '赵磊').length, 3);
  assert.ok(before !== null);
});

test('replies to our own replies never trigger again (no self-reply loop)', async () => {
  // This receiver answers every send_message with a reply: Mojo looped forever here.
  s.receiver!.answer = (r: Received) => (r.json?.post_type === 'send_message' && r.json.receiver === '杨洋😀' ? { json: { reply: '自动追加' } } : { text: 'ok' });
  const ignored = s.api.reporter.stats.ownRepliesIgnored;
  await s.call('send_friend_message', { displayname: '杨洋😀', content: '起点' });
  await waitFor(() => s.api.reporter.stats.ownRepliesIgnored > ignored, 'own reply ignored', 15_000);
  const toYang = s.sb.handle.sent().filter((x) => x.toNickName === '杨洋😀').map((x) => x.Content);
  assert.deepEqual(toYang, ['起点', '自动追加']);
  s.receiver!.answer = () => ({ text: 'ok' });
});

test('new_friend events are posted with the friend object', async () => {
  s.sb.handle.contacts({ op: 'add_friend', nickName: '上报朋友' });
  const ev = await find((j) => j.event === 'new_friend' && j.params[0]?.name === '上报朋友', 'new_friend');
  assert.equal(ev.post_type, 'event');
  assert.equal(typeof ev.params[0].id, 'string');
});

test('reports keep their order', async () => {
  for (let i = 0; i < 8; i++) s.sb.handle.inject({ type: 'text', from: '李娜🌸', content: `顺序 ${i}` });
  const got = await waitFor(() => {
    const m = posts().filter((j) => typeof j.content === 'string' && j.content.startsWith('顺序 '));
    return m.length === 8 ? m : null;
  }, 'ordered reports');
  assert.deepEqual(got.map((j) => j.content), [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `顺序 ${i}`));
});

test('post_media_data off, post_message_filter, post_event_list; a hanging post_api blocks nothing', async () => {
  const s2 = await startStack({
    postApi: true,
    openwx: { post_media_data: false, post_message_filter: { type: 'group_message' }, post_event_list: ['new_friend'], postTimeoutMs: 20_000 },
  });
  try {
    s2.sb.handle.inject({ type: 'image', group: '相亲相爱一家人', from: '张伟' });
    s2.sb.handle.inject({ type: 'text', from: '张伟', content: '私聊不报' });
    const gm = await waitFor(() => s2.receiver!.received.find((r) => r.json?.type === 'group_message')?.json, 'group image');
    assert.equal(gm.format, 'media');
    assert.ok(!('media_data' in gm));
    assert.ok(s2.api.reporter.stats.filtered >= 1);
    assert.ok(!s2.receiver!.received.some((r) => r.json?.content === '私聊不报'));
    assert.ok(!s2.receiver!.received.some((r) => r.json?.event === 'login'), 'login not in post_event_list');

    // post_api stops answering: the client keeps receiving, the API keeps answering, check_event keeps filling.
    s2.receiver!.answer = () => ({ hang: true });
    s2.sb.handle.inject({ type: 'text', group: '相亲相爱一家人', from: '张伟', content: '卡住 1' });
    s2.sb.handle.inject({ type: 'text', group: '相亲相爱一家人', from: '张伟', content: '卡住 2' });
    const queued = await waitFor(async () => {
      const r = await s2.call('check_event');
      return r.json.some((j: any) => j.content === '卡住 2') ? r.json : null;
    }, 'messages still flow while post_api hangs');
    assert.ok(queued.length >= 1);
    const u = await s2.call('get_user_info');
    assert.equal(u.json.name, '小明同学');
    assert.ok(s2.api.delivery!.depth >= 1);
  } finally {
    await s2.close();
  }
});
