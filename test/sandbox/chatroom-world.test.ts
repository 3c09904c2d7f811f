/** Chatroom and contact operations on the wire, chatter, world generation, the server JSON formatter, the CLI. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { control, drain, loggedIn, sandbox } from '../helpers/sandbox.ts';
import { httpExchanges } from '../helpers/fixtures.ts';
import { Path } from '../../src/wire/paths.ts';
import { generateWorld, demoWorld } from '../../src/sandbox/world-gen.ts';
import { World } from '../../src/sandbox/world.ts';
import { formatServerJson, STYLE } from '../../src/sandbox/server-json.ts';

test('createchatroom, updatechatroom (addmember/invitemember/delmember/modtopic/quitchatroom), oplog', async () => {
  const sb = await sandbox();
  try {
    const { client: c } = await loggedIn(sb);
    const contacts = await c.allContacts();
    const u = (nick: string) => contacts.find((x) => x.NickName === nick).UserName as string;
    await drain(c);
    const q = `r=${Date.now()}&pass_ticket=${c.passTicket}`;
    const cr = await c.json(Path.createChatroom, q, { MemberCount: 2, MemberList: [{ UserName: u('王芳') }, { UserName: u('陈静') }], Topic: '', BaseRequest: c.baseRequest() });
    assert.equal(cr.BaseResponse.ErrMsg, 'Everything is OK');
    assert.match(cr.ChatRoomName, /^@@[0-9a-f]{64}$/);
    assert.deepEqual(Object.keys(cr), ['BaseResponse', 'Topic', 'PYInitial', 'QuanPin', 'MemberCount', 'MemberList', 'ChatRoomName', 'BlackList']);
    const room = cr.ChatRoomName;
    const upd = (fun: string, body: Record<string, unknown>) => c.json(Path.updateChatroom, `fun=${fun}&pass_ticket=${c.passTicket}`, { ChatRoomName: room, BaseRequest: c.baseRequest(), ...body });
    const add = await upd('addmember', { AddMemberList: u('赵磊') });
    assert.deepEqual([add.BaseResponse.Ret, add.MemberCount, add.MemberList[0].UserName], [0, 1, u('赵磊')]);
    const inv = await upd('invitemember', { InviteMemberList: `${u('echo')},${u('刘强')}` });
    assert.equal(inv.MemberCount, 2);
    const del = await upd('delmember', { DelMemberList: u('刘强') });
    assert.equal(del.BaseResponse.Ret, 0);
    const topic = await upd('modtopic', { NewTopic: '周末爬山' });
    assert.equal(topic.BaseResponse.Ret, 0);
    await c.syncCheck();
    const s = await c.sync();
    const mod = s.ModContactList.find((x: any) => x.UserName === room);
    assert.equal(mod.NickName, '周末爬山');
    assert.equal(mod.MemberCount, 5);
    assert.equal(mod.ChatRoomOwner, c.selfName);
    assert.ok(s.AddMsgList.some((m: any) => m.MsgType === 10000 && m.Content.includes('你修改群名为“周末爬山”')));
    const notOwner = contacts.find((x) => x.NickName === '相亲相爱一家人').UserName;
    const r = await c.json(Path.updateChatroom, `fun=delmember&pass_ticket=${c.passTicket}`, { ChatRoomName: notOwner, DelMemberList: u('王芳'), BaseRequest: c.baseRequest() });
    assert.equal(r.BaseResponse.Ret, 1, 'only the owner removes members');
    const bad = await upd('explode', {});
    assert.deepEqual(Object.keys(bad), ['BaseResponse', 'MemberCount', 'MemberList']);
    assert.equal(bad.BaseResponse.Ret, 1);
    // Remark and pin.
    const rem = await c.json(Path.oplog, `pass_ticket=${c.passTicket}`, { UserName: u('王芳'), CmdId: 2, RemarkName: '芳姐', BaseRequest: c.baseRequest() });
    assert.deepEqual(rem, { BaseResponse: { Ret: 0, ErrMsg: '' } });
    const pin = await c.json(Path.oplog, `pass_ticket=${c.passTicket}`, { UserName: u('陈静'), CmdId: 3, OP: 1, RemarkName: '', BaseRequest: c.baseRequest() });
    assert.equal(pin.BaseResponse.Ret, 0);
    await upd('quitchatroom', {});
    await c.syncCheck();
    const s2 = await c.sync();
    assert.equal(s2.ModContactList.find((x: any) => x.UserName === u('王芳')).RemarkName, '芳姐');
    assert.equal(s2.ModContactList.find((x: any) => x.UserName === u('陈静')).ContactFlag & 2048, 2048);
    assert.deepEqual(s2.DelContactList, [{ UserName: room, ContactFlag: 0 }]);
    assert.equal(sb.handle.world().people.find((p) => p.nickName === '王芳')!.remarkName, '芳姐');
    // Friend request to a group stranger (Opcode 2): accepted, becomes a friend.
    const batch = await c.batch([{ UserName: notOwner, EncryChatRoomId: '' }]);
    const sun = batch.ContactList[0].MemberList.find((m: any) => m.NickName === '孙浩');
    const v = await c.json(Path.verifyUser, `r=${Date.now()}&pass_ticket=${c.passTicket}`, {
      BaseRequest: c.baseRequest(), Opcode: 2, VerifyUserListSize: 1, VerifyUserList: [{ Value: sun.UserName, VerifyUserTicket: '' }],
      VerifyContent: '你好', SceneListCount: 1, SceneList: [33], skey: c.keys!.skey,
    });
    assert.equal(v.BaseResponse.Ret, 0);
    const m = await c.waitMessage((x) => x.MsgType === 10000 && x.FromUserName === sun.UserName);
    assert.match(m.Content, /你已添加了 孙浩/);
  } finally {
    await sb.close();
  }
});

test('chatter: a group chats by itself and a public account posts links while online', async () => {
  const world = demoWorld(1);
  world.chatter = { group: '3219370221@chatroom', groupEveryMs: 20, publicAccount: 'gh_7251035d5a23', publicEveryMs: 30 };
  const sb = await sandbox({ world, chatter: true });
  try {
    const { client: c } = await loggedIn(sb);
    const contacts = await c.allContacts();
    const room = contacts.find((x) => x.NickName.startsWith('技术交流群')).UserName;
    const gh = contacts.find((x) => x.NickName === '开源中国').UserName;
    const g = await c.waitMessage((m) => m.FromUserName === room);
    assert.match(g.Content, /^@[0-9a-f]{32}:<br\/>/);
    const l = await c.waitMessage((m) => m.FromUserName === gh);
    assert.deepEqual([l.MsgType, l.AppMsgType], [49, 5]);
  } finally {
    await sb.close();
  }
  const quiet = await sandbox({ world, chatter: false, longPollMs: 150 });
  try {
    const { client: c } = await loggedIn(quiet);
    await drain(c);
    assert.deepEqual(await c.syncCheck(), { retcode: 0, selector: 0 }, 'chatter off: no traffic');
  } finally {
    await quiet.close();
  }
});

test('generated worlds are deterministic from the seed and consistent', () => {
  const a = generateWorld({ friends: 300, groups: 30, members: 40 }, 42);
  const b = generateWorld({ friends: 300, groups: 30, members: 40 }, 42);
  const other = generateWorld({ friends: 300, groups: 30, members: 40 }, 43);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, other);
  const w = new World(a);
  assert.equal(w.friendCount(), 300);
  assert.equal(w.groups.size, 30);
  for (const g of w.groups.values()) {
    assert.equal(g.spec.members.length, 40);
    assert.equal(g.memberSet.size, 40);
    assert.ok(g.memberSet.has(w.self.id));
  }
  assert.ok(a.people.some((p) => p.behavior === 'echo' && p.nickName === 'echo'));
  assert.ok(a.groups.some((g) => g.saved === false));
});

test('the large world (5000 friends, 500 groups × 200) loads and serves contacts and batches', async () => {
  const sb = await sandbox({ worldSize: { friends: 5000, groups: 500, members: 200 } });
  try {
    const { client: c, init } = await loggedIn(sb);
    const st = (await control(sb, 'GET', 'state')).json;
    assert.deepEqual([st.friends, st.groups], [5000, 500]);
    const all = await c.allContacts();
    const rooms = new Set([...all, ...init.ContactList].filter((x) => x.UserName.startsWith('@@')).map((x) => x.UserName));
    assert.equal(rooms.size, 500);
    const b = await c.batch([...rooms].slice(0, 50).map((UserName) => ({ UserName, EncryChatRoomId: '' })));
    assert.equal(b.ContactList.reduce((n: number, r: any) => n + r.MemberList.length, 0), 50 * 200);
  } finally {
    await sb.close();
  }
});

test('server JSON formatter reproduces the captured bytes (init, getcontact, batchgetcontact, sync, upload, sendmsg)', () => {
  const parse = (t: string) =>
    JSON.parse(t.replace(/"NewMsgId": (\d+)/g, '"NewMsgId": "__BIG__$1"'), (_k, v) => (typeof v === 'string' && v.startsWith('__BIG__') ? BigInt(v.slice(7)) : v));
  const cases = [
    ['http-webwxinit.qjesus.txt', STYLE.init],
    ['http-webwxgetcontact.qjesus.txt', STYLE.getContact],
    ['http-webwxbatchgetcontact.qjesus.txt', STYLE.batchGetContact],
    ['http-webwxuploadmedia-2.qjesus.txt', STYLE.upload],
    ['http-webwxsendmsg.qjesus.txt', STYLE.small],
    ['http-webwxstatusnotify.qjesus.txt', STYLE.small],
    ['http-webwxsync.qjesus.txt', STYLE.sync],
  ] as const;
  for (const [name, style] of cases) {
    let body = httpExchanges(name)[0]!.body.trim();
    // The sync capture carries the author's // notes and one hand-edited "},{".
    if (name.includes('sync')) body = body.replace(/,\s+\/\/[^\n]*/g, ',').replace(/\},\{/g, '}, {');
    assert.equal(formatServerJson(parse(body), style), body, name);
  }
});

test('`openwx sandbox` prints one line with its base URL and stops on SIGTERM', async () => {
  const bin = fileURLToPath(new URL('../../bin/openwx.js', import.meta.url));
  const p = spawn(process.execPath, [bin, 'sandbox', '--port', '0', '--chatter', 'off', '--world-size', '20,3,5', '--seed', '9'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.setEncoding('utf8');
  const line = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no URL line; stderr so far`)), 30000);
    p.stdout.on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) {
        clearTimeout(t);
        resolve(out.split('\n')[0]!);
      }
    });
    p.on('exit', (code) => reject(new Error(`exited early with ${code}`)));
  });
  const m = /^openwx sandbox listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
  assert.ok(m, line);
  const r = await fetch(`${m[1]}/__sandbox/state`);
  assert.equal(((await r.json()) as { friends: number }).friends, 20);
  p.kill('SIGTERM');
  const [code] = await once(p, 'exit');
  assert.equal(code, 0);
  assert.equal(out.trim().split('\n').length, 1, 'exactly one line on stdout');
});
