/**
 * Fidelity check with a third-party client: wechat4u (npm `wechat4u`, pinned in devDependencies; the library behind
 * wechaty-puppet-wechat4u), run unmodified in a child process against the sandbox under the real names:
 *
 *   wechat4u ──https://wx.qq.com, login.wx.qq.com, webpush.wx.qq.com, file.wx.qq.com──▶ TLS proxy ──▶ sandbox
 *
 * The child gets the names preload (DNS of the WeChat names → 127.0.0.1, port 443 → the proxy; see
 * harness/wechat-names-preload.mjs) and trusts a certificate made at test time (NODE_EXTRA_CA_CERTS); the proxy adds
 * `X-Forwarded-Proto: https`, so the sandbox answers as the real server does for wx.qq.com. The test drives the
 * library through its public API (harness driver wechat4u-driver.mjs) and checks every step against the sandbox's
 * control API. See docs/sandbox.md "Fidelity checks with third-party clients".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { minimalMp4, solidJpeg, tinyGif } from '../../src/sandbox/media-gen.ts';
import { control } from '../helpers/sandbox.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { startRig } from './harness/rig.ts';

const DRIVER = fileURLToPath(new URL('./wechat4u-driver.mjs', import.meta.url));
const WECHAT4U_VERSION = (createRequire(import.meta.url)('wechat4u/package.json') as { version: string }).version;

interface Contact {
  UserName: string;
  NickName: string;
  RemarkName: string;
  DisplayName: string;
  isRoom: boolean;
  isPublic: boolean;
  isSpecial: boolean;
  isSelf: boolean;
  MemberCount: number;
  Members: { UserName: string; NickName: string }[];
}

interface Msg {
  MsgId: string;
  MsgType: number;
  AppMsgType: number;
  FromUserName: string;
  ToUserName: string;
  fromDisplayName: string | null;
  Content: string;
  OriginalContent: string;
  Url: string;
  FileName: string;
  FileSize: string;
  MediaId: string;
  StatusNotifyCode: number;
  StatusNotifyUserName: string;
  RecommendInfo: { UserName: string; NickName: string; Ticket: string } | null;
  isSendBySelf: boolean;
}

interface SentRecord {
  MsgID: string;
  LocalID: string;
  Type: number;
  FromUserName: string;
  ToUserName: string;
  Content: string;
  MediaId?: string;
  endpoint: string;
  toNickName: string;
  revoked?: boolean;
}

test(`wechat4u ${WECHAT4U_VERSION}, unmodified, against the sandbox under the real names`, { timeout: 60_000 }, async (t) => {
  const rig = await startRig(DRIVER, { longPollMs: 1500 });
  t.after(() => rig.close());
  const { sb: sbx, proxy: px, client: c } = rig;
  const contacts = () => c.call<Contact[]>('contacts');
  const byNick = async (nick: string) => (await contacts()).find((x) => x.NickName === nick);
  const sent = async () => (await control(sbx, 'GET', 'sent')).json as SentRecord[];
  const inject = async (body: Record<string, unknown>): Promise<string> => {
    const r = await control(sbx, 'POST', 'messages', body);
    assert.equal(r.status, 200, `inject ${JSON.stringify(body)}: ${JSON.stringify(r.json)}`);
    return r.json.msgIds[0] as string;
  };
  const message = (pred: (m: Msg) => boolean, what: string, fromIndex = 0) =>
    c.waitEvent('message', (m: Msg) => pred(m), 15_000, fromIndex).catch((e: Error) => {
      throw new Error(`${what}: ${e.message}`);
    }) as Promise<Msg>;
  /** Injects through the control API and waits for wechat4u's 'message' event of exactly that MsgId. */
  const injectAndReceive = async (body: Record<string, unknown>): Promise<Msg> => {
    const id = await inject(body);
    return message((m) => m.MsgId === id, `wechat4u to receive ${JSON.stringify(body)} (MsgId ${id})`);
  };
  let self = { UserName: '', NickName: '' };

  await t.test('QR login: uuid, scan (201 + avatar), confirm, UOS desktop 301, init', async () => {
    // The contact list answers late (as a big one does on the real server, or any on a loaded machine): the status
    // notify and webwxinit's ContactList reach wechat4u first, so the next subtest must wait for getcontact itself.
    assert.equal((await control(sbx, 'POST', 'faults', { endpoint: 'webwxgetcontact', delayMs: 2000, times: 1 })).status, 200);
    await c.call('start');
    const uuid = await c.waitEvent('uuid');
    const st = (await control(sbx, 'GET', 'state')).json;
    assert.equal(st.login, 'waiting');
    assert.equal(st.uuid, uuid, 'wechat4u shows the QR code the sandbox is waiting on');
    assert.equal((await control(sbx, 'POST', 'scan', {})).status, 200);
    const avatar = await c.waitEvent('user-avatar');
    assert.match(avatar, /^data:img\/jpg;base64,\/9j\//, 'the 201 answer carries the scanner avatar (loginicon=true)');
    assert.equal((await control(sbx, 'POST', 'confirm', {})).status, 200);
    const login = await c.waitEvent('login');
    self = login.user;
    const online = (await control(sbx, 'GET', 'state')).json;
    assert.equal(online.login, 'online');
    assert.equal(self.UserName, online.self.UserName);
    assert.equal(self.NickName, '小明同学');
    // It reached the sandbox only through the real names, over TLS, in desktop mode.
    assert.ok(px.lines().some((l) => l.startsWith('POST login.wx.qq.com/jslogin?')), 'jslogin on login.wx.qq.com');
    assert.ok(px.lines().some((l) => l.startsWith('GET wx.qq.com/cgi-bin/mmwebwx-bin/webwxnewloginpage?mod=desktop&ticket=')), 'newloginpage on wx.qq.com, desktop mode');
    assert.ok(px.lines().some((l) => l.startsWith('POST wx.qq.com/cgi-bin/mmwebwx-bin/webwxinit?')), 'webwxinit on wx.qq.com');
    await waitFor(() => px.lines().some((l) => l.startsWith('GET webpush.wx.qq.com/cgi-bin/mmwebwx-bin/synccheck?')), 'synccheck on webpush.wx.qq.com');
  });

  await t.test('contacts: friends, remark names, emoji, public account, groups with members (getcontact + batchgetcontact + status notify)', async () => {
    const notify = await message((m) => m.MsgType === 51, 'status-notify message');
    assert.equal(notify.StatusNotifyCode, 4);
    // Loaded = wechat4u has merged its webwxgetcontact list (+ the batchgetcontact of its saved rooms), not just
    // webwxinit's ContactList: that one already holds every group, with members in the light form (UserName only,
    // as in the real capture), and a few recent friends but no public account. Waiting on group members alone let
    // a slow getcontact (loaded machine) be asserted on before it arrived. What "every" means comes from the world.
    const world = (await control(sbx, 'GET', 'world')).json as {
      people: { nickName: string; friend?: boolean }[];
      groups: { topic: string; members: string[]; saved?: boolean }[];
    };
    const friendNicks = world.people.filter((p) => p.friend !== false).map((p) => p.nickName);
    const savedRooms = world.groups.filter((g) => g.saved !== false);
    assert.ok(friendNicks.includes('开源中国') && savedRooms.length === 2, 'the demo world: friends incl. a public account, two saved groups');
    const list = await waitFor(
      async () => {
        const all = await contacts();
        const nicks = new Set(all.map((x) => x.NickName));
        const roomsFull = savedRooms.every((g) => {
          const room = all.find((x) => x.isRoom && x.NickName === g.topic);
          return room && room.Members.length === g.members.length && room.Members.every((m) => Boolean(m.NickName));
        });
        const untitled = all.find((x) => x.isRoom && x.NickName === '');
        const ready = friendNicks.every((n) => nicks.has(n)) && roomsFull && untitled && untitled.Members.length > 0;
        return ready ? all : null;
      },
      'wechat4u to know every friend (getcontact) and every saved group with its full members (batchgetcontact)',
      15_000,
    );
    const zhang = list.find((x) => x.NickName === '张伟')!;
    assert.ok(zhang, '张伟 is a contact');
    assert.equal(zhang.RemarkName, '老张');
    assert.equal(zhang.DisplayName, '老张');
    assert.match(zhang.UserName, /^@[0-9a-f]{32}$/);
    assert.ok(list.some((x) => x.NickName === '李娜🌸'), 'emoji spans in NickName decode to the emoji');
    assert.ok(list.some((x) => x.NickName === 'echo'), 'echo is a contact');
    assert.ok(list.find((x) => x.NickName === '开源中国')?.isPublic, '开源中国 is a public account (VerifyFlag & 8)');
    assert.ok(list.find((x) => x.UserName === 'filehelper')?.isSpecial, 'filehelper is a special account');
    const groups = list.filter((x) => x.isRoom);
    assert.equal(groups.length, 3, `three groups, got ${JSON.stringify(groups.map((g) => g.NickName))}`);
    for (const g of groups) assert.match(g.UserName, /^@@[0-9a-f]{64}$/);
    const family = groups.find((g) => g.NickName === '相亲相爱一家人')!;
    assert.ok(family.Members.some((m) => m.UserName === zhang.UserName), `张伟 among ${JSON.stringify(family.Members)}`);
    assert.ok(family.Members.some((m) => m.UserName === self.UserName), 'the user is a member');
    assert.ok(!list.some((x) => x.NickName === '' && !x.isRoom), 'no nameless person contact');
  });

  await t.test('receives a friend text (escaped, multi-line) and an image it can download', async () => {
    const zhang = (await byNick('张伟'))!;
    const text = '你好 <wechat4u>\n第二行';
    const m = await injectAndReceive({ type: 'text', from: '张伟', content: text });
    assert.equal(m.MsgType, 1);
    assert.equal(m.FromUserName, zhang.UserName);
    assert.equal(m.Content, text, 'wechat4u decodes &lt; &gt; and <br/>');
    assert.equal(m.ToUserName, self.UserName);
    assert.equal(m.fromDisplayName, '老张');
    assert.equal(m.isSendBySelf, false);

    const lina = (await byNick('李娜🌸'))!;
    const img = await injectAndReceive({ type: 'image', from: '李娜🌸' });
    assert.equal(img.MsgType, 3);
    assert.equal(img.FromUserName, lina.UserName);
    const bytes = await c.call('getMsgImg', { msgId: img.MsgId });
    assert.equal(bytes.type, 'image/jpeg');
    assert.ok(bytes.headHex.startsWith('ffd8ff'), `a JPEG, got ${bytes.headHex}`);
    assert.ok(bytes.length > 1000);
  });

  await t.test('receives a group text with the member resolved, a link, a voice and a file it can download', async () => {
    const tech = (await byNick('技术交流群🚀'))!;
    const member = tech.Members.find((m) => m.UserName !== self.UserName && m.NickName)!;
    assert.ok(member, 'the group has another member');
    const g = await injectAndReceive({ type: 'text', group: '技术交流群🚀', from: member.NickName, content: '群里好' });
    assert.equal(g.MsgType, 1);
    assert.equal(g.FromUserName, tech.UserName);
    assert.equal(g.OriginalContent, `${member.UserName}:<br/>群里好`, 'wire form: @sender:<br/>text');
    assert.ok(g.Content.endsWith(':\n群里好'), g.Content);
    assert.ok(!g.Content.startsWith('@'), `wechat4u replaced the sender id with a name: ${g.Content}`);

    const oschina = (await byNick('开源中国'))!;
    const link = await injectAndReceive({ type: 'link', from: '开源中国', title: '开源中国周刊', url: 'https://www.oschina.net/news/1' });
    assert.equal(link.MsgType, 49);
    assert.equal(link.FromUserName, oschina.UserName);
    assert.equal(link.AppMsgType, 5);
    assert.equal(link.Url, 'https://www.oschina.net/news/1');
    assert.equal(link.FileName, '开源中国周刊');
    assert.match(link.Content, /<appmsg/, 'the appmsg XML, unescaped by wechat4u');

    const zhang = (await byNick('张伟'))!;
    const voice = await injectAndReceive({ type: 'voice', from: '张伟', content: '3000' });
    assert.equal(voice.MsgType, 34);
    assert.equal(voice.FromUserName, zhang.UserName);
    const mp3 = await c.call('getVoice', { msgId: voice.MsgId });
    assert.equal(mp3.type, 'audio/mpeg');
    assert.ok(mp3.length > 100);

    const wang = (await byNick('王芳'))!;
    const file = await injectAndReceive({ type: 'file', from: '王芳', fileName: '报告.pdf' });
    assert.deepEqual([file.MsgType, file.AppMsgType, file.FromUserName], [49, 6, wang.UserName]);
    assert.equal(file.FileName, '报告.pdf');
    const pdf = await c.call('getDoc', { from: file.FromUserName, mediaId: file.MediaId, fileName: file.FileName });
    assert.ok(pdf.text?.startsWith('%PDF-'), `a PDF, got ${pdf.headHex} (${pdf.type})`);
  });

  await t.test('sends text to a friend (echo answers) and to a group; the sends are in /__sandbox/sent', async () => {
    const echo = (await byNick('echo'))!;
    const mark = c.events.length;
    const r = await c.call('sendText', { to: echo.UserName, text: 'ping from wechat4u' });
    assert.equal(r.BaseResponse.Ret, 0);
    assert.match(r.MsgID, /^\d{19}$/);
    assert.match(r.LocalID, /^\d{16}$/, 'wechat4u posts LocalID as a 16-digit JSON number; it comes back as those digits');
    const rec = (await sent()).find((s) => s.MsgID === r.MsgID);
    assert.ok(rec, 'the send is recorded');
    assert.equal(rec.LocalID, r.LocalID);
    assert.equal(rec.endpoint, 'webwxsendmsg');
    assert.equal(rec.Type, 1);
    assert.equal(rec.toNickName, 'echo');
    assert.equal(rec.Content, 'ping from wechat4u');
    assert.equal(rec.FromUserName, self.UserName);
    const back = await message((x) => x.FromUserName === echo.UserName && x.MsgType === 1, 'echo reply', mark);
    assert.equal(back.Content, 'ping from wechat4u');

    const tech = (await byNick('技术交流群🚀'))!;
    const gr = await c.call('sendText', { to: tech.UserName, text: '大家好' });
    const grec = (await sent()).find((s) => s.MsgID === gr.MsgID);
    assert.equal(grec?.toNickName, '技术交流群🚀');
    assert.equal(grec?.ToUserName, tech.UserName);

    const liu = (await byNick('刘强'))!;
    const oops = await c.call('sendText', { to: liu.UserName, text: '发错了' });
    const rv = await c.call('revokeMsg', { msgId: oops.MsgID, to: liu.UserName });
    assert.equal(rv.BaseResponse.Ret, 0);
    assert.match(rv.Introduction, /撤回/);
    assert.equal((await sent()).find((s) => s.MsgID === oops.MsgID)?.revoked, true, 'the sandbox marks the send revoked');

    // wechat4u's own heartbeat: at login it sends "心跳：<time>" to filehelper, a real send too.
    await waitFor(async () => (await sent()).find((s) => s.ToUserName === 'filehelper' && s.Content.startsWith('心跳：')), 'the heartbeat text to reach filehelper');
  });

  await t.test('uploads and sends an image (webwxsendmsgimg) and a chunked 700 KB file (webwxsendappmsg)', async () => {
    const zhang = (await byNick('张伟'))!;
    const jpeg = solidJpeg(200, 150, [200, 40, 40]);
    const pic = await c.call('sendFile', { to: zhang.UserName, base64: jpeg.toString('base64'), filename: 'photo.jpg' });
    assert.equal(pic.BaseResponse.Ret, 0);
    const prec = (await sent()).find((s) => s.MsgID === pic.MsgID);
    assert.ok(prec, 'the image send is recorded');
    assert.equal(prec.endpoint, 'webwxsendmsgimg');
    assert.equal(prec.Type, 3);
    assert.equal(prec.toNickName, '老张');
    assert.match(prec.MediaId ?? '', /^@crypt_/);

    const doc = Buffer.alloc(700 * 1024, 'openwx wechat4u fidelity\n');
    const file = await c.call('sendFile', { to: zhang.UserName, base64: doc.toString('base64'), filename: 'notes.txt' });
    assert.equal(file.BaseResponse.Ret, 0);
    const frec = (await sent()).find((s) => s.MsgID === file.MsgID);
    assert.ok(frec, 'the file send is recorded');
    assert.equal(frec.endpoint, 'webwxsendappmsg');
    assert.equal(frec.Type, 6);
    assert.match(frec.Content, /<title>notes\.txt<\/title>/);
    assert.match(frec.Content, new RegExp(`<totallen>${doc.length}</totallen>`));
    const uploads = px.lines().filter((l) => l.startsWith('POST file.wx.qq.com/cgi-bin/mmwebwx-bin/webwxuploadmedia?f=json'));
    assert.equal(uploads.length, 1 + 2, 'one upload for the image, two 512 KiB chunks for the file');

    const gif = await c.call('sendFile', { to: zhang.UserName, base64: tinyGif().toString('base64'), filename: 'smile.gif' });
    const grec = (await sent()).find((s) => s.MsgID === gif.MsgID);
    assert.equal(grec?.endpoint, 'webwxsendemoticon', 'a .gif goes out as an emoticon with the uploaded MediaId');
    assert.equal(grec?.Type, 47);
    assert.match(grec?.MediaId ?? '', /^@crypt_/);
    const mp4 = await c.call('sendFile', { to: zhang.UserName, base64: minimalMp4().toString('base64'), filename: 'clip.mp4' });
    const vrec = (await sent()).find((s) => s.MsgID === mp4.MsgID);
    assert.equal(vrec?.endpoint, 'webwxsendvideomsg');
    assert.equal(vrec?.Type, 43);
  });

  await t.test('contact and group operations: avatars, remark, pin, create a group, add a member, rename it', async () => {
    const wang = (await byNick('王芳'))!;
    const icon = await c.call('getHeadImg', { userName: wang.UserName });
    assert.equal(icon.type, 'image/jpeg');
    assert.ok(icon.headHex.startsWith('ffd8ff'));
    const family = (await byNick('相亲相爱一家人'))!;
    const head = await c.call('getHeadImg', { userName: family.UserName });
    assert.ok(head.headHex.startsWith('ffd8ff'), 'group avatar (webwxgetheadimg)');

    assert.equal((await c.call('updateRemarkName', { userName: wang.UserName, remark: '芳芳' })).BaseResponse.Ret, 0);
    await waitFor(async () => (await byNick('王芳'))?.RemarkName === '芳芳', 'the new remark to reach wechat4u through webwxsync ModContactList');

    const chen = (await byNick('陈静'))!;
    assert.equal((await c.call('opLog', { userName: chen.UserName, op: 1, remark: '' })).BaseResponse.Ret, 0);
    const world = (await control(sbx, 'GET', 'world')).json;
    assert.equal(world.people.find((p: any) => p.nickName === '陈静')?.pinned, true, 'pinned in the sandbox world');

    const created = await c.call('createChatroom', { topic: '三人行', members: [wang.UserName, chen.UserName] });
    assert.equal(created.BaseResponse.Ret, 0);
    assert.match(created.ChatRoomName, /^@@[0-9a-f]{64}$/);
    assert.equal(created.MemberCount, 3);
    const room = await waitFor(async () => (await contacts()).find((x) => x.UserName === created.ChatRoomName && x.Members.length === 3), 'the new group in wechat4u');
    assert.equal(room.NickName, '三人行');

    const zhao = (await byNick('赵磊'))!;
    assert.equal((await c.call('updateChatroom', { room: room.UserName, members: [zhao.UserName], fun: 'addmember' })).BaseResponse.Ret, 0);
    await waitFor(async () => (await contacts()).find((x) => x.UserName === room.UserName)?.Members.some((m) => m.UserName === zhao.UserName), '赵磊 in the group');
    await c.call('updateChatRoomName', { room: room.UserName, name: '四人行' });
    await waitFor(async () => (await contacts()).find((x) => x.UserName === room.UserName)?.NickName === '四人行', 'the new topic in wechat4u');
    assert.ok(world.groups.length < (await control(sbx, 'GET', 'world')).json.groups.length, 'the group exists in the sandbox world');
  });

  await t.test('friend request: received (MsgType 37 from fmessage), accepted with its ticket, the new friend appears', async () => {
    const before = (await control(sbx, 'GET', 'state')).json.friends;
    const req = await injectAndReceive({ type: 'friend_request', from: '新朋友', content: '我是新朋友' });
    assert.equal(req.MsgType, 37);
    assert.equal(req.FromUserName, 'fmessage');
    assert.equal(req.RecommendInfo?.NickName, '新朋友');
    assert.ok(req.RecommendInfo?.Ticket, 'the request carries a ticket');
    const ok = await c.call('verifyUser', { userName: req.RecommendInfo!.UserName, ticket: req.RecommendInfo!.Ticket });
    assert.equal(ok.BaseResponse.Ret, 0);
    await waitFor(async () => (await byNick('新朋友'))?.UserName === req.RecommendInfo!.UserName, '新朋友 among wechat4u\'s contacts');
    assert.equal((await control(sbx, 'GET', 'state')).json.friends, before + 1);
  });

  await t.test('logout: wechat4u stops, the sandbox session ends', async () => {
    await c.call('stop');
    await c.waitEvent('logout');
    await waitFor(async () => (await control(sbx, 'GET', 'state')).json.login === 'offline', 'sandbox state offline', 10_000);
    assert.ok(px.lines().some((l) => l.startsWith('POST wx.qq.com/cgi-bin/mmwebwx-bin/webwxlogout?')));
  });

  await t.test('no errors reported by wechat4u along the way', () => {
    assert.deepEqual(c.errors(), []);
  });
});

