// The real server lists a chatroom member who is the viewer's friend under the viewer's remark name: the captured
// webwxbatchgetcontact MemberList in wechaty/wechaty#104 carries the remark in NickName. A stranger keeps their own
// nickname. (An earlier change here wrongly "fixed" this to the member's own nickname.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loggedIn, sandbox } from '../helpers/sandbox.ts';

test('group member NickName: the remark name for a friend with one, the own nickname otherwise', async (t) => {
  const sb = await sandbox();
  t.after(() => sb.close());
  const { client } = await loggedIn(sb);
  const contacts = await client.allContacts();
  const zhang = contacts.find((c: any) => c.NickName === '张伟');
  assert.ok(zhang, 'the friend 张伟 is a contact');
  assert.equal(zhang.RemarkName, '老张');
  const rooms = contacts.filter((c: any) => c.UserName.startsWith('@@'));
  const batch = await client.batch(rooms.map((r: any) => ({ UserName: r.UserName, EncryChatRoomId: '' })));
  const members = batch.ContactList.flatMap((g: any) => g.MemberList);
  const entry = members.find((m: any) => m.UserName === zhang.UserName);
  assert.ok(entry, '张伟 is a member of a group');
  assert.equal(entry.NickName, '老张');
  assert.equal(entry.DisplayName, '大哥');
  const friendIds = new Set(contacts.map((c: any) => c.UserName));
  const stranger = members.find((m: any) => !friendIds.has(m.UserName) && m.NickName);
  if (stranger) assert.ok(!stranger.NickName.startsWith('备注'), 'strangers carry their own nickname');
});
