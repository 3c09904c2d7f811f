/**
 * A sandbox hosting several independent WeChat users (issue 12), over real HTTP with protocol-only test clients:
 * users listed with their login state, explicit scans and confirms as a user, --auto-login taking the next free user
 * (and waiting for one when all are taken), control calls per user (messages, sent, contacts, faults, logout, world)
 * reaching only that user's session, the ambiguity error, push logins, multi-user world files, generated worlds built
 * on first use, and the real `openwx sandbox --users 3` command.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { control, drain, sandbox } from '../helpers/sandbox.ts';
import { WxTestClient } from '../helpers/wx-test-client.ts';
import { waitFor } from '../helpers/wait-for.ts';
import type { Sandbox, WorldSpec } from '../../src/sandbox/index.ts';
import { demoWorld, generateWorld } from '../../src/sandbox/world-gen.ts';
import { Path } from '../../src/wire/paths.ts';

/** A client logs in: jslogin, then `confirm` (given the uuid), then poll → newloginpage → init. */
async function login(base: string, confirm: (uuid: string) => Promise<unknown>): Promise<{ c: WxTestClient; init: any; uuid: string }> {
  const c = new WxTestClient(base);
  const uuid = await c.jslogin();
  await confirm(uuid);
  const redirect = await c.waitConfirmed(uuid);
  const page = await c.newLoginPage(redirect);
  assert.ok(c.keys, `newloginpage: ${page.text}`);
  const init = await c.init();
  assert.equal(init.BaseResponse.Ret, 0);
  await drain(c);
  return { c, init, uuid };
}

