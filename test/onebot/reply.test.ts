/**
 * Quoted messages (WeChat's AppMsgType 57 with `<refermsg>`, injected by the sandbox) arrive as a `reply` segment
 * plus the text: v12 `{type: "reply", data: {message_id, user_id}}`, v11 `[CQ:reply,id=…]` / the array form, the
 * ids mapped through the message id tables (the quoted message's id is the one its own event carried, or the one
 * the send action answered), the quoted sender found through the message history.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Stack } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { startWsPair, type Peer } from './helpers.ts';

let pair: Awaited<ReturnType<typeof startWsPair>>;
let s: Stack;
let w12: Peer;
let w11: Peer;

before(async () => {
  pair = await startWsPair();
  ({ s, w12, w11 } = pair);
});
after(async () => {
  await pair.close();
});

test('a private quote of a received message: v12 reply {message_id, user_id} + text, v11 [CQ:reply,id] with the quoted event’s id', async () => {
  const [quotedId] = s.sb.handle.inject({ type: 'text', from: '张伟', content: '原话在此' }).msgIds;
  const q12 = await w12.next((m) => m.alt_message === '原话在此', 'v12 quoted message');
  const q11 = await w11.next((m) => m.raw_message === '原话在此', 'v11 quoted message');
  // The history has the quoted message before the quote arrives (the sender is found through it).
  await waitFor(() => s.api.store?.history?.get(quotedId!) ?? null, 'the quoted message in the history');
  s.sb.handle.inject({ type: 'quote', from: '张伟', content: '回复这句', msgId: quotedId } as never);
  const e12 = await w12.next((m) => m.type === 'message' && m.message?.[0]?.type === 'reply', 'v12 quote');
  assert.deepEqual(e12.message, [
    { type: 'reply', data: { message_id: q12.message_id, user_id: q12.user_id } },
    { type: 'text', data: { text: '回复这句' } },
  ]);
  assert.equal(e12.alt_message, '回复这句');
  assert.equal(e12.user_id, q12.user_id);
  const e11 = await w11.next((m) => m.post_type === 'message' && m.message?.[0]?.type === 'reply', 'v11 quote');
  assert.deepEqual(e11.message, [
    { type: 'reply', data: { id: String(q11.message_id) } },
    { type: 'text', data: { text: '回复这句' } },
  ]);
  assert.equal(e11.raw_message, `[CQ:reply,id=${q11.message_id}]回复这句`);
  // The reply id leads back to the quoted message (get_msg takes it).
  const got = await w11.call('get_msg', { message_id: Number(e11.message[0].data.id) });
  assert.equal(got.retcode, 0);
  assert.equal(got.data.message, '原话在此');
});

test('a group quote of a message the bot sent: the reply names the bot and the id send_group_msg answered; @ in the text parsed', async () => {
  const gid = s.client.groups().find((g) => g.name === '相亲相爱一家人')!;
  const groupNum = (await w11.call('get_group_list')).data.find((g: any) => g.group_name === '相亲相爱一家人').group_id;
  const sent = await w11.call('send_group_msg', { group_id: groupNum, message: '今晚聚餐' });
  assert.equal(sent.retcode, 0);
  const rec = s.sb.handle.sent().at(-1)!;
  assert.equal(rec.Content, '今晚聚餐');
  await waitFor(() => s.api.store?.history?.get(rec.MsgID) ?? null, 'the sent message in the history');
  const me = gid.member.find((m) => m.id === s.client.user()!.id)!;
  const myName = me.displayname || me.name;
  s.sb.handle.inject({ type: 'quote', group: '相亲相爱一家人', from: '张伟', content: `@${myName}\u2005好的`, msgId: rec.MsgID } as never);
  const e11 = await w11.next((m) => m.message_type === 'group' && m.message?.[0]?.type === 'reply', 'v11 group quote');
  assert.deepEqual(e11.message[0], { type: 'reply', data: { id: String(sent.data.message_id) } });
  assert.deepEqual(e11.message[1], { type: 'at', data: { qq: String(e11.self_id) } });
  assert.deepEqual(e11.message[2], { type: 'text', data: { text: '好的' } });
  const e12 = await w12.next((m) => m.detail_type === 'group' && m.message?.[0]?.type === 'reply', 'v12 group quote');
  assert.deepEqual(e12.message[0], { type: 'reply', data: { message_id: rec.MsgID, user_id: e12.self.user_id } });
  assert.equal(e12.group_id, gid.stable_id);
});

test('a bot answering with a reply segment (as NoneBot/Koishi do): the quote is dropped, the text is sent, on v12 and v11', async () => {
  const [quotedId] = s.sb.handle.inject({ type: 'text', from: '张伟', content: '请回复我' }).msgIds;
  const q12 = await w12.next((m) => m.alt_message === '请回复我', 'v12 message to answer');
  const q11 = await w11.next((m) => m.raw_message === '请回复我', 'v11 message to answer');
  assert.ok(quotedId);
  const r12 = await w12.call('send_message', {
    detail_type: 'private',
    user_id: q12.user_id,
    message: [{ type: 'reply', data: { message_id: q12.message_id, user_id: q12.user_id } }, { type: 'text', data: { text: '收到(v12)' } }],
  });
  assert.equal(r12.retcode, 0, JSON.stringify(r12));
  assert.equal(s.sb.handle.sent().at(-1)!.Content, '收到(v12)');
  const r11 = await w11.call('send_msg', { message_type: 'private', user_id: q11.user_id, message: [{ type: 'reply', data: { id: String(q11.message_id) } }, { type: 'text', data: { text: '收到(v11)' } }] });
  assert.equal(r11.retcode, 0, JSON.stringify(r11));
  assert.equal(s.sb.handle.sent().at(-1)!.Content, '收到(v11)');
});
