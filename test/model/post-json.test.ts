import { test } from 'node:test';
import assert from 'node:assert/strict';
import { friendFromRaw, groupFromRaw, userFromRaw } from '../../src/model/contacts.ts';
import { decodeMessage } from '../../src/model/decode.ts';
import { messagePostJson, mimeBase64, type PostLookups } from '../../src/model/post-json.ts';
import type { Message } from '../../src/model/types.ts';
import { joinGroupContent } from '../../src/wire/content.ts';
import { buildRawMessage } from '../../src/wire/rawmessage.ts';

const user = userFromRaw({ UserName: '@me', NickName: 'Me', Alias: 'meacc', Uin: 12345 });
const friend = friendFromRaw({ UserName: '@f1', NickName: '小灰2', RemarkName: 'xh', Alias: 'acc1', Uin: 0, Sex: 1 });
const group = groupFromRaw({ UserName: '@@g1', NickName: 'Perl群', MemberList: [
  { UserName: '@me', NickName: 'Me', DisplayName: '群里的我' }, { UserName: '@m1', NickName: 'member1', DisplayName: '' },
] as never }, '@me');
const lookups: PostLookups = {
  user: () => user,
  friend: (id) => (id === friend.id ? friend : undefined),
  group: (id) => (id === group.id ? group : undefined),
  member: (gid, id) => (gid === group.id ? group.member.find((m) => m.id === id) : undefined),
};
const decode = (s: Parameters<typeof buildRawMessage>[0]): Message => {
  const d = decodeMessage(buildRawMessage(s), { selfId: '@me' });
  assert.equal(d.kind, 'message');
  return (d as { message: Message }).message;
};

test('received friend text: the observed Mojo key set (plus nothing unexpected), falsy scalars as ""', () => {
  const m = decode({ MsgId: '1001', FromUserName: '@f1', ToUserName: '@me', MsgType: 1, Content: 'hi &lt;b&gt;', CreateTime: 1600000000 });
  const j = messagePostJson(m, lookups, 'receive_message');
  assert.deepEqual(j, {
    class: 'recv', content: 'hi <b>', format: 'text', id: '1001', post_type: 'receive_message', receiver: 'Me',
    receiver_account: 'meacc', receiver_id: '@me', receiver_markname: '', receiver_name: 'Me', receiver_uid: 12345,
    sender: 'xh', sender_account: 'acc1', sender_category: '好友', sender_id: '@f1', sender_markname: 'xh',
    sender_name: '小灰2', sender_uid: '', time: 1600000000, type: 'friend_message',
  });
});

test('phone-sent friend message: code 0 → "", receiver is the friend; media_code kept numeric', () => {
  const m = decode({ MsgId: '2', FromUserName: '@me', ToUserName: '@f1', MsgType: 3, CreateTime: 5 });
  const j = messagePostJson(m, lookups);
  assert.deepEqual([j.code, j.msg, j.info, j.source, j.receiver, j.sender, j.media_code, j.media_id, j.content],
    ['', '发送成功', '来自其他设备', 'outer', 'xh', 'Me', 3, '2:3', '[图片]']);
  assert.equal(j.sender_category, undefined);
});

test('group message: sender is the member, receiver is me in the group, group keys; unknown sender gets defaults', () => {
  const m = decode({ MsgId: '3', FromUserName: '@@g1', ToUserName: '@me', MsgType: 1, Content: joinGroupContent('@m1', 'yo'), CreateTime: 5 });
  const j = messagePostJson(m, lookups);
  assert.deepEqual([j.sender, j.sender_name, j.sender_markname, j.receiver, j.group, j.group_name, j.group_uid],
    ['member1', '', 'member1', '群里的我', 'Perl群', 'Perl群', '']);
  const u = decode({ MsgId: '4', FromUserName: '@@g1', ToUserName: '@me', MsgType: 1, Content: joinGroupContent('@ghost', 'x'), CreateTime: 5 });
  const ju = messagePostJson(u, lookups);
  assert.deepEqual([ju.sender, ju.sender_account, ju.sender_name, ju.sender_markname, ju.sender_uid], ['昵称未知', '', '', '', '']);
  const unknownGroup = decode({ MsgId: '5', FromUserName: '@@nope', ToUserName: '@me', MsgType: 1, Content: 'no prefix', CreateTime: 5 });
  const jg = messagePostJson(unknownGroup, lookups);
  assert.deepEqual([jg.group, jg.group_uid, jg.sender, jg.receiver], ['群名未知', '', '昵称未知', 'Me']);
});

test('group send omits receiver; group_notice omits sender; media_data is MIME base64', () => {
  const s = decode({ MsgId: '6', FromUserName: '@me', ToUserName: '@@g1', MsgType: 1, Content: 'x', CreateTime: 5 });
  const js = messagePostJson(s, lookups);
  assert.equal('receiver' in js, false);
  assert.equal(js.sender, '群里的我');
  const n = decode({ MsgId: '7', FromUserName: '@@g1', ToUserName: '@me', MsgType: 10000, Content: 'tip', CreateTime: 5 });
  const jn = messagePostJson(n, lookups);
  assert.equal('sender' in jn, false);
  assert.equal(jn.type, 'group_notice');
  const data = Buffer.alloc(100, 7);
  const jm = messagePostJson({ ...s, media_data: data }, lookups);
  assert.equal(jm.media_data, mimeBase64(data));
  assert.equal((jm.media_data as string).split('\n')[0]!.length, 76);
  assert.ok((jm.media_data as string).endsWith('\n'));
  assert.deepEqual(Buffer.from(jm.media_data as string, 'base64'), data);
});

test('mimeBase64: 76-character lines ending in "\\n" at every boundary (line, step of lines, last partial line), subarrays too', () => {
  // Perl's encode_base64, spelled the obvious way.
  const perl = (d: Uint8Array) => {
    const b = Buffer.from(d).toString('base64');
    return b === '' ? '' : b.replace(/.{1,76}/g, '$&\n');
  };
  assert.equal(mimeBase64(Buffer.from('hello')), 'aGVsbG8=\n');
  for (const n of [0, 1, 2, 3, 56, 57, 58, 114, 115, 57 * 1024 - 1, 57 * 1024, 57 * 1024 + 1, 57 * 2048 + 5, 200_003]) {
    const d = Buffer.alloc(n + 2);
    for (let i = 0; i < d.length; i++) d[i] = (i * 131 + 7) & 0xff;
    const whole = d.subarray(0, n);
    const inner = new Uint8Array(d.buffer, d.byteOffset + 1, n);
    assert.equal(mimeBase64(whole), perl(whole), `${n} bytes`);
    assert.equal(mimeBase64(inner), perl(inner), `${n} bytes at offset 1`);
  }
});
