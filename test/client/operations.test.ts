import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Account } from '../../src/client/account.ts';
import { sandbox, tempDir, testWorld } from './helpers.ts';
import { nextEvent, waitFor } from '../helpers/wait-for.ts';
import { isOpenwxError } from '../../src/errors.ts';
import type { Sandbox } from '../../src/sandbox/index.ts';
import type { Group, Member } from '../../src/model/types.ts';

let sb: Sandbox;
let a: Account;
const tmp = tempDir();
/** Every request line the client logs at trace level (how we observe `fun=` values). */
const requests: string[] = [];

before(async () => {
  sb = await sandbox({ world: testWorld() });
  const sink = new Writable({
    write(chunk, _e, cb) {
      for (const line of String(chunk).split('\n')) if (line.includes('"http request"')) requests.push(JSON.parse(line).url);
      cb();
    },
  });
  a = new Account(
    { wechatOrigin: sb.url, dataDir: tmp.dir, showQrInTerminal: false, sendIntervalMs: 0, backoffBaseMs: 20, backoffMaxMs: 200 },
    { logger: pino({ level: 'trace' }, sink), output: null },
  );
  await a.run();
});
after(async () => {
  await a.stop();
  await sb.close();
  tmp.cleanup();
});

const fid = (n: string) => a.searchFriends({ name: n })[0]!.id;
const gid = (t: string) => a.searchGroups({ name: t })[0]!.id;
const world = () => sb.handle.world();

test('create a group: new_group event, the group in the book and in the world', async () => {
  const ev = nextEvent<[Group]>(a, 'new_group', (g) => g.name === 'Made');
  const g = await a.createGroup([fid('Ann'), fid('Bob')], 'Made');
  await ev;
  assert.equal(g.name, 'Made');
  assert.equal(g.member.length, 3);
  assert.ok(world().groups.some((x) => x.topic === 'Made' && x.members.length === 3));
});

test('invite uses addmember below 40 members and invitemember from 40; kick emits lose_group_member', async () => {
  const team = gid('Team');
  const joined = nextEvent<[Member, Group]>(a, 'new_group_member', (_m, g) => g.id === team);
  await a.inviteToGroup(team, [fid('Cat')]);
  const [m] = await joined;
  assert.equal(m.markname, 'Cat');
  assert.ok(requests.some((u) => u.includes('webwxupdatechatroom') && u.includes('fun=addmember')));
  const big = gid('Big');
  assert.equal(a.group(big)!.member.length, 40);
  await a.inviteToGroup(big, [fid('Bob')]);
  assert.ok(requests.some((u) => u.includes('webwxupdatechatroom') && u.includes('fun=invitemember')));
  const left = nextEvent<[Member, Group]>(a, 'lose_group_member', (mm) => mm.markname === 'Cat');
  await a.kickFromGroup(team, [m.id]);
  await left;
  assert.ok(!a.group(team)!.member.some((x) => x.id === m.id));
  assert.ok(!world().groups.find((x) => x.topic === 'Team')!.members.includes('wxid_cat'));
});

test('rename group → group_property_change; remark friend → friend_property_change; pin', async () => {
  const team = gid('Team');
  const renamed = nextEvent<[Group, string, unknown, unknown]>(a, 'group_property_change', (g, p) => g.id === team && p === 'name');
  await a.renameGroup(team, 'Team 2');
  const [, , oldName, newName] = await renamed;
  assert.deepEqual([oldName, newName], ['Team', 'Team 2']);
  const ann = fid('Ann');
  const remarked = nextEvent(a, 'friend_property_change', (f: { id: string }, p: string) => f.id === ann && p === 'markname');
  await a.setRemark(ann, 'Annie');
  await remarked;
  assert.equal(a.friend(ann)!.markname, 'Annie');
  assert.equal(world().people.find((p) => p.id === 'wxid_ann')!.remarkName, 'Annie');
  await a.stick(ann, true);
  await waitFor(() => world().people.find((p) => p.id === 'wxid_ann')!.pinned === true, 'pinned');
  await a.stick(ann, false);
  await waitFor(() => !world().people.find((p) => p.id === 'wxid_ann')!.pinned, 'unpinned');
});

test('add friend (verifyuser 2) from a group member; avatars', async () => {
  const team = gid('Team 2');
  const dan = a.group(team)!.member.find((m) => m.markname === 'Dan')!;
  const added = nextEvent(a, 'new_friend', (f: { name: string }) => f.name === 'Dan', 10_000);
  await a.addFriend(dan.id, 'hello Dan');
  await added;
  const av = await a.getAvatar(fid('Ann'));
  assert.ok(av.data.length > 0);
  assert.match(av.mime, /^image\//);
  assert.ok((await a.getAvatar(team)).data.length > 0);
  assert.ok((await a.getAvatar(dan.id, team)).data.length > 0);
  assert.ok((await a.getAvatar(a.user()!.id)).data.length > 0);
});

test('operations on unknown objects fail with typed errors', async () => {
  await assert.rejects(a.inviteToGroup('@@nope', [fid('Ann')]), (e: unknown) => isOpenwxError(e, 'OWX_ERR_NOT_FOUND'));
  await assert.rejects(a.renameGroup(gid('Team 2'), ''), (e: unknown) => isOpenwxError(e, 'OWX_ERR_BAD_PARAM'));
  await assert.rejects(a.createGroup([]), (e: unknown) => isOpenwxError(e, 'OWX_ERR_BAD_PARAM'));
  await assert.rejects(a.setRemark('@nobody', 'x'), (e: unknown) => isOpenwxError(e) && e.code.startsWith('OWX_ERR_WX_'));
});