async function ok(sb: Sandbox, method: 'GET' | 'POST', path: string, body?: unknown): Promise<any> {
  const r = await control(sb, method, path, body);
  assert.equal(r.status, 200, `${method} ${path} ${JSON.stringify(body)} → ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

/** Every AddMsgList entry up to (and including) the one `pred` matches. */
async function messagesUntil(c: WxTestClient, pred: (m: any) => boolean): Promise<any[]> {
  const seen: any[] = [];
  const end = Date.now() + 10_000;
  while (Date.now() < end) {
    const sc = await c.syncCheck();
    assert.equal(sc.retcode, 0);
    if (sc.selector === 0) continue;
    const r = await c.sync();
    seen.push(...r.AddMsgList);
    if (seen.some(pred)) return seen;
  }
  throw new Error('message not received in time');
}

const userNames = (contacts: any[]) => contacts.map((x) => x.UserName as string).filter((n) => n.startsWith('@'));

test('GET /__sandbox/users lists every user; a call without "user" is a 400 naming them; users are named by id, NickName, uin or UserName', async () => {
  const sb = await sandbox({ users: 3 });
  try {
    const { users, qrCodes } = await ok(sb, 'GET', 'users');
    assert.deepEqual(
      users.map((u: any) => [u.NickName, u.login, u.online, u.UserName, u.uuid]),
      [
        ['小明同学', 'offline', false, null, null],
        ['小红同学', 'offline', false, null, null],
        ['小刚同学', 'offline', false, null, null],
      ],
    );
    assert.equal(new Set(users.map((u: any) => u.id)).size, 3, 'distinct ids');
    assert.equal(new Set(users.map((u: any) => u.uin)).size, 3, 'distinct uins');
    assert.equal(users[0].id, 'wxid_sandbox_self', 'user 1 is the single-user demo self');
    assert.deepEqual(qrCodes, []);

    for (const [method, path, body] of [
      ['GET', 'state', undefined],
      ['GET', 'sent', undefined],
      ['POST', 'messages', { type: 'text', from: '张伟' }],
      ['POST', 'contacts', { op: 'add_friend', nickName: '路人乙' }],
      ['POST', 'logout', {}],
    ] as const) {
      const r = await control(sb, method, path, body);
      assert.equal(r.status, 400, `${path} without user`);
      assert.match(r.json.error, /3 users: say which one with "user"/);
      for (const u of users) assert.ok(r.json.error.includes(u.NickName) && r.json.error.includes(u.id), `${path}: the error names ${u.NickName}`);
      assert.deepEqual(r.json.users.map((u: any) => u.id), users.map((u: any) => u.id));
    }
    const unknown = await control(sb, 'GET', 'state?user=nobody');
    assert.equal(unknown.status, 400);
    assert.match(unknown.json.error, /unknown user "nobody" \(users: 小明同学 \(wxid_sandbox_self\), 小红同学/);

    for (const key of [users[1].id, '小红同学', String(users[1].uin)]) {
      const st = await ok(sb, 'GET', `state?user=${encodeURIComponent(key)}`);
      assert.equal(st.self.NickName, '小红同学', key);
      assert.equal(st.login, 'offline');
    }
    // The query and the body may both name the user only when they agree.
    const clash = await control(sb, 'POST', `messages?user=${encodeURIComponent('小明同学')}`, { user: '小红同学', type: 'text', from: '张伟' });
    assert.equal(clash.status, 400);
    assert.match(clash.json.error, /user: the query says "小明同学", the body "小红同学"/);

    // Faults without a user are global: not ambiguous.
    assert.equal((await control(sb, 'POST', 'faults', { endpoint: 'webwxinit', status: 500, times: 1 })).status, 200);
    // The world without a user: every user's, as a multi-user world file.
    const all = await ok(sb, 'GET', 'world');
    assert.deepEqual(all.users.map((w: any) => w.self.nickName), ['小明同学', '小红同学', '小刚同学']);
  } finally {
    await sb.close();
  }
});

test('scan and confirm name a QR (uuid) and a user; two clients log in as two users, each with its own session, ids and uin', async () => {
  const sb = await sandbox({ users: 3 });
  try {
    const a = new WxTestClient(sb.url);
    const b = new WxTestClient(sb.url);
    const uuidA = await a.jslogin();
    const uuidB = await b.jslogin();
    // A scan needs the user when there are several; the newest QR is uuidB.
    const noUser = await control(sb, 'POST', 'scan', {});
    assert.equal(noUser.status, 400);
    assert.match(noUser.json.error, /say which one with "user"/);

    assert.deepEqual(await ok(sb, 'POST', 'scan', { uuid: uuidB, user: '小红同学' }), { uuid: uuidB, user: 'wxid_sandbox_self2' });
    const scanned = await b.poll(uuidB, 1);
    assert.equal(scanned.code, 201);
    let list = await ok(sb, 'GET', 'users');
    assert.deepEqual(
      list.users.map((u: any) => [u.NickName, u.login, u.uuid]),
      [['小明同学', 'offline', null], ['小红同学', 'scanned', uuidB], ['小刚同学', 'offline', null]],
    );
    assert.deepEqual(
      list.qrCodes.map((q: any) => [q.uuid, q.state, q.user]).sort(),
      [[uuidA, 'waiting', null], [uuidB, 'scanned', 'wxid_sandbox_self2']].sort(),
    );
    // Confirming a QR scanned as 小红同学 as someone else is refused; without a user it is 小红同学's.
    const wrong = await control(sb, 'POST', 'confirm', { uuid: uuidB, user: '小刚同学' });
    assert.equal(wrong.status, 400);
    assert.match(wrong.json.error, /already scanned as 小红同学/);
    await ok(sb, 'POST', 'confirm', { uuid: uuidB });
    await ok(sb, 'POST', 'confirm', { uuid: uuidA, user: 'wxid_sandbox_self' });
    for (const [c, uuid] of [[a, uuidA], [b, uuidB]] as const) {
      const page = await c.newLoginPage(await c.waitConfirmed(uuid));
      assert.ok(c.keys, page.text);
    }
    const [initA, initB] = [await a.init(), await b.init()];
    assert.equal(initA.User.NickName, '小明同学');
    assert.equal(initB.User.NickName, '小红同学');
    assert.notEqual(a.keys!.wxuin, b.keys!.wxuin, 'uins differ per user');
    assert.equal(String(list.users[1].uin), b.keys!.wxuin);
    assert.notEqual(a.keys!.wxsid, b.keys!.wxsid);

    list = await ok(sb, 'GET', 'users');
    assert.deepEqual(
      list.users.map((u: any) => [u.NickName, u.login, u.online, u.UserName]),
      [['小明同学', 'online', true, a.selfName], ['小红同学', 'online', true, b.selfName], ['小刚同学', 'offline', false, null]],
    );
    assert.deepEqual(list.qrCodes, [], 'both QRs redeemed');
    // The logged-in user's UserName names it too.
    assert.equal((await ok(sb, 'GET', `state?user=${encodeURIComponent(b.selfName)}`)).self.NickName, '小红同学');

    // Both worlds have a friend 张伟 (and the same world ids): their UserNames differ, as every @-name does.
    const [contactsA, contactsB] = [await a.allContacts(), await b.allContacts()];
    const zhangA = contactsA.find((x) => x.NickName === '张伟');
    const zhangB = contactsB.find((x) => x.NickName === '张伟');
    assert.ok(zhangA && zhangB);
    assert.notEqual(zhangA.UserName, zhangB.UserName);
    const namesA = new Set([a.selfName, ...userNames(contactsA)]);
    assert.ok(userNames(contactsB).every((n) => !namesA.has(n)) && !namesA.has(b.selfName), 'no @-name is shared between the two sessions');
  } finally {
    await sb.close();
  }
});

test('per user: injected messages, sends, contact changes, faults and logout reach only that user', async () => {
  const sb = await sandbox({ users: 2 });
  try {
    const { c: a } = await login(sb.url, (uuid) => ok(sb, 'POST', 'confirm', { uuid, user: '小明同学' }));
    const { c: b } = await login(sb.url, (uuid) => ok(sb, 'POST', 'confirm', { uuid, user: '小红同学' }));

    // A message for 小红同学, then one for 小明同学: 小明同学's session gets its own and never 小红同学's.
    const forB = (await ok(sb, 'POST', 'messages', { user: '小红同学', type: 'text', from: '张伟', content: 'only for 小红' })).msgIds[0];
    const forA = (await ok(sb, 'POST', 'messages', { user: '小明同学', type: 'text', from: '张伟', content: 'only for 小明' })).msgIds[0];
    const seenA = await messagesUntil(a, (m) => m.MsgId === forA);
    assert.ok(!seenA.some((m) => m.MsgId === forB || m.Content === 'only for 小红'), 'a message injected for 小红同学 reached 小明同学');
    const seenB = await messagesUntil(b, (m) => m.MsgId === forB);
    assert.ok(!seenB.some((m) => m.MsgId === forA || m.Content === 'only for 小明'));
    // One call for both users (an array, each message with its own user): each gets only its own.
    const [toB, toA] = (await ok(sb, 'POST', 'messages', [
      { user: '小红同学', type: 'text', from: '张伟', content: 'batch for 小红' },
      { user: '小明同学', type: 'text', from: '张伟', content: 'batch for 小明' },
    ])) as unknown as { msgIds: string[] }[];
    const batchA = await messagesUntil(a, (m) => m.MsgId === toA!.msgIds[0]);
    assert.ok(!batchA.some((m) => m.Content === 'batch for 小红'), 'the batch\'s message for 小红同学 reached 小明同学');
    const batchB = await messagesUntil(b, (m) => m.MsgId === toB!.msgIds[0]);
    assert.ok(!batchB.some((m) => m.Content === 'batch for 小明'));
    // The group message form, by query parameter.
    const g = (await ok(sb, 'POST', `messages?user=${encodeURIComponent('小红同学')}`, { type: 'text', from: '李娜🌸', group: '相亲相爱一家人', content: 'group hi' })).msgIds[0];
    assert.match((await b.waitMessage((m) => m.MsgId === g)).FromUserName, /^@@/);

    // Sends are logged per user.
    const zhangA = (await a.allContacts()).find((x) => x.NickName === '张伟');
    assert.equal((await a.sendText(zhangA.UserName, 'from 小明')).BaseResponse.Ret, 0);
    const sentA = await ok(sb, 'GET', `sent?user=${encodeURIComponent('小明同学')}`);
    assert.deepEqual(sentA.map((r: any) => [r.Content, r.FromUserName, r.toNickName]), [['from 小明', a.selfName, '老张']]);
    assert.deepEqual(await ok(sb, 'GET', `sent?user=${encodeURIComponent('小红同学')}`), []);

    // A contact change for 小红同学 changes her world only and is pushed to her session only.
    const added = await ok(sb, 'POST', 'contacts', { user: '小红同学', op: 'add_friend', nickName: '新同事' });
    assert.ok(added.UserName.startsWith('@'));
    const tip = await b.waitMessage((m) => m.MsgType === 10000 && String(m.Content).includes('新同事'));
    assert.equal(tip.FromUserName, added.UserName, 'the friend-added tip reached 小红同学');
    assert.ok((await ok(sb, 'GET', `world?user=${encodeURIComponent('小红同学')}`)).people.some((p: any) => p.nickName === '新同事'));
    assert.ok(!(await ok(sb, 'GET', 'world?user=wxid_sandbox_self')).people.some((p: any) => p.nickName === '新同事'));
    const marker = (await ok(sb, 'POST', 'messages', { user: '小明同学', type: 'text', from: '王芳', content: 'marker' })).msgIds[0];
    assert.ok(!(await messagesUntil(a, (m) => m.MsgId === marker)).some((m) => String(m.Content).includes('新同事')), 'the tip did not reach 小明同学');

    // A fault for 小明同学's webwxsync: 小红同学's sync is untouched, 小明同学's next one fails.
    await ok(sb, 'POST', 'faults', { user: '小明同学', endpoint: 'webwxsync', ret: 1205, times: 1 });
    assert.equal((await b.sync()).BaseResponse.Ret, 0);
    assert.equal((await a.sync()).BaseResponse.Ret, 1205);
    assert.equal((await a.sync()).BaseResponse.Ret, 0, 'used once');

    // Logging 小红同学 out ends her session only.
    await ok(sb, 'POST', 'logout', { user: '小红同学' });
    assert.equal((await b.syncCheck()).retcode, 1101);
    const after = (await ok(sb, 'POST', 'messages', { user: '小明同学', type: 'text', from: '王芳', content: 'still here' })).msgIds[0];
    await a.waitMessage((m) => m.MsgId === after);
    const st = await ok(sb, 'GET', 'users');
    assert.deepEqual(st.users.map((u: any) => u.login), ['online', 'offline']);
    const gone = await control(sb, 'POST', 'messages', { user: '小红同学', type: 'text', from: '张伟' });
    assert.equal(gone.status, 400);
    assert.match(gone.json.error, /no session is online for user 小红同学/);
  } finally {
    await sb.close();
  }
});

test('--auto-login confirms each new QR as the next free user; with every user taken the QR waits until one is free', async () => {
  const sb = await sandbox({ users: 3, autoLoginMs: 5 });
  try {
    const clients = await Promise.all([0, 1, 2].map(() => login(sb.url, async () => undefined)));
    assert.deepEqual(clients.map((x) => x.init.User.NickName).sort(), ['小刚同学', '小明同学', '小红同学'].sort(), 'three distinct users');
    assert.equal(new Set(clients.map((x) => x.c.keys!.wxuin)).size, 3);
    assert.deepEqual((await ok(sb, 'GET', 'users')).users.map((u: any) => u.login), ['online', 'online', 'online']);

    // A fourth client: nobody is free, its QR stays waiting (the login poll times out with 408).
    const d = new WxTestClient(sb.url);
    const uuid = await d.jslogin();
    assert.equal((await d.poll(uuid, 1)).code, 408);
    assert.deepEqual((await ok(sb, 'GET', 'users')).qrCodes, [{ uuid, state: 'waiting', user: null }]);
    // 小红同学 logs out: the waiting QR is hers now.
    const red = clients.find((x) => x.init.User.NickName === '小红同学')!;
    await ok(sb, 'POST', 'logout', { user: '小红同学' });
    assert.equal((await red.c.syncCheck()).retcode, 1101);
    const page = await d.newLoginPage(await d.waitConfirmed(uuid));
    assert.ok(d.keys, page.text);
    assert.equal((await d.init()).User.NickName, '小红同学');
    // The other two sessions were not touched.
    for (const x of clients.filter((y) => y !== red)) assert.equal((await x.c.syncCheck()).retcode, 0);
  } finally {
    await sb.close();
  }
});

test('--auto-login: a user taken by a confirmed QR whose client never came is free again when that QR\'s lifetime ends', async () => {
  const sb = await sandbox({ users: 2, autoLoginMs: 5, qrExpiryMs: 1500 });
  try {
    // A client shows its QR (auto-confirmed as 小明同学) and never comes back for the session.
    const gone = new WxTestClient(sb.url);
    const goneUuid = await gone.jslogin();
    await gone.waitConfirmed(goneUuid);
    const b = await login(sb.url, async () => undefined);
    assert.equal(b.init.User.NickName, '小红同学');
    assert.deepEqual((await ok(sb, 'GET', 'users')).users.map((u: any) => [u.login, u.uuid]), [['scanned', goneUuid], ['online', null]]);
    // A third client waits: both users are taken. Then the abandoned QR's lifetime ends and 小明同学 is its.
    const c = new WxTestClient(sb.url);
    const uuid = await c.jslogin();
    const page = await c.newLoginPage(await c.waitConfirmed(uuid));
    assert.ok(c.keys, page.text);
    assert.equal((await c.init()).User.NickName, '小明同学');
  } finally {
    await sb.close();
  }
});

test('a push login (webwxpushloginurl?uin=) is for the user with that uin; confirm needs no user for it', async () => {
  const sb = await sandbox({ users: 2 });
  try {
    const { c: b } = await login(sb.url, (uuid) => ok(sb, 'POST', 'confirm', { uuid, user: '小红同学' }));
    const uin = b.keys!.wxuin!;
    const r = await b.req('page', `${Path.pushLoginUrl}?uin=${uin}`);
    const { ret, uuid } = JSON.parse(r.text);
    assert.equal(ret, '0');
    assert.equal((await ok(sb, 'GET', 'users')).qrCodes.find((q: any) => q.uuid === uuid).user, 'wxid_sandbox_self2');
    assert.deepEqual(await ok(sb, 'POST', 'confirm', { uuid }), { uuid, user: 'wxid_sandbox_self2' });
    const again = new WxTestClient(sb.url);
    const page = await again.newLoginPage(await again.waitConfirmed(uuid));
    assert.ok(again.keys, page.text);
    assert.equal(again.keys!.wxuin, uin);
    assert.equal((await b.syncCheck()).retcode, 1101, 'the new login replaced 小红同学\'s previous session');
    // 小明同学 never logged in: no push login for his uin.
    const never = (await ok(sb, 'GET', 'users')).users[0].uin;
    assert.equal(JSON.parse((await b.req('page', `${Path.pushLoginUrl}?uin=${never}`)).text).ret, '1');
  } finally {
    await sb.close();
  }
});

test('a multi-user world file: each user gets its own world (friends may share NickNames); it dumps back and loads again; bad files are refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'owx-multi-world-'));
  try {
    const first = demoWorld(1);
    const second: WorldSpec = {
      format: 'openwx-sandbox-world/1',
      self: { id: 'wxid_second_user', uin: 1234567890, nickName: '第二个用户' },
      people: [
        { id: 'filehelper', nickName: '文件传输助手', kind: 'special' },
        { id: 'wxid_zhangwei8848', nickName: '张伟', signature: 'another 张伟, same id and NickName as user 1\'s' },
        { id: 'wxid_only_here', nickName: '只在这里' },
      ],
      groups: [{ id: '1111@chatroom', topic: '第二个群', owner: 'wxid_second_user', members: ['wxid_second_user', 'wxid_zhangwei8848', 'wxid_only_here'] }],
    };
    const file = join(dir, 'world.json');
    writeFileSync(file, JSON.stringify({ users: [first, second] }));
    const sb = await sandbox({ world: file });
    try {
      const { users } = await ok(sb, 'GET', 'users');
      assert.deepEqual(users.map((u: any) => [u.id, u.NickName, u.uin]), [
        ['wxid_sandbox_self', '小明同学', 2663483803],
        ['wxid_second_user', '第二个用户', 1234567890],
      ]);
      const { c } = await login(sb.url, (uuid) => ok(sb, 'POST', 'confirm', { uuid, user: '第二个用户' }));
      const names = (await c.allContacts()).map((x) => x.NickName).sort();
      assert.deepEqual(names, ['张伟', '文件传输助手', '只在这里', '第二个群'].sort());
      const m = (await ok(sb, 'POST', 'messages', { user: '1234567890', type: 'text', from: '只在这里', content: 'hi' })).msgIds[0];
      await c.waitMessage((x) => x.MsgId === m);
      const dumped = await ok(sb, 'GET', 'world');
      assert.deepEqual(dumped.users.map((w: any) => w.self.id), ['wxid_sandbox_self', 'wxid_second_user']);
      const sb2 = await sandbox({ world: dumped });
      try {
        assert.deepEqual(await ok(sb2, 'GET', 'world'), dumped);
      } finally {
        await sb2.close();
      }
    } finally {
      await sb.close();
    }
    // A user count that disagrees with the file, two users with one uin, an empty list: refused at start.
    await assert.rejects(sandbox({ world: file, users: 3 }), /3 users asked for, but the world file .* has 2/);
    await assert.rejects(sandbox({ world: { users: [first, { ...second, self: { ...second.self, uin: first.self.uin } }] } }), /users\.1\.self\.uin: 2663483803 is also users\.0's uin/);
    await assert.rejects(sandbox({ world: { users: [] } as never }), /users: a non-empty array/);
    await assert.rejects(sandbox({ world: { users: [first, { ...second, people: 'x' }] } as never }), /invalid world: users\.1\.people:/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--world-size with several users: each user its own generated world, built on first use; one user gets the same world as before', async () => {
  const size = { friends: 40, groups: 4, members: 12 };
  const sb = await sandbox({ users: 3, worldSize: size, seed: 7 });
  try {
    let { users } = await ok(sb, 'GET', 'users');
    assert.deepEqual(users.map((u: any) => [u.NickName, u.worldBuilt]), [['测试账号1', false], ['测试账号2', false], ['测试账号3', false]]);
    assert.equal(new Set(users.map((u: any) => u.uin)).size, 3);
    const st = await ok(sb, 'GET', 'state?user=测试账号2');
    assert.equal(st.groups, 4);
    ({ users } = await ok(sb, 'GET', 'users'));
    assert.deepEqual(users.map((u: any) => u.worldBuilt), [false, true, false], 'only the user asked about was generated');
    const w2 = await ok(sb, 'GET', 'world?user=测试账号2');
    assert.deepEqual(w2, generateWorld(size, 8, { id: users[1].id, uin: users[1].uin, nickName: '测试账号2' }), 'user k is generated from seed + k');
    const { c, init } = await login(sb.url, (uuid) => ok(sb, 'POST', 'confirm', { uuid, user: '测试账号3' }));
    assert.equal(init.User.NickName, '测试账号3');
    const w3 = await ok(sb, 'GET', 'world?user=测试账号3');
    assert.notDeepEqual(w3.people, w2.people);
    const contacts = await c.allContacts();
    assert.equal(contacts.filter((x) => x.UserName.startsWith('@@')).length, w3.groups.filter((g: any) => g.saved !== false).length, "测试账号3's saved groups");
    assert.equal(contacts.filter((x) => !x.UserName.startsWith('@@')).length, w3.people.filter((p: any) => p.friend !== false).length, "测试账号3's friends");
  } finally {
    await sb.close();
  }
  const one = await sandbox({ worldSize: size, seed: 7 });
  try {
    assert.deepEqual(await ok(one, 'GET', 'world'), generateWorld(size, 7), 'a single generated user is unchanged');
  } finally {
    await one.close();
  }
});

test('openwx sandbox --users 3 (the real command): three users, auto-login gives two clients two of them', async () => {
  const { startCommand, freePort } = await import('../cli/real-command.ts');
  const port = await freePort();
  const cmd = startCommand(['sandbox', '--users', '3', '--port', String(port), '--auto-login', '0', '--chatter', 'off', '--long-poll-ms', '300']);
  try {
    const m = await cmd.waitForOutput(/^openwx sandbox listening on (\S+)$/m, 'the sandbox URL line');
    const url = m[1]!;
    const sb = { url } as Sandbox;
    const { users } = await ok(sb, 'GET', 'users');
    assert.deepEqual(users.map((u: any) => u.NickName), ['小明同学', '小红同学', '小刚同学']);
    const [x, y] = await Promise.all([login(url, async () => undefined), login(url, async () => undefined)]);
    assert.notEqual(x.init.User.NickName, y.init.User.NickName);
    const after = await ok(sb, 'GET', 'users');
    assert.equal(after.users.filter((u: any) => u.online).length, 2);
    const msg = (await ok(sb, 'POST', 'messages', { user: y.init.User.NickName, type: 'text', from: '王芳', content: 'cli' })).msgIds[0];
    await y.c.waitMessage((mm) => mm.MsgId === msg);
    const bad = startCommand(['sandbox', '--users', '0', '--port', '0']);
    assert.notEqual(await bad.exited, 0);
    assert.match(bad.err(), /--users must be between 1 and 1000/);
    cmd.child.kill('SIGTERM');
    assert.equal(await cmd.exited, 0);
  } finally {
    cmd.kill();
  }
});
