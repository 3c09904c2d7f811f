import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCardContent, parseCardContent } from '../../src/wire/card.ts';
import { joinGroupContent, splitGroupContent } from '../../src/wire/content.ts';
import { buildLocationFields, parseLocation } from '../../src/wire/location.ts';
import {
  buildEmoticonContent, buildImageContent, buildOpaqueMediaContent, buildVoiceContent, parseMediaContent,
} from '../../src/wire/mediamsg.ts';
import { buildSysContent, buildTextContent, mentionText, parseTextContent, SysText } from '../../src/wire/msgcontent.ts';
import { buildStatusNotifyContent, parseStatusNotifyContent, splitNames } from '../../src/wire/notifymsg.ts';
import { buildRevokeContent, parseRevokeContent, parseRevokeXml, SELF_REVOKE_TEXT } from '../../src/wire/sysmsg.ts';
import { buildRecommendInfo, buildVerifyContent, parseVerifyContent } from '../../src/wire/verifymsg.ts';
import { fixtureJson, fixtureText } from '../helpers/fixtures.ts';

const unq = (s: string): string => s.replace(/\\"/g, '"');
const docContent = (name: string): string => fixtureText(name).split(/^Content:[ \t]*$/m)[1]!.split(/^\S/m)[0]!.trim();

test('text: emoji spans, <br/>, entities and the U+2005 mention space; builder round-trips', () => {
  assert.equal(parseTextContent('a&lt;b&gt; &amp; c<br/>d <span class="emoji emoji1f604"></span>'), 'a<b> & c\nd 😄');
  assert.equal(parseTextContent('hello @Me\u2005there'), 'hello @Me there');
  assert.equal(parseTextContent('<span class="qqemoji qqemoji13"></span>'), '[qqemoji13]');
  const t = 'x < y & "z"\n第二行 🇨🇳 😀 ' + mentionText('张三') + 'hi';
  const wire = buildTextContent(t);
  assert.ok(wire.includes('<br/>') && wire.includes('&lt;') && wire.includes('<span class="emoji emoji1f600"></span>'));
  assert.equal(parseTextContent(wire), t.replace('\u2005', ' '));
  const raw = fixtureJson('msg1-text-friend-1.wechaty-web.json');
  assert.equal(parseTextContent(raw.Content), 'test123');
  assert.equal(buildTextContent('test123'), raw.Content);
});

test('system tips: fixture texts are reproduced', () => {
  const raw = fixtureJson('msg10000-friend-added-en.wechaty-web.json');
  assert.equal(buildSysContent(SysText.friendAddedEn('李卓桓.PreAngel')), raw.Content);
  const doc = fixtureText('msg10000-system-content-examples.weixinbot.txt');
  for (const s of [SysText.RED_PACKET, SysText.STRANGER_WARNING, SysText.friendAdded('xxx')]) assert.ok(doc.includes(`"${s}"`), s);
  assert.equal(SysText.youInvited(['A', 'B']), '你邀请"A、B"加入了群聊');
});

test('share card (42): group doc example parses and is reproduced byte for byte; the blank doc form parses', () => {
  const raw = fixtureJson('msg42-card-group.wwdk.jsonc');
  const { sender, content } = splitGroupContent(raw.Content);
  assert.equal(sender, '@xxxxxxxxxxx');
  const c = parseCardContent(content)!;
  assert.deepEqual(
    [c.username, c.nickname, c.sex, c.bigheadimgurl, c.antispamticket],
    ['v1_xxxx@stranger', 'xxxx', '0', 'http://wx.qlogo.cn/mmhead/ver_1/xxxx/0', 'v2_xxxx@stranger'],
  );
  assert.equal(buildCardContent(c), content);
  const doc = parseCardContent(docContent('msg42-card-content.weixinbot.txt').replace(/\n\t*/g, '\n'))!;
  assert.equal(doc.sex, '1');
  const rt = parseCardContent(buildCardContent({ username: '@u', nickname: 'A&B "x"', alias: 'acc', province: '广东', city: '深圳', sex: '2' }))!;
  assert.deepEqual([rt.nickname, rt.alias, rt.province, rt.city, rt.sex, rt.antispamticket], ['A&B "x"', 'acc', '广东', '深圳', '2', '']);
  assert.equal(parseCardContent('garbage'), null);
});

test('friend request (37): real capture parses (entity in attribute) and is reproduced byte for byte', () => {
  const raw = fixtureJson('msg37-verifymsg-friend-request.wechaty-web.json');
  const v = parseVerifyContent(raw.Content)!;
  assert.equal(v.fromusername, 'wxid_a8d806dzznm822');
  assert.equal(v.fromnickname, '李卓桓.PreAngel');
  assert.equal(v.content, '我是群聊"Wechaty"的李卓桓.PreAngel');
  assert.equal(v.content, raw.RecommendInfo.Content);
  assert.equal(v.ticket, raw.RecommendInfo.Ticket);
  assert.equal(v.opcode, '2');
  assert.equal(v.chatroomusername, '2332413729@chatroom');
  const built = buildVerifyContent({
    fromusername: v.fromusername, encryptusername: v.encryptusername, fromnickname: v.fromnickname, content: v.content,
    shortpy: 'LZHPREANGEL', country: 'CN', province: 'Beijing', city: 'Haidian', sign: v.sign, percard: 1, sex: 1,
    alias: 'zixia008', albumbgimgid: '911623988445184_911623988445184', snsflag: 49,
    snsbgimgid: 'http://mmsns.qpic.cn/mmsns/zZSYtpeVianSQYekFNbuiajROicLficBzzeGuvQjnWdGDZ4budZovamibQnoKWba7D2LeuQRPffS8aeE/0',
    snsbgobjectid: '12183966160653848744', bigheadimgurl: v.bigheadimgurl, smallheadimgurl: v.smallheadimgurl,
    ticket: v.ticket, chatroomusername: v.chatroomusername,
  });
  assert.equal(built, raw.Content);
  const doc = fixtureJson('msg37-verifymsg-friend-request.wwdk.jsonc');
  assert.equal(parseVerifyContent(doc.Content)!.encryptusername, 'v1_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx@stranger');
  assert.equal(parseVerifyContent(unq(fixtureText('msg37-verifymsg-content-unescaped.wwdk.xml')).replace(/</g, '&lt;').replace(/>/g, '&gt;'))!.ticket, 'v2_xxxxxxxxx@stranger');
  const ri = buildRecommendInfo({ UserName: '@x', NickName: 'n', Ticket: 't', OpCode: 2, Scene: 14 });
  assert.deepEqual(Object.keys(ri), Object.keys(doc.RecommendInfo));
});

test('revoke (10002): doc example reproduced byte for byte; Mojo-quoted self revoke parses', () => {
  const raw = fixtureJson('msg10002-revoke.wwdk.json');
  const r = parseRevokeContent(raw.Content)!;
  assert.deepEqual(r, { session: 'wxid_xxxxxxx', oldmsgid: '1660000000', msgid: '41000000000000000', replacemsg: '"xx" 撤回了一条消息' });
  assert.equal(buildRevokeContent(r), raw.Content);
  const self = parseRevokeXml(unq(fixtureText('msg10002-revoke-self-content.mojo-weixin.txt').trim()))!;
  assert.equal(self.msgid, '4835386562261263795');
  assert.equal(self.replacemsg, SELF_REVOKE_TEXT);
  const doc = parseRevokeXml(unq(fixtureText('msg10002-revoke-content-unescaped.wwdk.xml')))!;
  assert.equal(doc.msgid, '41000000000000000');
  assert.equal(parseRevokeContent('&lt;sysmsg type="other"&gt;&lt;/sysmsg&gt;'), null);
  const grp = joinGroupContent('@abc', buildRevokeContent({ session: '1@chatroom', oldmsgid: '1', msgid: '2', replacemsg: '"A]]>B" 撤回了一条消息' }));
  assert.equal(parseRevokeContent(splitGroupContent(grp).content)!.replacemsg, '"A]]>B" 撤回了一条消息');
});

test('location (1 + SubMsgType 48): doc example parses and is reproduced; MsgType 48 form parses', () => {
  const raw = fixtureJson('msg1-location-submsgtype48.wwdk.jsonc');
  const l = parseLocation({ content: raw.Content, url: raw.Url, oriContent: raw.OriContent })!;
  assert.deepEqual([l.label, l.x, l.y, l.scale, l.poiname], ['深圳市xxxx', '22.000000', '113.000000', '16', '[位置]']);
  assert.ok(l.imagePath.endsWith('pictype=location'));
  const b = buildLocationFields({ label: '深圳市xxxx', lat: 22, lng: 113, msgId: '790000000000000' });
  assert.deepEqual([b.Content, b.Url, b.OriContent, b.SubMsgType], [raw.Content, raw.Url, raw.OriContent, 48]);
  const as48 = parseLocation({ content: b.OriContent.replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\n/g, '<br/>') })!;
  assert.equal(as48.label, '深圳市xxxx');
  assert.equal(parseLocation({ content: 'hello' }), null);
  const onlyUrl = parseLocation({ content: 'http://weixin.qq.com/cgi-bin/redirectforward?args=xxx', url: '' });
  assert.equal(onlyUrl, null);
});

