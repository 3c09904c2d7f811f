import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, type Stack } from '../helpers/stack.ts';
import { waitFor, nextEvent } from '../helpers/wait-for.ts';

let s: Stack;
before(async () => {
  s = await startStack();
});
after(() => s.close());

test('consult: the echo friend answers', async () => {
  const r = await s.call('consult', { displayname: 'echo', content: '你好吗' });
  assert.equal(r.json.code, 0, JSON.stringify(r.json));
  assert.equal(r.json.status, '发送成功');
  assert.equal(r.json.reply, '你好吗');
  assert.equal(r.json.reply_status, 'success');
  assert.equal(typeof r.json.reply_id, 'string');
  assert.equal(r.json.id, `${r.json.msg_id}:${s.friendId('echo')}`);
});

test('consult: the silent friend times out; other chats do not end the wait', async () => {
  const t0 = Date.now();
  const pending = s.call('consult', { markname: '', displayname: '刘强', content: '在吗', timeout: '1' });
  // Another friend talks meanwhile: Mojo cancelled the timer here and hung.
  await waitFor(() => s.sb.handle.sent().some((x) => x.Content === '在吗'), 'question sent');
  s.sb.handle.inject({ type: 'text', from: '张伟', content: '插话' });
  const r = await pending;
  assert.equal(r.json.code, 0);
  assert.equal(r.json.reply, null);
  assert.equal(r.json.reply_status, 'reply timeout');
  assert.equal(r.json.status, '发送成功');
  assert.ok(Date.now() - t0 >= 1000);
});

test('consult: not found, and nothing to ask', async () => {
  assert.equal((await s.call('consult', { id: '@nobody', content: 'x' })).json.code, 100);
  const r = await s.call('consult', { displayname: 'echo' });
  assert.equal(r.status, 400);
});

test('create_group, invite_friend, kick_group_member, set_group_displayname', async () => {
  const a = s.friendId('张伟');
  const b = s.friendId('李娜🌸');
  const c = s.friendId('王芳');
  const created = await s.call('create_group', { friends: `${a},${b}`, displayname: '新群' });
  assert.equal(created.json.code, 0, JSON.stringify(created.json));
  assert.equal(created.json.status, 'success');
  assert.match(created.json.group_id, /^@@/);
  const gid = created.json.group_id as string;
  await waitFor(() => s.client.group(gid), 'new group known');

  const inv = await s.call('invite_friend', { id: gid, friend: c }, 'form');
  assert.deepEqual(inv.json, { code: 0, status: 'success' });
  await waitFor(() => s.client.member(gid, c), 'invited member known');

  const kick = await s.call('kick_group_member', { id: gid, members: c }, 'json');
  assert.deepEqual(kick.json, { code: 0, status: 'success' });
  await waitFor(() => !s.client.member(gid, c), 'member removed');

  const ren = await s.call('set_group_displayname', { id: gid, new_displayname: '改名后的群' });
  assert.deepEqual(ren.json, { code: 0, status: 'success' });
  await waitFor(() => s.client.group(gid)?.name === '改名后的群', 'group renamed');
});

test('group route errors: empty lists (200), unknown ids (100), unknown group (100), empty new name (400)', async () => {
  const gid = s.groupId('相亲相爱一家人');
  assert.deepEqual((await s.call('create_group', { friends: '' })).json, { code: 200, status: 'friend id empty' });
  assert.deepEqual((await s.call('create_group', { friend: '@x' })).json, { code: 100, status: 'friend id @x not found' });
  assert.deepEqual((await s.call('invite_friend', { id: gid })).json, { code: 200, status: 'friend id empty' });
  assert.deepEqual((await s.call('invite_friend', { id: '@@none', friends: '@x' })).json, { id: null, code: 100, status: 'object not found' });
  assert.deepEqual((await s.call('kick_group_member', { id: gid, member: '@x' })).json, { code: 100, status: 'member id @x not found' });
  assert.deepEqual((await s.call('kick_group_member', { displayname: '相亲相爱一家人' })).json, { code: 200, status: 'member id empty' });
  const empty = await s.call('set_group_displayname', { id: gid, new_displayname: '' });
  assert.equal(empty.status, 400);
  assert.equal(empty.json.status, 'bad parameter: new_displayname: must not be empty');
  const missing = await s.call('set_group_displayname', { id: gid });
  assert.equal(missing.status, 400);
  assert.equal(missing.json.status, 'bad parameter: new_displayname: is required');
});

