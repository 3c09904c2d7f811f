// Regression: chatroom MemberList entries carried a friend's RemarkName as the member's NickName. Remark names
// are the viewer's private labels; a member entry names the member by their own nickname.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loggedIn, sandbox } from '../helpers/sandbox.ts';

test('group members are listed under their own nickname, not the viewer remark name', async (t) => {
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
  assert.equal(entry.NickName, '张伟');
  assert.equal(entry.DisplayName, '大哥');
});
