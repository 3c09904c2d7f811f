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
import type { Sandbox } from '../../src/sandbox/index.ts';
import { solidJpeg } from '../../src/sandbox/media-gen.ts';
import { control, sandbox } from '../helpers/sandbox.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { makeTestCert, type TestCert } from './harness/cert.ts';
import { startTlsProxy, type TlsProxy } from './harness/tls-proxy.ts';
import { ClientProcess } from './harness/child.ts';

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
}

test(`wechat4u ${WECHAT4U_VERSION}, unmodified, against the sandbox under the real names`, { timeout: 60_000 }, async (t) => {
  let sb: Sandbox | undefined;
  let cert: TestCert | undefined;
  let proxy: TlsProxy | undefined;
  let client: ClientProcess | undefined;
  try {
    sb = await sandbox({ longPollMs: 1500 });
    cert = await makeTestCert();
    proxy = await startTlsProxy({ key: cert.key, cert: cert.cert, targetPort: sb.port });
    const c = (client = new ClientProcess(DRIVER, { proxyPort: proxy.port, caCertPath: cert.certPath }));
    const sbx = sb;
    const px = proxy;
    await c.waitEvent('ready');

    const contacts = () => c.call<Contact[]>('contacts');
    const byNick = async (nick: string) => (await contacts()).find((x) => x.NickName === nick);
    const sent = async () => (await control(sbx, 'GET', 'sent')).json as SentRecord[];
    const inject = async (body: Record<string, unknown>): Promise<string> => {
      const r = await control(sbx, 'POST', 'messages', body);
      assert.equal(r.status, 200, `inject ${JSON.stringify(body)}: ${JSON.stringify(r.json)}`);
      return r.json.msgIds[0] as string;
    };
    const message = (pred: (m: Msg) => boolean, what: string) =>
      c.waitEvent('message', (m: Msg) => pred(m), 15_000).catch((e: Error) => {
        throw new Error(`${what}: ${e.message}`);
      }) as Promise<Msg>;
    let self = { UserName: '', NickName: '' };

    await t.test('QR login: uuid, scan (201 + avatar), confirm, UOS desktop 301, init', async () => {
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
      const list = await waitFor(
        async () => {
          const all = await contacts();
          const family = all.find((x) => x.NickName === '相亲相爱一家人');
          const tech = all.find((x) => x.NickName === '技术交流群🚀');
          const untitled = all.find((x) => x.isRoom && x.NickName === '');
          const ready = family && family.Members.length === 5 && tech && tech.Members.length > 0 && untitled && untitled.Members.length > 0;
          return ready ? all : null;
        },
        'wechat4u to know every friend and group with its members',
        15_000,
      );
      const zhang = list.find((x) => x.NickName === '张伟')!;
      assert.ok(zhang, '张伟 is a contact');
      assert.equal(zhang.RemarkName, '老张');
      assert.equal(zhang.DisplayName, '老张');
      assert.match(zhang.UserName, /^@[0-9a-f]{32}$/);
      assert.ok(list.some((x) => x.NickName === '李娜🌸'), 'emoji spans in NickName decode to the emoji');
      assert.ok(list.some((x) => x.NickName === 'echo'));
      assert.ok(list.find((x) => x.NickName === '开源中国')?.isPublic, '开源中国 is a public account (VerifyFlag & 8)');
      assert.ok(list.find((x) => x.UserName === 'filehelper')?.isSpecial, 'filehelper is a special account');
      const groups = list.filter((x) => x.isRoom);
      assert.equal(groups.length, 3, `three groups, got ${JSON.stringify(groups.map((g) => g.NickName))}`);
      for (const g of groups) assert.match(g.UserName, /^@@[0-9a-f]{64}$/);
      const family = groups.find((g) => g.NickName === '相亲相爱一家人')!;
      // Member NickName is the remark name for friends that have one, as the real server does (wechaty issue #104).
      assert.ok(family.Members.some((m) => m.NickName === '老张'));
      assert.ok(family.Members.some((m) => m.UserName === self.UserName), 'the user is a member');
      assert.ok(!list.some((x) => x.NickName === '' && !x.isRoom), 'no nameless person contact');
    });

    await t.test('receives a friend text (escaped, multi-line) and an image it can download', async () => {
      const zhang = (await byNick('张伟'))!;
      const text = '你好 <wechat4u>\n第二行';
      await inject({ type: 'text', from: '张伟', content: text });
      const m = await message((x) => x.MsgType === 1 && x.FromUserName === zhang.UserName, 'text from 张伟');
      assert.equal(m.Content, text, 'wechat4u decodes &lt; &gt; and <br/>');
      assert.equal(m.ToUserName, self.UserName);
      assert.equal(m.fromDisplayName, '老张');
      assert.equal(m.isSendBySelf, false);

      const lina = (await byNick('李娜🌸'))!;
      const imgId = await inject({ type: 'image', from: '李娜🌸' });
      const img = await message((x) => x.MsgType === 3 && x.FromUserName === lina.UserName, 'image from 李娜🌸');
      assert.equal(img.MsgId, imgId);
      const bytes = await c.call('getMsgImg', { msgId: img.MsgId });
      assert.equal(bytes.type, 'image/jpeg');
      assert.ok(bytes.headHex.startsWith('ffd8ff'), `a JPEG, got ${bytes.headHex}`);
      assert.ok(bytes.length > 1000);
    });

    await t.test('receives a group text with the member resolved, a link, a voice and a file it can download', async () => {
      const tech = (await byNick('技术交流群🚀'))!;
      const member = tech.Members.find((m) => m.UserName !== self.UserName && m.NickName)!;
      assert.ok(member, 'the group has another member');
      await inject({ type: 'text', group: '技术交流群🚀', from: member.NickName, content: '群里好' });
      const g = await message((x) => x.MsgType === 1 && x.FromUserName === tech.UserName, 'group text');
      assert.equal(g.OriginalContent, `${member.UserName}:<br/>群里好`, 'wire form: @sender:<br/>text');
      assert.ok(g.Content.endsWith(':\n群里好'), g.Content);
      assert.ok(!g.Content.startsWith('@'), `wechat4u replaced the sender id with a name: ${g.Content}`);

      const oschina = (await byNick('开源中国'))!;
      await inject({ type: 'link', from: '开源中国', title: '开源中国周刊', url: 'https://www.oschina.net/news/1' });
      const link = await message((x) => x.MsgType === 49 && x.FromUserName === oschina.UserName, 'link');
      assert.equal(link.AppMsgType, 5);
      assert.equal(link.Url, 'https://www.oschina.net/news/1');
      assert.equal(link.FileName, '开源中国周刊');
      assert.match(link.Content, /<appmsg/, 'the appmsg XML, unescaped by wechat4u');

      const zhang = (await byNick('张伟'))!;
      await inject({ type: 'voice', from: '张伟', content: '3000' });
      const voice = await message((x) => x.MsgType === 34 && x.FromUserName === zhang.UserName, 'voice');
      const mp3 = await c.call('getVoice', { msgId: voice.MsgId });
      assert.equal(mp3.type, 'audio/mpeg');
      assert.ok(mp3.length > 100);

      const wang = (await byNick('王芳'))!;
      await inject({ type: 'file', from: '王芳', fileName: '报告.pdf' });
      const file = await message((x) => x.MsgType === 49 && x.AppMsgType === 6 && x.FromUserName === wang.UserName, 'file');
      assert.equal(file.FileName, '报告.pdf');
      const pdf = await c.call('getDoc', { from: file.FromUserName, mediaId: file.MediaId, fileName: file.FileName });
      assert.ok(pdf.text?.startsWith('%PDF-'), `a PDF, got ${pdf.headHex} (${pdf.type})`);
    });

    await t.test('sends text to a friend (echo answers) and to a group; the sends are in /__sandbox/sent', async () => {
      const echo = (await byNick('echo'))!;
      const r = await c.call('sendText', { to: echo.UserName, text: 'ping from wechat4u' });
      assert.equal(r.BaseResponse.Ret, 0);
      assert.match(r.MsgID, /^\d{19}$/);
      const rec = (await sent()).find((s) => s.MsgID === r.MsgID);
      assert.ok(rec, 'the send is recorded');
      assert.equal(rec.endpoint, 'webwxsendmsg');
      assert.equal(rec.Type, 1);
      assert.equal(rec.toNickName, 'echo');
      assert.equal(rec.Content, 'ping from wechat4u');
      assert.equal(rec.FromUserName, self.UserName);
      const back = await message((x) => x.FromUserName === echo.UserName && x.MsgType === 1, 'echo reply');
      assert.equal(back.Content, 'ping from wechat4u');

      const tech = (await byNick('技术交流群🚀'))!;
      const gr = await c.call('sendText', { to: tech.UserName, text: '大家好' });
      const grec = (await sent()).find((s) => s.MsgID === gr.MsgID);
      assert.equal(grec?.toNickName, '技术交流群🚀');
      assert.equal(grec?.ToUserName, tech.UserName);

      // wechat4u's own heartbeat: at login it sends "心跳：<time>" to filehelper, a real send too.
      const beat = (await sent()).find((s) => s.ToUserName === 'filehelper' && s.Content.startsWith('心跳：'));
      assert.ok(beat, 'the heartbeat text reached filehelper');
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
  } finally {
    await client?.kill();
    await proxy?.close();
    await sb?.close();
    await cert?.remove();
  }
});
