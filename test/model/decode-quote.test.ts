/**
 * Quotes (MsgType 49 + AppMsgType 57): the `<refermsg>` of the quote XML parsed (src/wire/appmsg.ts) and decoded as
 * openwx extras beside Mojo's two-line app content (docs/message-model.md), in a friend chat and in a group.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildReferAppMsgContent, parseAppMsg } from '../../src/wire/appmsg.ts';
import { joinGroupContent } from '../../src/wire/content.ts';
import { buildRawMessage } from '../../src/wire/rawmessage.ts';
import { decodeMessage } from '../../src/model/decode.ts';
import type { Message } from '../../src/model/types.ts';

const refer = { type: 1, svrid: '5820391022736', fromusr: '2332413729@chatroom', chatusr: 'wxid_zhangwei8848', displayname: '大哥', content: '原话 <b>&amp;</b>', createtime: '1600000000' };

test('the quote XML round-trips: reply text as title, type 57, every refermsg field (escaped text intact)', () => {
  const a = parseAppMsg(buildReferAppMsgContent({ title: '回复 & 说明', refer, fromusername: 'wxid_lina0521' }));
  assert.equal(a?.type, 57);
  assert.equal(a?.title, '回复 & 说明');
  assert.deepEqual(a?.refer, refer);
  assert.equal(a?.fromusername, 'wxid_lina0521');
  assert.equal(parseAppMsg(buildReferAppMsgContent({ title: 'x', refer: { ...refer, svrid: '' }, fromusername: '' }))?.refer?.svrid, '');
});

test('a group quote decodes as app with quote_id / quote_sender / quote_name / quote_content; Mojo content unchanged', () => {
  const content = joinGroupContent('@m1', buildReferAppMsgContent({ title: '收到', refer, fromusername: 'wxid_lina0521' }));
  const d = decodeMessage(buildRawMessage({ MsgId: '77', FromUserName: '@@g1', ToUserName: '@me', CreateTime: 1600000001, MsgType: 49, AppMsgType: 57, FileName: '收到', Content: content }), { selfId: '@me' });
  assert.equal(d.kind, 'message');
  const m = (d as { message: Message }).message;
  assert.deepEqual(
    [m.format, m.type, m.sender_id, m.app_type, m.app_title, m.content, m.quote_id, m.quote_sender, m.quote_name, m.quote_content],
    ['app', 'group_message', '@m1', 57, '收到', '[应用分享]标题：收到\n[应用分享]链接：', '5820391022736', 'wxid_zhangwei8848', '大哥', '原话 <b>&amp;</b>'],
  );
  // A private quote names the sender in fromusr (chatusr empty).
  const p = decodeMessage(buildRawMessage({ MsgId: '78', FromUserName: '@f1', ToUserName: '@me', CreateTime: 1600000002, MsgType: 49, AppMsgType: 57, Content: buildReferAppMsgContent({ title: '好', refer: { ...refer, fromusr: 'wxid_zhangwei8848', chatusr: '' }, fromusername: 'wxid_zhangwei8848' }) }), { selfId: '@me' });
  assert.equal((p as { message: Message }).message.quote_sender, 'wxid_zhangwei8848');
});
