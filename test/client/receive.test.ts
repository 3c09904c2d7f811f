import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { account, sandbox, tempDir, testWorld } from './helpers.ts';
import { nextEvent } from '../helpers/wait-for.ts';
import type { Account } from '../../src/client/account.ts';
import type { Sandbox } from '../../src/sandbox/index.ts';
import type { Message } from '../../src/model/types.ts';

let sb: Sandbox;
let a: Account;
const tmp = tempDir();

before(async () => {
  sb = await sandbox({ world: testWorld() });
  a = account(sb, tmp.dir);
  await a.run();
});
after(async () => {
  await a.stop();
  await sb.close();
  tmp.cleanup();
});

async function inject(req: Record<string, unknown>, event: 'receive_message' | 'send_message' = 'receive_message'): Promise<Message> {
  const { msgIds } = sb.handle.inject(req as never);
  const [m] = await nextEvent<[Message]>(a, event, (m) => m.id === msgIds[0]);
  return m;
}

const friendId = (nick: string) => a.searchFriends({ name: nick })[0]!.id;
const groupId = (topic: string) => a.searchGroups({ name: topic })[0]!.id;

test('friend text: recv, sender/receiver ids, content decoded', async () => {
  const m = await inject({ type: 'text', from: 'Ann', content: 'hi <b> & 😀\nline' });
  assert.equal(m.class, 'recv');
  assert.equal(m.type, 'friend_message');
  assert.equal(m.format, 'text');
  assert.equal(m.sender_id, friendId('Ann'));
  assert.equal(m.receiver_id, a.user()!.id);
  assert.equal(m.content, 'hi <b> & 😀\nline');
});

test('group text: group id and sender member split from the content', async () => {
  const m = await inject({ type: 'text', from: 'Bob', group: 'Team', content: 'hello team' });
  assert.equal(m.type, 'group_message');
  assert.equal(m.group_id, groupId('Team'));
  assert.equal(a.member(m.group_id!, m.sender_id!)!.markname, 'Bob');
  assert.equal(m.content, 'hello team');
});

test('group system message is a group_notice', async () => {
  const m = await inject({ type: 'system', group: 'Team', content: 'Ann 邀请 Eve 加入了群聊' });
  assert.equal(m.type, 'group_notice');
  assert.equal(m.format, 'text');
});

for (const [type, mediaType] of [['image', 'image'], ['voice', 'voice'], ['video', 'video'], ['emoticon', 'emoticon'], ['file', 'file']] as const) {
  test(`${type}: media message with the media downloaded to the media folder`, async () => {
    const m = await inject({ type, from: 'Ann', ...(type === 'file' ? { fileName: 'report 1.pdf' } : {}) });
    assert.equal(m.format, 'media');
    assert.equal(m.media_type, mediaType);
    assert.equal(m.media_error, undefined, String(m.media_error));
    assert.ok(m.media_path && statSync(m.media_path).size > 0, 'media file on disk');
    assert.ok(m.media_path!.startsWith(a.options.mediaDir));
    assert.ok(Number(m.media_size) > 0);
    assert.ok(m.media_mime && m.media_ext);
    assert.match(m.content, /^\[.+\]\(.+\)$/);
    if (type === 'file') assert.equal(m.media_name, 'report 1.pdf');
  });
}

test('link, card, location, transfer, revoke decode to their formats', async () => {
  const link = await inject({ type: 'link', from: 'Ann', title: 'A page', url: 'https://example.com/x' });
  assert.equal(link.format, 'app');
  assert.equal(link.app_title, 'A page');
  assert.equal(link.app_url, 'https://example.com/x');
  const card = await inject({ type: 'card', from: 'Ann', content: 'Bob' });
  assert.equal(card.format, 'card');
  const loc = await inject({ type: 'location', from: 'Ann', content: '深圳市南山区' });
  assert.ok(String(loc.content).startsWith('[位置]'), loc.content);
  const pay = await inject({ type: 'transfer', from: 'Ann' });
  assert.equal(pay.format, 'payment');
  const text = await inject({ type: 'text', from: 'Ann', content: 'oops' });
  const rev = await inject({ type: 'revoke', from: 'Ann', msgId: text.id });
  assert.equal(rev.format, 'revoke');
  assert.equal(rev.revoke_id, text.id);
});

test('messages sent from the phone arrive as class send (source outer)', async () => {
  const m = await inject({ type: 'text', from: a.user()!.name, to: 'Ann', content: 'from my phone' }, 'send_message');
  assert.equal(m.class, 'send');
  assert.equal(m.source, 'outer');
  assert.equal(m.receiver_id, friendId('Ann'));
  const g = await inject({ type: 'text', from: a.user()!.name, group: 'Team', content: 'phone to group' }, 'send_message');
  assert.equal(g.type, 'group_message');
  assert.equal(g.group_id, groupId('Team'));
});

test('friend request: friend_request event with a ticket; accepting it makes a new friend', async () => {
  const ev = nextEvent<[string, string, string, string]>(a, 'friend_request');
  sb.handle.inject({ type: 'friend_request', from: 'Eve', content: 'I am Eve' } as never);
  const [id, name, verify, ticket] = await ev;
  assert.ok(id && ticket);
  assert.equal(name, 'Eve');
  assert.equal(verify, 'I am Eve');
  const added = nextEvent(a, 'new_friend', (f: { name: string }) => f.name === 'Eve');
  await a.acceptFriendRequest(id, ticket);
  await added;
});

test('a message in a group the client does not know yet fetches the group first (new_group)', async () => {
  const r = sb.handle.contacts({ op: 'add_group', topic: 'Fresh', members: ['Ann', 'Bob'], saved: false } as never);
  const ng = nextEvent(a, 'new_group', (g: { name: string }) => g.name === 'Fresh');
  const m = await inject({ type: 'text', from: 'Ann', group: 'Fresh', content: 'welcome' });
  await ng;
  assert.equal(a.group(m.group_id!)!.name, 'Fresh');
  assert.ok(r.ok);
});

test('a failed media download still delivers the message, with media_error saying why', async () => {
  sb.handle.fault({ endpoint: 'webwxgetmsgimg', status: 500, times: 1 });
  const m = await inject({ type: 'image', from: 'Ann' });
  assert.equal(m.format, 'media');
  assert.equal(m.media_path, undefined);
  assert.match(String(m.media_error), /500/);
  assert.equal(m.content, '[图片]');
});
