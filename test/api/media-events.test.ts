import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startStack, type Stack } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { sniffImageType } from '../../src/api/routes/media.ts';

let s: Stack;
let jpg: string;
before(async () => {
  s = await startStack({ openwx: { checkEventTimeoutMs: 3_000 } });
  jpg = join(s.mediaDir, 'photo.jpg');
  writeFileSync(jpg, Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(500, 1), Buffer.from([0xff, 0xd9])]));
});
after(() => s.close());

function isImage(r: { status: number; headers: Record<string, unknown>; body: Buffer }): void {
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-type']), /^image\/(jpeg|png|gif|webp)$/);
  assert.equal(String(r.headers['content-type']), sniffImageType(r.body, 'none'));
  assert.ok(r.body.length > 50);
  assert.equal(r.headers['cache-control'], 'max-age=3600');
  assert.ok(Date.parse(String(r.headers['expires'])) > Date.now() + 3000_000);
  assert.ok(r.headers['last-modified']);
}

test('get_avatar: a friend (by id and by markname), the user, a group, a member — image bytes with cache headers', async () => {
  const gid = s.groupId('相亲相爱一家人');
  const member = s.client.groups().find((g) => g.id === gid)!.member.find((m) => !s.client.friend(m.id) && m.id !== s.client.user()!.id)!;
  for (const p of [{ id: s.friendId('张伟') }, { markname: '老张' }, { id: s.client.user()!.id }, { id: gid }, { group_id: gid, id: member.id }]) {
    isImage(await s.call('get_avatar', p));
  }
  isImage(await s.call('get_avatar', { id: s.friendId('李娜🌸') }, 'form'));
});

test('get_avatar: unknown object is JSON code 100, not an image and not an empty 503', async () => {
  const r = await s.call('get_avatar', { id: '@nobody' });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { id: null, code: 100, status: 'object not found' });
  const m = await s.call('get_avatar', { group_id: s.groupId('相亲相爱一家人'), id: '@nobody' });
  assert.equal(m.json.code, 100);
});

test('get_avatar: an avatar WeChat does not deliver is HTTP 404 JSON code 201, at once', async () => {
  s.sb.handle.fault({ endpoint: 'webwxgeticon', status: 500, times: 10 });
  try {
    const r = await s.call('get_avatar', { id: s.friendId('王芳') });
    assert.equal(r.status, 404);
    assert.match(String(r.headers['content-type']), /application\/json/);
    assert.equal(r.json.code, 201);
    assert.match(r.json.status, /^avatar not available: /);
  } finally {
    // Use up the remaining faults so later avatar fetches work again.
    await waitFor(async () => (await s.call('get_avatar', { id: s.friendId('王芳') })).status === 200, 'faults used up');
  }
});

test('sniffImageType', () => {
  assert.equal(sniffImageType(Buffer.from('GIF89a....'), 'x'), 'image/gif');
  assert.equal(sniffImageType(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0]), 'x'), 'image/png');
  assert.equal(sniffImageType(Buffer.from([0xff, 0xd8, 0xff, 0xdb]), 'x'), 'image/jpeg');
  assert.equal(sniffImageType(Buffer.from('????'), 'image/bmp'), 'image/bmp');
  assert.equal(sniffImageType(Buffer.from('????'), 'text/html'), 'image/jpeg');
});

test('upload_media by path, then send by media_id (no second upload)', async () => {
  const up = await s.call('upload_media', { media_path: jpg });
  assert.equal(up.json.code, 0, JSON.stringify(up.json));
  assert.equal(up.json.status, 'success');
  assert.match(up.json.media_id, /^.+:3$/);
  assert.equal(up.json.media_type, 'image');
  assert.equal(up.json.media_ext, 'jpg');
  assert.equal(Number(up.json.media_size), 506);
  const sent = await s.call('send_friend_message', { id: s.friendId('张伟'), media_id: up.json.media_id });
  assert.equal(sent.json.code, 0, JSON.stringify(sent.json));
  assert.equal(s.sb.handle.sent().find((x) => x.MsgID === sent.json.msg_id)?.MediaId, up.json.media_id.split(':')[0]);
});

test('upload_media with multipart media_data bytes, and with base64 in JSON', async () => {
  const bytes = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(300, 65)]);
  const file = new File([bytes], 'report.pdf', { type: 'application/pdf' });
  const r = await s.call('upload_media', { media_data: file }, 'multipart');
  assert.equal(r.json.code, 0, JSON.stringify(r.json));
  assert.equal(r.json.media_name, 'report.pdf');
  assert.equal(Number(r.json.media_size), bytes.length);
  const j = await s.call('upload_media', { media_data: bytes.toString('base64'), media_name: 'b.pdf' }, 'json');
  assert.equal(j.json.code, 0, JSON.stringify(j.json));
});

test('upload_media errors answer at once with a non-zero code', async () => {
  const none = await s.call('upload_media', {});
  assert.equal(none.status, 400);
  const missing = await s.call('upload_media', { media_path: join(s.mediaDir, 'nope.jpg') });
  assert.equal(missing.json.code, -1);
  assert.equal(missing.json.media_id, null);
  assert.match(missing.json.status, /^invalid media/);
  const notB64 = await s.call('upload_media', { media_data: '***' }, 'json');
  assert.equal(notB64.json.code, -1);
});

/** Empties the queue of what earlier tests put there (sent messages are reported too). */
async function drain(): Promise<void> {
  if (s.api.events.size > 0) await s.call('check_event');
}

test('check_event: queued items are returned at once; an empty poll waits and answers []', async () => {
  await drain();
  s.sb.handle.inject({ type: 'text', from: '张伟', content: '排队 1' });
  s.sb.handle.inject({ type: 'text', from: '张伟', content: '排队 2' });
  await waitFor(() => s.api.events.size >= 2, 'two queued');
  const r = await s.call('check_event');
  assert.deepEqual(r.json.map((x: any) => x.content), ['排队 1', '排队 2']);
  assert.equal(r.json[0].post_type, 'receive_message');
  const t0 = Date.now();
  const empty = await s.call('check_event', {}, 'form');
  assert.deepEqual(empty.json, []);
  assert.ok(Date.now() - t0 >= 2_900);
});

test('check_event with two pollers: each message goes to exactly one of them', async () => {
  await drain();
  const a = s.call('check_event');
  const b = s.call('check_event');
  await waitFor(() => s.api.events.waiting === 2, 'two pollers waiting');
  s.sb.handle.inject({ type: 'text', from: '张伟', content: '给一个' });
  s.sb.handle.inject({ type: 'text', from: '李娜🌸', content: '给另一个' });
  const [ra, rb] = await Promise.all([a, b]);
  assert.equal(ra.json.length, 1);
  assert.equal(rb.json.length, 1);
  assert.deepEqual([ra.json[0].content, rb.json[0].content].sort(), ['给一个', '给另一个'].sort());
  assert.ok(!ra.json.includes(null) && !rb.json.includes(null));
});

test('check_event queues contact events but not login/state events', async () => {
  await drain();
  s.sb.handle.contacts({ op: 'add_friend', nickName: '新朋友' });
  await waitFor(() => s.api.events.size >= 1, 'event queued');
  const r = await s.call('check_event');
  const ev = r.json.find((x: any) => x.post_type === 'event');
  assert.equal(ev.event, 'new_friend');
  assert.equal(ev.params[0].name, '新朋友');
  assert.ok(!r.json.some((x: any) => ['login', 'state_change', 'input_qrcode'].includes(x.event)));
});
