import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildFileAppMsgContent, buildGenericAppMsgContent, buildLinkAppMsgContent, buildMusicAppMsgContent, buildTransferAppMsgContent } from '../../src/wire/appmsg.ts';
import { htmlEncodeXml, joinGroupContent } from '../../src/wire/content.ts';
import { buildLocationFields } from '../../src/wire/location.ts';
import { buildSysContent, buildTextContent } from '../../src/wire/msgcontent.ts';
import { buildRawMessage, type RawMessageSpec } from '../../src/wire/rawmessage.ts';
import { buildRevokeContent } from '../../src/wire/sysmsg.ts';
import type { RawMessage } from '../../src/wire/types.ts';
import { decodeMessage, type Decoded } from '../../src/model/decode.ts';
import { withMediaError, withMediaPath } from '../../src/model/media.ts';
import type { Message } from '../../src/model/types.ts';
import { fixtureJson, fixtureText } from '../helpers/fixtures.ts';

const ME = '@me';
const msg = (d: Decoded): Message => {
  assert.equal(d.kind, 'message');
  return (d as { message: Message }).message;
};
const dec = (raw: RawMessage, selfId = ME): Decoded => decodeMessage(raw, { selfId });
const raw = (s: Partial<RawMessageSpec> & Pick<RawMessageSpec, 'MsgType'>): RawMessage =>
  buildRawMessage({ MsgId: '1001', FromUserName: '@f1', ToUserName: ME, CreateTime: 1600000000, ...s });

test('friend text (wechaty captures): recv, friend_message, sender/receiver, time numeric, id string', () => {
  const r = fixtureJson('msg1-text-friend-1.wechaty-web.json');
  const m = msg(dec(r, r.ToUserName));
  assert.deepEqual(
    [m.id, m.type, m.class, m.format, m.time, m.content, m.sender_id, m.receiver_id, m.group_id],
    ['179242112323992762', 'friend_message', 'recv', 'text', 1461652670, 'test123', r.FromUserName, r.ToUserName, undefined],
  );
  const r2 = fixtureJson('msg1-text-friend-2.wechaty-web.json');
  assert.equal(msg(dec(r2, r2.ToUserName)).content, '哈哈');
});

test('group text: official regex split, <br/>, entities, emoji, U+2005 mention', () => {
  const sync = fixtureJson('webwxsync-group-text.wx-2015.json');
  const e = sync.AddMsgList[0];
  const m = msg(dec(e, e.ToUserName));
  assert.equal(m.type, 'group_message');
  assert.equal(m.group_id, e.FromUserName);
  assert.equal(m.sender_id, '@70ebb8d6dfbf14d45216795725322d93eb983abf21125a6a5644af0f0e5f9382');
  assert.equal(m.receiver_id, e.ToUserName);
  assert.equal(m.content, e.Content.split(':<br/>')[1]);
  const wwdk = fixtureJson('webwxsync-group-text-modcontact-delcontact.wwdk.jsonc').AddMsgList[0];
  const w = msg(dec(wwdk, wwdk.ToUserName));
  assert.deepEqual([w.sender_id, w.content], ['@xxxxxxxxxxxxxxxxxxxxx', 'Test Message']);
  const g = msg(dec(raw({
    MsgType: 1, FromUserName: '@@g1',
    Content: joinGroupContent('@m1', buildTextContent('a <b>\n@Me\u2005hi 😀') ),
  })));
  assert.deepEqual([g.sender_id, g.content], ['@m1', 'a <b>\n@Me hi 😀']);
  const noPrefix = msg(dec(raw({ MsgType: 1, FromUserName: '@@g1', Content: 'no prefix' })));
  assert.equal(noPrefix.sender_id, undefined);
  assert.equal(noPrefix.content, 'no prefix');
});