test('set_friend_markname and set_markname (friend and group member)', async () => {
  const id = s.friendId('王芳');
  assert.deepEqual((await s.call('set_friend_markname', { id, new_markname: '芳芳' })).json, { code: 0, status: 'success' });
  await waitFor(() => s.client.friend(id)?.markname === '芳芳', 'remark applied');
  assert.deepEqual((await s.call('set_markname', { markname: '芳芳', new_markname: '小芳' })).json, { code: 0, status: 'success' });
  await waitFor(() => s.client.friend(id)?.markname === '小芳', 'remark applied again');
  const gid = s.groupId('相亲相爱一家人');
  const members = s.client.groups().find((g) => g.id === gid)!.member;
  // A member who is also a friend: the remark applies.
  const zhang = s.friendId('张伟');
  assert.ok(members.some((m) => m.id === zhang));
  const m = await s.call('set_markname', { group_id: gid, id: zhang, new_markname: '张哥' });
  assert.deepEqual(m.json, { code: 0, status: 'success' });
  await waitFor(() => s.client.friend(zhang)?.markname === '张哥', 'member remark applied');
  // A stranger: WeChat refuses (Ret ≠ 0) → code 201 with a readable status, at once.
  const stranger = members.find((m) => !s.client.friend(m.id) && m.id !== s.client.user()!.id)!;
  const refused = await s.call('set_markname', { group_id: gid, id: stranger.id, new_markname: '浩子' });
  assert.equal(refused.json.code, 201);
  assert.match(refused.json.status, /^failure: WeChat answered Ret/);
  assert.deepEqual((await s.call('set_markname', { group_id: gid, id: '@none', new_markname: 'x' })).json, { id: null, code: 100, status: 'object not found' });
  assert.deepEqual((await s.call('set_markname', { group_id: '@@none', id: zhang, new_markname: 'x' })).json, { code: 100, status: 'group not found' });
  assert.equal((await s.call('set_friend_markname', { id: '@none', new_markname: 'x' })).json.code, 100);
  assert.equal((await s.call('set_friend_markname', { id })).status, 400);
});

test('stick: friend and group, pin and unpin; unknown id', async () => {
  assert.deepEqual((await s.call('stick', { id: s.friendId('张伟') })).json, { code: 0, status: 'success' });
  assert.deepEqual((await s.call('stick', { id: s.groupId('相亲相爱一家人'), op: '0' })).json, { code: 0, status: 'success' });
  assert.equal((await s.call('stick', { id: '@@none' })).json.code, 100);
  assert.equal((await s.call('stick', { id: s.friendId('张伟'), op: '2' })).status, 400);
});

test('make_friend: a group member; yourself (101); already a friend (101); unknown (100)', async () => {
  const gid = s.groupId('技术交流群🚀');
  const linyue = s.client.groups().find((g) => g.id === gid)!.member.find((m) => [m.markname, m.displayname].includes('林悦'))!;
  const ok = await s.call('make_friend', { id: linyue.id, verify: '你好，我是小明' });
  assert.deepEqual(ok.json, { code: 0, status: 'success' });
  assert.deepEqual((await s.call('make_friend', { id: s.client.user()!.id })).json, { code: 101, status: 'can not be yourself' });
  assert.deepEqual((await s.call('make_friend', { id: s.friendId('张伟') })).json, { code: 101, status: 'already a friend' });
  assert.deepEqual((await s.call('make_friend', { id: '@stranger' })).json, { code: 100, status: 'object not found' });
});

test('accept_friend_request with the friend_request event params', async () => {
  const ev = nextEvent<[string, string, string, string]>(s.client, 'friend_request');
  s.sb.handle.inject({ type: 'friend_request', from: '何杰', content: '加个好友' });
  const [id, displayname, , ticket] = await ev;
  const r = await s.call('accept_friend_request', { id, displayname, ticket });
  assert.deepEqual(r.json, { id, displayname, ticket, code: 0, status: 'success' });
  const missing = await s.call('accept_friend_request', { id });
  assert.equal(missing.status, 400);
  assert.equal(missing.json.status, 'bad parameter: ticket: is required');
});