test('wechat4u notices a session the server ended (synccheck 1101, webwxinit 1101) and logs out', { timeout: 60_000 }, async (t) => {
  const rig = await startRig(DRIVER, { longPollMs: 1500, autoLoginMs: 10 });
  t.after(() => rig.close());
  const c = rig.client;
  await c.call('start');
  await c.waitEvent('login');
  assert.equal((await control(rig.sb, 'GET', 'state')).json.login, 'online', 'auto-login confirmed the QR code');
  const from = c.events.length;
  assert.equal((await control(rig.sb, 'POST', 'logout', {})).status, 200);
  // wechat4u 0.7.14 compares the retcode string with the number 1101, so it sees three failed synccheck answers,
  // restarts after 5 s and gets Ret 1101 from webwxinit → AlreadyLogoutError → 'logout'.
  await c.waitEvent('logout', () => true, 30_000, from);
  const errs = c.errors().filter((e) => e.url);
  const syncchecks = errs.filter((e) => e.url === 'https://webpush.wx.qq.com/cgi-bin/mmwebwx-bin/synccheck');
  assert.ok(syncchecks.length >= 1, 'the failed synccheck answers were reported');
  for (const e of syncchecks) assert.equal(e.data, 'window.synccheck={retcode:"1101",selector:"0"}');
  // Calls still in flight when the session ended (the login status notify, the heartbeat) fail with Ret 1101 too.
  for (const e of errs) assert.match(String(e.data), /retcode:"1101"|"Ret":1101/, `${e.url}: ${e.data}`);
  const tail = rig.proxy.requests.filter((r) => r.url.includes('/webwxinit?')).at(-1);
  assert.equal(tail?.host, 'wx.qq.com', 'the restart called webwxinit again');
  assert.equal((await control(rig.sb, 'GET', 'state')).json.login, 'offline');
});