test('sent from the phone: class send, source outer, Mojo send status; friend and group; text to self', () => {
  const sync = fixtureJson('webwxsync-statusnotify51-and-text.wechat4u.json');
  const e = sync.AddMsgList[1];
  const self = msg(dec(e, e.FromUserName));
  assert.deepEqual([self.class, self.source, self.type, self.sender_id, self.receiver_id, self.content, self.code, self.msg, self.info],
    ['send', 'outer', 'friend_message', e.FromUserName, e.ToUserName, 'Hello World', 0, '发送成功', '来自其他设备']);
  const g = msg(dec(raw({ MsgType: 1, FromUserName: ME, ToUserName: '@@g1', Content: 'x:<br/>y' })));
  assert.deepEqual([g.class, g.type, g.group_id, g.sender_id, g.receiver_id, g.content], ['send', 'group_message', '@@g1', ME, undefined, 'x:\ny']);
});

test('every AddMsgList entry of the webwxsync captures decodes (nothing dropped)', () => {
  const files = ['webwxsync-emoji47-status51-video43-text1.qjesus.json', 'webwxsync-group-text-modcontact-delcontact.wwdk.jsonc',
    'webwxsync-group-text.wx-2015.json', 'webwxsync-statusnotify51-and-text.wechat4u.json'];
  let n = 0;
  for (const f of files) {
    const sync = fixtureJson(f);
    for (const e of sync.AddMsgList as RawMessage[]) {
      const d = dec(e, e.ToUserName);
      n++;
      if (e.MsgType === 51) assert.equal(d.kind, 'status_notify');
      else {
        const m = msg(d);
        assert.equal(m.id, e.MsgId);
        assert.notEqual(m.format, 'unknown', `${f} ${e.MsgType}`);
      }
    }
  }
  assert.equal(n, 8);
  const q = fixtureJson('webwxsync-emoji47-status51-video43-text1.qjesus.json').AddMsgList;
  const emo = msg(dec(q[0], q[0].ToUserName));
  assert.deepEqual([emo.format, emo.media_type, emo.media_code, emo.media_id, emo.content], ['media', 'emoticon', 47, '6929942228714508460:47', '[表情]']);
  const vid = msg(dec(q[2], q[2].ToUserName));
  assert.deepEqual([vid.media_type, vid.media_code, vid.media_id, vid.content], ['video', 43, '3835382370273594705:43', '[视频]']);
  const sn = dec(q[1], q[1].FromUserName);
  assert.ok(sn.kind === 'status_notify' && sn.code === 1 && sn.userNames.length === 1 && sn.content === null);
});

test('status notify 51 code 4: ids to fetch and the parsed op', () => {
  const e = fixtureJson('webwxsync-statusnotify51-and-text.wechat4u.json').AddMsgList[0];
  const d = dec(e, e.ToUserName);
  assert.ok(d.kind === 'status_notify');
  assert.equal(d.code, 4);
  assert.ok(d.userNames.includes('filehelper'));
  assert.ok(d.userNames.some((u) => u.startsWith('@@')));
  assert.equal(d.content?.opId, 4);
});

test('media messages (group doc examples): image, voice, video, emoticon, microvideo; labels and media ids', () => {
  const cases: [string, string, number, string][] = [
    ['msg3-image-group.wwdk.jsonc', 'image', 3, '[图片]'],
    ['msg34-voice-group.wwdk.jsonc', 'voice', 34, '[语音]'],
    ['msg47-emoji-group.wwdk.jsonc', 'emoticon', 47, '[表情]'],
  ];
  for (const [f, type, code, label] of cases) {
    const e = fixtureJson(f);
    const m = msg(dec(e, e.ToUserName));
    assert.deepEqual([m.type, m.format, m.media_type, m.media_code, m.media_id, m.content, m.group_id],
      ['group_message', 'media', type, code, `${e.MsgId}:${code}`, label, e.FromUserName], f);
    assert.ok(m.sender_id?.startsWith('@x'), f);
  }
  // the video doc example is a message the user sent to a group (From = user, To = @@group)
  const v = fixtureJson('msg43-video.wwdk.jsonc');
  const vm = msg(dec(v, v.FromUserName));
  assert.deepEqual([vm.class, vm.type, vm.group_id, vm.media_type, vm.content], ['send', 'group_message', v.ToUserName, 'video', '[视频]']);
  const micro = msg(dec(raw({ MsgType: 62, Content: '@abc' })));
  assert.deepEqual([micro.media_type, micro.media_code, micro.content], ['microvideo', 62, '[小视频]']);
  const done = withMediaPath(micro, '/tmp/a.mp4', { media_mime: 'video/mp4' });
  assert.deepEqual([done.content, done.media_path, done.media_mime], ['[小视频](/tmp/a.mp4)', '/tmp/a.mp4', 'video/mp4']);
  assert.equal(withMediaError(micro, 'HTTP 404').media_error, 'HTTP 404');
});

