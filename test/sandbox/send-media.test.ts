/** Sending of every kind, chunked upload of a 3 MiB file and download back, inbound media bytes, revoke, sent log. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { control, drain, loggedIn, sandbox } from '../helpers/sandbox.ts';
import type { WxTestClient } from '../helpers/wx-test-client.ts';
import type { Sandbox } from '../../src/sandbox/index.ts';
import { Path } from '../../src/wire/paths.ts';
import { buildSendFileAppMsgXml } from '../../src/wire/appmsg.ts';
import { solidJpeg } from '../../src/sandbox/media-gen.ts';

let sb: Sandbox;
let c: WxTestClient;
let contacts: any[];
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const friend = (nick: string) => contacts.find((x) => x.NickName === nick || x.RemarkName === nick).UserName as string;

before(async () => {
  sb = await sandbox();
  ({ client: c } = await loggedIn(sb));
  contacts = await c.allContacts();
  await drain(c);
});
after(async () => sb.close());

test('chunked upload of a 3 MiB file: 512 KiB parts, MediaId on the last, the same bytes downloadable', async () => {
  const bytes = randomBytes(3 * 1024 * 1024 + 12345);
  const answers = await c.upload(bytes, 'big report.pdf', 'application/pdf', 'doc', friend('王芳'));
  assert.equal(answers.length, 7);
  for (const a of answers.slice(0, -1)) assert.deepEqual([a.BaseResponse.Ret, a.MediaId], [0, '']);
  const last = answers[answers.length - 1];
  assert.match(last.MediaId, /^@crypt_[0-9a-f]{8}_[0-9a-f]+$/);
  assert.equal(last.StartPos, bytes.length);
  assert.equal(last.EncryFileName, 'big%20report%2Epdf');
  const xml = buildSendFileAppMsgXml({ name: 'big report.pdf', size: bytes.length, mediaId: last.MediaId, ext: 'pdf' });
  const sent = await c.sendMsg(Path.sendAppMsg, 'fun=async&f=json', { Type: 6, Content: xml, ToUserName: friend('王芳') });
  assert.equal(sent.BaseResponse.Ret, 0);
  const ticket = (await c.jar.getCookies(sb.url)).find((x) => x.key === 'webwx_data_ticket')!.value;
  const q = `sender=${c.selfName}&mediaid=${encodeURIComponent(last.MediaId)}&encryfilename=${last.EncryFileName}&fromuser=${c.keys!.wxuin}&pass_ticket=${c.passTicket}&webwx_data_ticket=${encodeURIComponent(ticket)}`;
  const r = await c.req('file', `${Path.getMedia}?${q}`);
  assert.equal(r.status, 200);
  assert.equal(md5(r.body), md5(bytes));
  const rec = (await control(sb, 'GET', 'sent')).json.at(-1);
  assert.deepEqual([rec.endpoint, rec.Type, rec.MediaId, rec.MsgID], ['webwxsendappmsg', 6, last.MediaId, sent.MsgID]);
});

test('chunks arriving out of order still assemble; an appmsg naming an unknown attachid is refused', async () => {
  const bytes = randomBytes(1200 * 1024);
  const answers = await c.upload(bytes, 'a.bin', 'application/octet-stream', 'doc', 'filehelper', [2, 0, 1]);
  assert.deepEqual(answers.map((a) => a.MediaId === ''), [true, true, false]);
  const ticket = (await c.jar.getCookies(sb.url)).find((x) => x.key === 'webwx_data_ticket')!.value;
  const back = await c.req('file', `${Path.getMedia}?mediaid=${encodeURIComponent(answers[2].MediaId)}&webwx_data_ticket=${encodeURIComponent(ticket)}`, { cookies: false });
  assert.equal(md5(back.body), md5(bytes));
  const bad = await c.json(Path.sendAppMsg, `fun=async&f=json&pass_ticket=${c.passTicket}`, {
    BaseRequest: c.baseRequest(), Msg: { Type: 6, Content: buildSendFileAppMsgXml({ name: 'x', size: 1, mediaId: '@crypt_00000000_00', ext: '' }), FromUserName: c.selfName, ToUserName: 'filehelper', LocalID: '1', ClientMsgId: '1' }, Scene: 0,
  });
  assert.equal(bad.BaseResponse.Ret, 1, 'appmsg with an unknown attachid');
});

test('image, video and emoticon sends reference uploaded MediaIds; images are downloadable by MsgID', async () => {
  const jpeg = solidJpeg(200, 100, [200, 10, 10]);
  const [up] = await c.upload(jpeg, 'red.jpg', 'image/jpeg', 'pic', friend('张伟'));
  assert.deepEqual([up.CDNThumbImgWidth, up.CDNThumbImgHeight], [100, 50]);
  const img = await c.sendMsg(Path.sendMsgImg, 'fun=async&f=json', { Type: 3, MediaId: up.MediaId, Content: '', ToUserName: friend('张伟') });
  assert.equal(img.BaseResponse.Ret, 0);
  const dl = await c.req('page', `${Path.getMsgImg}?&MsgID=${img.MsgID}&skey=${encodeURIComponent(c.keys!.skey!)}`);
  assert.equal(md5(dl.body), md5(jpeg));
  const unknown = await c.sendMsg(Path.sendMsgImg, 'fun=async&f=json', { Type: 3, MediaId: '@crypt_nope', Content: '', ToUserName: friend('张伟') });
  assert.equal(unknown.BaseResponse.Ret, 1);
  const [vup] = await c.upload(randomBytes(2000), 'v.mp4', 'video/mp4', 'video', friend('张伟'));
  const vid = await c.sendMsg(Path.sendVideoMsg, 'fun=async&f=json', { Type: 43, MediaId: vup.MediaId, Content: '', ToUserName: friend('张伟') });
  assert.equal(vid.BaseResponse.Ret, 0);
  const emo = await c.sendMsg(Path.sendEmoticon, 'fun=sys', { Type: 47, EmojiFlag: 2, EMoticonMd5: 'e68363487d8f0519c4e1047de403b2e7', ToUserName: friend('张伟') });
  assert.equal(emo.BaseResponse.Ret, 0);
  const sent = (await control(sb, 'GET', 'sent')).json.slice(-3);
  assert.deepEqual(sent.map((r: any) => r.endpoint), ['webwxsendmsgimg', 'webwxsendvideomsg', 'webwxsendemoticon']);
  assert.deepEqual(Object.keys(sent[0]).slice(0, 8), ['MsgID', 'LocalID', 'Type', 'FromUserName', 'ToUserName', 'Content', 'MediaId', 'endpoint']);
});

test('text to a group and to a friend; unknown recipient or wrong FromUserName is a param error', async () => {
  const room = contacts.find((x) => x.UserName.startsWith('@@')).UserName;
  assert.equal((await c.sendText(room, '大家好')).BaseResponse.Ret, 0);
  assert.equal((await c.sendText('@0123456789abcdef0123456789abcdef', 'x')).BaseResponse.Ret, 1);
  const wrongFrom = await c.sendMsg(Path.sendMsg, '', { Type: 1, Content: 'x', FromUserName: friend('张伟'), ToUserName: friend('王芳') });
  assert.equal(wrongFrom.BaseResponse.Ret, 1);
  const last = (await control(sb, 'GET', 'sent')).json.at(-1);
  assert.deepEqual([last.ToUserName, last.Content, last.Type, last.endpoint], [room, '大家好', 1, 'webwxsendmsg']);
});

test('the echo friend replies with the same text; the silent friend never answers', async () => {
  await drain(c);
  await c.sendText(friend('刘强'), 'are you there?');
  const r = await c.sendText(friend('echo'), 'hello <b>&');
  assert.equal(r.BaseResponse.Ret, 0);
  const m = await c.waitMessage((x) => x.MsgType === 1);
  assert.equal(m.FromUserName, friend('echo'));
  assert.equal(m.Content, 'hello &lt;b&gt;&amp;');
});

test('webwxrevokemsg revokes an own message; unknown ids fail', async () => {
  const s = await c.sendText(friend('王芳'), 'oops');
  const r = await c.json(Path.revokeMsg, `lang=zh_CN&pass_ticket=${c.passTicket}`, { BaseRequest: c.baseRequest(), SvrMsgId: s.MsgID, ToUserName: friend('王芳'), ClientMsgId: s.LocalID });
  assert.equal(r.BaseResponse.Ret, 0);
  assert.equal(r.Introduction, '你可以撤回2分钟内发送的消息（部分旧版本微信不支持这个功能）。');
  assert.equal((await control(sb, 'GET', 'sent')).json.find((x: any) => x.MsgID === s.MsgID).revoked, true);
  const bad = await c.json(Path.revokeMsg, `pass_ticket=${c.passTicket}`, { BaseRequest: c.baseRequest(), SvrMsgId: '1', ToUserName: friend('王芳'), ClientMsgId: '1' });
  assert.deepEqual(Object.keys(bad), ['BaseResponse', 'Introduction', 'SysWording']);
  assert.equal(bad.BaseResponse.Ret, 1);
});

test('inbound image/voice/video/emoticon/file messages come with real downloadable bytes', async () => {
  await drain(c);
  const ids: Record<string, string> = {};
  for (const type of ['image', 'voice', 'video', 'emoticon', 'file']) {
    ids[type] = (await control(sb, 'POST', 'messages', { type, from: '张伟', group: '相亲相爱一家人' })).json.msgIds[0];
  }
  const got: Record<string, any> = {};
  while (Object.keys(got).length < 5) {
    await c.syncCheck();
    for (const m of (await c.sync()).AddMsgList) for (const [t, id] of Object.entries(ids)) if (m.MsgId === id) got[t] = m;
  }
  const skey = encodeURIComponent(c.keys!.skey!);
  const img = await c.req('page', `${Path.getMsgImg}?&MsgID=${ids['image']}&skey=${skey}`);
  assert.deepEqual([...img.body.subarray(0, 2)], [0xff, 0xd8]);
  const thumb = await c.req('page', `${Path.getMsgImg}?&MsgID=${ids['image']}&skey=${skey}&type=slave`);
  assert.ok(thumb.body.length > 0 && thumb.body.length < img.body.length);
  const voice = await c.req('page', `${Path.getVoice}?msgid=${ids['voice']}&skey=${skey}`);
  assert.equal(voice.headers['content-type'], 'audio/mpeg');
  assert.deepEqual([...voice.body.subarray(0, 2)], [0xff, 0xfb]);
  const part = await c.req('page', `${Path.getVideo}?msgid=${ids['video']}&skey=${skey}`, { headers: { range: 'bytes=100-199' } });
  assert.equal(part.status, 206);
  assert.equal(part.body.length, 100);
  assert.match(String(part.headers['content-range']), /^bytes 100-199\/\d+$/);
  const whole = await c.req('page', `${Path.getVideo}?msgid=${ids['video']}&skey=${skey}`);
  assert.equal(whole.status, 200);
  assert.deepEqual(whole.body.subarray(100, 200), part.body);
  const emo = await c.req('page', `${Path.getMsgImg}?&MsgID=${ids['emoticon']}&skey=${skey}&type=big`);
  assert.equal(emo.body.subarray(0, 6).toString('latin1'), 'GIF89a');
  const f = got['file'];
  assert.match(f.Content, /^@[0-9a-f]{32}:<br\/>&lt;msg&gt;&lt;appmsg /);
  const ticket = (await c.jar.getCookies(sb.url)).find((x) => x.key === 'webwx_data_ticket')!.value;
  const doc = await c.req('file', `${Path.getMedia}?sender=${f.FromUserName}&mediaid=${encodeURIComponent(f.MediaId)}&encryfilename=${f.EncryFileName}&fromuser=${c.keys!.wxuin}&pass_ticket=${c.passTicket}&webwx_data_ticket=${encodeURIComponent(ticket)}`);
  assert.equal(doc.body.subarray(0, 5).toString('latin1'), '%PDF-');
  assert.equal(String(doc.body.length), f.FileSize);
  for (const t of ['image', 'voice', 'video']) assert.match(got[t].Content, /^@[0-9a-f]{32}:<br\/>@[0-9a-f]{100,}$/);
  assert.ok(got['voice'].VoiceLength > 0);
  assert.ok(got['video'].PlayLength > 0);
  // Without the session: an empty answer.
  const anon = await c.req('page', `${Path.getVoice}?msgid=${ids['voice']}&skey=${skey}`, { cookies: false });
  assert.equal(anon.body.length, 0);
});