test('media Contents: image/voice/emoticon XML, opaque @blob, empty', () => {
  const legacy = fixtureText('legacy-2014-msg3-image.qwx.txt');
  const legacyContent = JSON.parse(/"Content": ("(?:[^"\\]|\\.)*")/.exec(legacy)![1]!);
  assert.deepEqual(parseMediaContent(legacyContent), { kind: 'img', attrs: { length: '95231', hdlength: '0' } });
  assert.equal(buildImageContent({ length: 95231 }), legacyContent);
  const img = parseMediaContent(docContent('msg3-image-content.weixinbot.txt'));
  assert.equal(img.attrs.length, '6503');
  const voice = parseMediaContent(docContent('msg34-voice-content.weixinbot.txt'));
  assert.equal(voice.kind, 'voicemsg');
  assert.equal(voice.attrs.voicelength, '1580');
  const v2 = parseMediaContent(buildVoiceContent({ voicelength: 1580, length: 2026, bufid: '1', clientmsgid: 'c' }));
  assert.deepEqual([v2.kind, v2.attrs.voicelength, v2.attrs.clientmsgid], ['voicemsg', '1580', 'c']);

  const sync = fixtureJson('webwxsync-emoji47-status51-video43-text1.qjesus.json');
  const emo = sync.AddMsgList[0];
  const e = parseMediaContent(emo.Content);
  assert.equal(e.kind, 'emoji');
  assert.equal(e.attrs.md5, '594560af0d32d92224682ee2c292877a');
  const a = e.attrs;
  const rebuilt = buildEmoticonContent({
    fromusername: a.fromusername, tousername: a.tousername, md5: a.md5!, len: Number(a.len), cdnurl: a.cdnurl!,
    encrypturl: a.encrypturl, aeskey: a.aeskey, externurl: a.externurl, externmd5: a.externmd5,
    width: Number(a.width), height: Number(a.height),
  });
  assert.equal(rebuilt, emo.Content);
  const grp = fixtureJson('msg47-emoji-group.wwdk.jsonc');
  assert.equal(parseMediaContent(splitGroupContent(grp.Content).content).attrs.cdnurl, 'http://emoji.qpic.cn/wx_emoji/xxxxxxxx/');
  assert.equal(parseMediaContent(docContent('msg47-emoji-content.weixinbot.txt')).attrs.productid, 'com.tencent.xin.emoticon.bilibili');

  const video = sync.AddMsgList[2];
  const op = parseMediaContent(video.Content);
  assert.equal(op.kind, 'opaque');
  const blob = buildOpaqueMediaContent('3835382370273594705');
  assert.equal(blob.length, video.Content.length);
  assert.match(blob, /^@[0-9a-f]+$/);
  assert.equal(blob, buildOpaqueMediaContent('3835382370273594705'));
  assert.equal(parseMediaContent(splitGroupContent(fixtureJson('msg3-image-group.wwdk.jsonc').Content).content).kind, 'opaque');
  assert.equal(parseMediaContent('').kind, 'empty');
});

test('status notify (51): the verbatim code-4 capture parses and is reproduced byte for byte', () => {
  const sync = fixtureJson('webwxsync-statusnotify51-and-text.wechat4u.json');
  const m = sync.AddMsgList[0];
  const s = parseStatusNotifyContent(m.Content)!;
  assert.equal(s.opId, 4);
  assert.equal(s.usernames[0], 'wxid_7313013130512');
  assert.ok(s.usernames.includes('filehelper') && s.usernames.includes('902809793@chatroom'));
  assert.equal(s.unread.length, 5);
  assert.deepEqual(s.unread[4], { username: 'MomentsUnreadMsgStatus', lastreadtime: '1463158935' });
  assert.equal(buildStatusNotifyContent({ usernames: s.usernames, unread: s.unread }), m.Content);
  assert.equal(splitNames(m.StatusNotifyUserName).length, m.StatusNotifyUserName.split(',').length);
  assert.equal(parseStatusNotifyContent(''), null);
});