test('file (49/6): media file with MediaId:6, name, size string', () => {
  const e = fixtureJson('msg49-appmsg6-file-group.wwdk.jsonc');
  const m = msg(dec(e, e.ToUserName));
  assert.deepEqual([m.format, m.media_type, m.media_code, m.media_id, m.media_name, m.media_size, m.content, m.app_type, m.sender_id],
    ['media', 'file', 6, '@crypt_xxxxxxxxxxxxxxxxxxxxxxxxxxx:6', 'fileName.zip', '1024', '[文件]', 6, '@xxxxxxxxxxxxxxxxx']);
  const built = msg(dec(raw({ MsgType: 49, AppMsgType: 6, FileName: 'a&amp;b.pdf', FileSize: '1234', MediaId: '@crypt_m1',
    Content: buildFileAppMsgContent({ title: 'a&b.pdf', totallen: 1234, attachid: '@cdn_1', fileext: 'pdf' }) })));
  assert.deepEqual([built.media_id, built.media_name, built.media_size], ['@crypt_m1:6', 'a&b.pdf', '1234']);
});

test('link (49/5): Mojo 4-line content and app_* fields from the real capture; parse failure → 2 lines', () => {
  const e = JSON.parse(fixtureText('msg49-appmsg5-link.unidentified-wechat-api-fork.txt') + '}');
  const m = msg(dec({ ...buildRawMessage({ ...e, CreateTime: e.CreateTime }) }, e.ToUserName));
  assert.equal(m.format, 'app');
  assert.equal(m.app_title, '约返:0.99 优惠卷:5 付费价33.00');
  assert.equal(m.app_url, 'http://t.cn/RrBhwLB');
  assert.equal(m.app_id, '');
  assert.equal(m.content,
    '[应用分享]标题：约返:0.99 优惠卷:5 付费价33.00\n[应用分享]描述：唯资眉笔水眉笔雾眉液体眉笔防水防汗不脱色自然持久不晕染一字眉\n[应用分享]应用：未知\n[应用分享]链接：http://t.cn/RrBhwLB');
  const b = msg(dec(raw({ MsgType: 49, AppMsgType: 5, FileName: 'T', Url: 'http://u',
    Content: buildLinkAppMsgContent({ title: 'T 😀', des: 'D', url: 'http://u/?a=1&b=2', appname: '知乎', appid: 'wx1' }) })));
  assert.deepEqual([b.app_id, b.app_title, b.app_desc, b.app_name, b.app_url], ['wx1', 'T 😀', 'D', '知乎', 'http://u/?a=1&b=2']);
  const broken = msg(dec(raw({ MsgType: 49, AppMsgType: 5, FileName: 'T', Url: 'http://u', Content: 'not xml' })));
  assert.equal(broken.content, '[应用分享]标题：T\n[应用分享]链接：http://u');
});

test('music (49/3) and other app types → app with the 2-line content; unparsable and empty → unknown', () => {
  const mu = msg(dec(raw({ MsgType: 49, AppMsgType: 3, FileName: '晴天', AppInfo: { AppID: 'wx485a97c844086dc9' },
    Content: buildMusicAppMsgContent({ title: '晴天', des: '周杰伦', dataurl: 'http://m/a.m4a', appname: '摇一摇搜歌', appid: 'wx485a97c844086dc9' }) })));
  assert.deepEqual([mu.format, mu.app_type, mu.app_title, mu.app_desc, mu.app_name, mu.app_url, mu.content],
    ['app', 3, '晴天', '周杰伦', '摇一摇搜歌', 'http://m/a.m4a', '[应用分享]标题：晴天\n[应用分享]链接：http://m/a.m4a']);
  const mini = msg(dec(raw({ MsgType: 49, AppMsgType: 33, Content: buildGenericAppMsgContent({ type: 33, title: '小程序', url: '' }) })));
  assert.deepEqual([mini.format, mini.app_type, mini.app_title], ['app', 33, '小程序']);
  const junk = msg(dec(raw({ MsgType: 49, AppMsgType: 57, Content: '' })));
  assert.deepEqual([junk.format, junk.raw_type, junk.app_type, junk.content], ['unknown', 49, 57, '[未知消息]']);
});

