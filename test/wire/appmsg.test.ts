import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildFileAppMsgContent, buildGenericAppMsgContent, buildLinkAppMsgContent, buildMusicAppMsgContent,
  buildSendFileAppMsgXml, buildTransferAppMsgContent, parseAppMsg, parseAppMsgXml,
} from '../../src/wire/appmsg.ts';
import { splitGroupContent } from '../../src/wire/content.ts';
import { htmlEncodeXml } from '../../src/wire/content.ts';
import { fixtureJson, fixtureText } from '../helpers/fixtures.ts';

/** Fixtures quoted from source code keep string-literal `\"`. */
const unq = (s: string): string => s.replace(/\\"/g, '"');
/** The weixinbot doc examples show the Content pretty-printed after a `Content:` line. */
const docContent = (name: string): string => fixtureText(name).split(/^Content:\s*$/m)[1]!.trim();

test('link share (AppMsgType 5): a real capture parses, and the builder reproduces its Content byte for byte', () => {
  const raw = JSON.parse(fixtureText('msg49-appmsg5-link.unidentified-wechat-api-fork.txt') + '}');
  const a = parseAppMsg(raw.Content)!;
  assert.equal(a.type, 5);
  assert.equal(a.appid, '');
  assert.equal(a.title, raw.FileName);
  assert.equal(a.des, '唯资眉笔水眉笔雾眉液体眉笔防水防汗不脱色自然持久不晕染一字眉');
  assert.equal(a.url, 'http://t.cn/RrBhwLB');
  assert.equal(a.url, raw.Url);
  assert.equal(a.appversion, '1');
  assert.equal(a.appname, '');
  assert.ok(a.thumburl.startsWith('https://img.alicdn.com/'));
  assert.equal(a.attach.cdnthumburl.length > 10, true);
  const built = buildLinkAppMsgContent({
    title: a.title, des: a.des, url: a.url, thumburl: a.thumburl,
    cdnthumb: { url: a.attach.cdnthumburl, length: 278462, width: 800, height: 800, aeskey: a.attach.aeskey },
  });
  assert.equal(built, raw.Content);
});

test('link builder escapes special characters once more than the XML (server double-escape) and round-trips', () => {
  const c = buildLinkAppMsgContent({ title: 'A & B <c> "q"', des: 'd\nx', url: 'http://x/?a=1&b=2', appname: '知乎' });
  assert.ok(c.includes('&lt;title&gt;A &amp;amp; B &amp;lt;c&amp;gt; "q"&lt;/title&gt;'));
  const a = parseAppMsg(c)!;
  assert.deepEqual([a.type, a.title, a.des, a.url, a.appname], [5, 'A & B <c> "q"', 'd\nx', 'http://x/?a=1&b=2', '知乎']);
});

test('file (AppMsgType 6): group doc example parses and the builder reproduces it; the unescaped doc form parses too', () => {
  const raw = fixtureJson('msg49-appmsg6-file-group.wwdk.jsonc');
  const { sender, content } = splitGroupContent(raw.Content);
  assert.equal(sender, '@xxxxxxxxxxxxxxxxx');
  const a = parseAppMsg(content)!;
  assert.equal(a.type, 6);
  assert.equal(a.appid, 'wx6618f1cfc6c132f8');
  assert.equal(a.title, 'fileName.zip');
  assert.deepEqual(
    [a.attach.totallen, a.attach.attachid, a.attach.fileext, a.attach.cdnattachurl, a.attach.aeskey, a.attach.encryver],
    [1024, '@cdn_qwerty_abcd_1', 'zip', 'qwerty', 'abcd', '1'],
  );
  assert.equal(a.appname, '微信电脑版');
  assert.equal(a.md5, 'xxxx');
  const built = buildFileAppMsgContent({
    title: 'fileName.zip', totallen: 1024, attachid: '@cdn_qwerty_abcd_1', fileext: 'zip', cdnattachurl: 'qwerty',
    aeskey: 'abcd', md5: 'xxxx',
  });
  assert.equal(built, content);
  const plain = parseAppMsgXml(unq(fixtureText('msg49-appmsg6-file-content-unescaped.wwdk.xml')))!;
  assert.equal(plain.title, 'fileName.zip');
  assert.equal(plain.attach.totallen, 1024);
});

test('outgoing file appmsg (webwxsendappmsg) is reproduced byte for byte and parses; desktop mode uses appid ""', () => {
  const req = fixtureJson('webwxsendappmsg-file-request.wwdk.jsonc');
  const xml = buildSendFileAppMsgXml({ name: 'fileName.txt', size: 1024, mediaId: '@crypt_xxxxxxxxxxxx', ext: 'txt' });
  assert.equal(xml, req.Msg.Content);
  const a = parseAppMsgXml(xml)!;
  assert.deepEqual([a.appid, a.sdkver, a.type, a.title, a.attach.totallen, a.attach.attachid, a.attach.fileext],
    ['wxeb7ec651dd0aefa9', '', 6, 'fileName.txt', 1024, '@crypt_xxxxxxxxxxxx', 'txt']);
  const doc = parseAppMsgXml(fixtureText('webwxsendappmsg-file-appmsg-xml.wwdk.xml'))!;
  assert.equal(doc.attach.attachid, '@crypt_xxxxxxxxxxxx');
  const desk = buildSendFileAppMsgXml({ name: 'a&b.txt', size: 3, mediaId: '@crypt_1', ext: 'txt', desktop: true });
  assert.ok(desk.startsWith("<appmsg appid='' sdkver=''><title>a&amp;b.txt</title>"));
  assert.equal(parseAppMsgXml(desk)!.title, 'a&b.txt');
});

test('music (AppMsgType 3): the doc example parses (trimmed urls, appinfo), builder round-trips', () => {
  const a = parseAppMsgXml(docContent('msg49-appmsg3-music-content.weixinbot.txt'))!;
  assert.equal(a.type, 3);
  assert.equal(a.appid, 'wx485a97c844086dc9');
  assert.equal(a.appname, '摇一摇搜歌');
  assert.equal(a.dataurl, 'http://ws.stream.qqmusic.qq.com/C100003i9hMt1bgui0.m4a?vkey=6867EF99F3684&guid=ffffffffc104ea2964a111cf3ff3edaf&fromtag=46');
  assert.equal(a.thumburl, 'http://imgcache.qq.com/music/photo/album/63/180_albumpic_143163_0.jpg');
  const c = buildMusicAppMsgContent({ title: '晴天', des: '周杰伦', dataurl: a.dataurl, thumburl: a.thumburl, appid: a.appid, appname: a.appname });
  const b = parseAppMsg(c)!;
  assert.deepEqual([b.type, b.title, b.des, b.dataurl, b.lowdataurl, b.appname, b.appid], [3, '晴天', '周杰伦', a.dataurl, a.dataurl, '摇一摇搜歌', a.appid]);
});

test('transfer (AppMsgType 2000): the captured Content (as Mojo quotes it) parses; builder reproduces its wire form', () => {
  const quoted = unq(fixtureText('msg49-appmsg2000-transfer-content.mojo-weixin.txt').trim());
  // Mojo quotes it after HTML-unescape with the `<br/>` line breaks kept: re-escape the pieces to get the wire form.
  const wire = quoted.split('<br/>').map(htmlEncodeXml).join('<br/>');
  const a = parseAppMsg(wire)!;
  assert.equal(a.type, 2000);
  assert.equal(a.title, '微信转账');
  assert.equal(a.des, 'X向你转账0.10元。如需收钱，请点此升级至最新版本');
  assert.equal(a.wcpay?.feedesc, '￥0.10');
  assert.equal(a.wcpay?.paysubtype, '1');
  assert.equal(a.wcpay?.transferid, '1000050201201711160100300000000');
  assert.ok(a.url.includes('&text=text001&btn_text=btn_text_0'));
  const built = buildTransferAppMsgContent({
    des: a.des, feedesc: '￥0.10', transcationid: '100005020117111600024321086800000000',
    transferid: '1000050201201711160100300000000', invalidtime: 1510910500, begintransfertime: 1510818700,
  });
  assert.equal(built, wire);
});

test('generic / unknown AppMsgTypes parse title, des, url and type; junk gives null', () => {
  const c = buildGenericAppMsgContent({ type: 33, title: '小程序', des: 'd', url: 'https://m', appname: 'X' });
  const a = parseAppMsg(c)!;
  assert.deepEqual([a.type, a.title, a.des, a.url, a.appname], [33, '小程序', 'd', 'https://m', 'X']);
  const skeleton = parseAppMsgXml(docContent('msg49-appmsg5-link-content.weixinbot.txt'));
  assert.equal(skeleton?.type, 5);
  assert.equal(parseAppMsg('hello'), null);
  assert.equal(parseAppMsg(''), null);
  assert.equal(parseAppMsg('&lt;msg&gt;&lt;/msg&gt;'), null);
});