test('transfer (49/2000) → payment `[转账](des)` with payment fields; red packet 2001 → `[红包]`', () => {
  const quoted = fixtureText('msg49-appmsg2000-transfer-content.mojo-weixin.txt').trim().replace(/\\"/g, '"');
  const wire = quoted.split('<br/>').map(htmlEncodeXml).join('<br/>');
  const m = msg(dec(raw({ MsgType: 49, AppMsgType: 2000, FileName: '微信转账', Content: wire })));
  assert.deepEqual([m.format, m.content, m.payment_fee, m.payment_id, m.app_type],
    ['payment', '[转账](X向你转账0.10元。如需收钱，请点此升级至最新版本)', '￥0.10', '1000050201201711160100300000000', 2000]);
  const b = msg(dec(raw({ MsgType: 49, AppMsgType: 2000, Content: buildTransferAppMsgContent({ des: 'Y向你转账1.00元', feedesc: '￥1.00', pay_memo: '午饭' }) })));
  assert.deepEqual([b.content, b.payment_memo], ['[转账](Y向你转账1.00元)', '午饭']);
  const rp = msg(dec(raw({ MsgType: 49, AppMsgType: 2001, FileName: '微信红包', Content: '' })));
  assert.deepEqual([rp.format, rp.content], ['payment', '[红包](微信红包)']);
});

test('card (42): fields from XML and RecommendInfo, Mojo 4-line content', () => {
  const e = fixtureJson('msg42-card-group.wwdk.jsonc');
  const m = msg(dec(e, e.ToUserName));
  assert.deepEqual([m.format, m.card_id, m.card_name, m.card_sex, m.card_avatar],
    ['card', '@xxxxxxxxxxxxxxx', 'xxxx', '', 'http://wx.qlogo.cn/mmhead/ver_1/xxxx/0']);
  assert.equal(m.content, '[名片]昵称：xxxx\n[名片]性别：未知\n[名片]位置：未知 未知\n[名片]头像：http://wx.qlogo.cn/mmhead/ver_1/xxxx/0');
  const f = msg(dec(raw({ MsgType: 42, RecommendInfo: { UserName: '@c', NickName: 'N<span class="emoji emoji1f604"></span>', Province: '广东', City: '深圳', Alias: 'acc', Sex: 1 } })));
  assert.deepEqual([f.card_name, f.card_sex, f.card_account, f.content.split('\n')[2]], ['N😄', 'male', 'acc', '[名片]位置：广东 深圳']);
});

test('friend request (37): Mojo params from RecommendInfo plus parsed detail', () => {
  const e = fixtureJson('msg37-verifymsg-friend-request.wechaty-web.json');
  const d = dec(e, e.ToUserName);
  assert.ok(d.kind === 'friend_request');
  assert.equal(d.id, '@04a0fa314d0d8d50dc54e2ec908744ebf46b87404d143fd9a6692182dd90bd49');
  assert.equal(d.displayname, '李卓桓.PreAngel');
  assert.equal(d.verify, '我是群聊"Wechaty"的李卓桓.PreAngel');
  assert.ok(d.ticket.startsWith('v2_ba70'));
  assert.equal(d.fromUserName, 'fmessage');
  assert.equal(d.detail?.alias, 'zixia008');
  const w = dec(fixtureJson('msg37-verifymsg-friend-request.wwdk.jsonc'));
  assert.ok(w.kind === 'friend_request' && w.ticket === 'v2_xxxxxxxxx@stranger');
});

test('system 10000: friend → text; group → group_notice without sender; red-packet notice', () => {
  const e = fixtureJson('msg10000-friend-added-en.wechaty-web.json');
  const m = msg(dec(e, e.ToUserName));
  assert.deepEqual([m.type, m.format, m.sender_id, m.content], ['friend_message', 'text', e.FromUserName, e.Content]);
  const g = msg(dec(raw({ MsgType: 10000, FromUserName: '@@g', Content: buildSysContent('你邀请"小明"加入了群聊') })));
  assert.deepEqual([g.type, g.format, g.group_id, g.sender_id, g.content], ['group_notice', 'text', '@@g', undefined, '你邀请"小明"加入了群聊']);
  assert.equal(msg(dec(raw({ MsgType: 10000, Content: '收到红包，请在手机上查看' }))).content, '收到红包，请在手机上查看');
});

test('revoke (10002): revoke_id and content; own revoke flipped to send (friend swaps, group sender = me); parse failure', () => {
  const e = fixtureJson('msg10002-revoke.wwdk.json'); // From and To are redacted to the same value: decode as a third party
  const m = msg(dec(e));
  assert.deepEqual([m.format, m.revoke_id, m.content, m.class], ['revoke', '41000000000000000', '[撤回消息]("xx" 撤回了一条消息)', 'recv']);
  const own = buildRevokeContent({ session: 'wxid_p', oldmsgid: '1', msgid: '4835386562261263795', replacemsg: '你撤回了一条消息' });
  const f = msg(dec(raw({ MsgType: 10002, FromUserName: '@peer', Content: own })));
  assert.deepEqual([f.class, f.source, f.sender_id, f.receiver_id, f.content], ['send', 'outer', ME, '@peer', '[撤回消息](你撤回了一条消息)']);
  const g = msg(dec(raw({ MsgType: 10002, FromUserName: '@@g', Content: joinGroupContent('@peer', own) })));
  assert.deepEqual([g.class, g.sender_id, g.receiver_id, g.group_id], ['send', ME, undefined, '@@g']);
  assert.equal(msg(dec(raw({ MsgType: 10002, Content: 'x' }))).content, '[撤回消息]');
});

test('location (1 + 48): [位置]label and location_* fields; group form; MsgType 48 form', () => {
  const e = fixtureJson('msg1-location-submsgtype48.wwdk.jsonc');
  const m = msg(dec(e, e.ToUserName));
  assert.deepEqual([m.format, m.content, m.location_label, m.location_lat, m.location_lng, m.location_url],
    ['text', '[位置]深圳市xxxx', '深圳市xxxx', '22.000000', '113.000000', e.Url]);
  const f = buildLocationFields({ label: '北京 & 天安门', lat: 39.9, lng: 116.39, msgId: '5' });
  const g = msg(dec(raw({ MsgType: 1, FromUserName: '@@g', ...f, Content: joinGroupContent('@m', f.Content) })));
  assert.deepEqual([g.sender_id, g.content, g.location_lat], ['@m', '[位置]北京 & 天安门', '39.900000']);
  const t48 = msg(dec(raw({ MsgType: 48, Content: f.OriContent.replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\n/g, '<br/>') })));
  assert.equal(t48.content, '[位置]北京 & 天安门');
  const plain = fixtureText('msg48-location-as-text.weixinbot.txt');
  const url = /Content: (\S+)/.exec(plain)![1]!;
  assert.equal(msg(dec(raw({ MsgType: 1, Content: url }))).content, url);
});

test('anything else → format unknown with raw_type (VOIP, possible friend, sys notice)', () => {
  for (const t of [40, 50, 52, 53, 9999]) {
    const m = msg(dec(raw({ MsgType: t, Content: '&lt;voipmsg type="VoIPBubbleMsg"&gt;&lt;/voipmsg&gt;' })));
    assert.deepEqual([m.format, m.raw_type, m.content, m.raw_content], ['unknown', t, '[未知消息]', '<voipmsg type="VoIPBubbleMsg"></voipmsg>']);
  }
  assert.equal(msg(dec(raw({ MsgType: 9999, Content: 'plain notice' }))).content, 'plain notice');
});
