/** OneBot 11 events from the bot's neutral events (docs/onebot.md, "Events"); WeChat extras as `wx_*` fields. */
import type { Message } from '../../model/types.ts';
import type { Bot, BotEvent } from '../bot.ts';
import { messageSegments, type Segment } from '../segments.ts';
import { toCq, type V11Segment } from './cq.ts';

export type V11Event = Record<string, unknown> & { post_type: string };

const now = () => Math.floor(Date.now() / 1000);

/** Neutral segments → v11 segments (ids as integers, media as file/url fields). */
export function v11Segments(bot: Bot, segs: Segment[]): V11Segment[] {
  return segs.map((s): V11Segment => {
    switch (s.type) {
      case 'text':
        return { type: 'text', data: { text: s.data['text'] } };
      case 'mention':
        return { type: 'at', data: { qq: String(bot.ids.num('user', String(s.data['user_id']))) } };
      case 'mention_all':
        return { type: 'at', data: { qq: 'all' } };
      case 'image':
      case 'voice':
      case 'video':
      case 'file': {
        const id = String(s.data['file_id']);
        const f = bot.file(id);
        const path = f?.media.path;
        const url = path ? `file://${path}` : '';
        return { type: s.type === 'voice' ? 'record' : s.type, data: { file: path ? url : id, url, wx_file_id: id, ...(s.data['wx.name'] ? { name: s.data['wx.name'] } : {}) } };
      }
      case 'reply':
        // OneBot 11: `[CQ:reply,id=<message_id>]`, the quoted message's integer id (the same one get_msg takes).
        return { type: 'reply', data: { id: String(bot.ids.num('msg', String(s.data['message_id']))) } };
      case 'location':
        return { type: 'location', data: { lat: String(s.data['latitude']), lon: String(s.data['longitude']), title: s.data['title'], content: s.data['content'] } };
      default:
        return { type: s.type.replace(/^wx\./, 'wx_'), data: s.data };
    }
  });
}

/** Options of the v11 events. */
export interface V11EventOptions {
  format: 'array' | 'string';
  /** Own messages as `message_sent` (go-cqhttp's `report-self-message`). */
  reportSelf: boolean;
}

/** A received message (`message`) or one the account sent (`message_sent`, as go-cqhttp reports it). */
function messageEvent(bot: Bot, m: Message, o: V11EventOptions): V11Event | null {
  const sent = m.class === 'send';
  if ((sent && !o.reportSelf) || (m.type !== 'friend_message' && m.type !== 'group_message')) return null;
  const segs = v11Segments(bot, messageSegments(bot, m));
  const group = m.type === 'group_message';
  const msgId = String(m.id).split(':')[0]!;
  const user = (id: string | undefined, groupId?: string) => bot.ids.num('user', bot.stableOf(id, groupId));
  const user_id = sent ? bot.selfNum() : user(m.sender_id, m.group_id);
  const who = sent ? bot.client.user() : m.sender_id ? (m.group_id ? bot.client.member(m.group_id, m.sender_id) : bot.client.friend(m.sender_id)) : undefined;
  const name = who ? who.displayname || who.markname || who.name : '';
  return {
    time: m.time,
    self_id: bot.selfNum(),
    post_type: sent ? 'message_sent' : 'message',
    message_type: group ? 'group' : 'private',
    sub_type: group ? 'normal' : 'friend',
    message_id: bot.ids.num('msg', msgId),
    user_id,
    ...(sent && !group ? { target_id: user(m.receiver_id) } : {}),
    message: o.format === 'array' ? segs : toCq(segs),
    raw_message: toCq(segs),
    font: 0,
    sender: { user_id, nickname: name, sex: 'unknown', age: 0, ...(group ? { card: name, role: 'member' } : {}) },
    ...(group ? { group_id: bot.ids.num('group', bot.stableOf(m.group_id)), anonymous: null } : {}),
    wx_msg_id: msgId,
    wx_format: m.format,
  };
}

export function v11Event(bot: Bot, e: BotEvent, o: V11EventOptions): V11Event | null {
  const self_id = bot.selfNum();
  const user = (id: string | undefined, groupId?: string) => bot.ids.num('user', bot.stableOf(id, groupId));
  switch (e.kind) {
    case 'message':
      return e.m.class === 'recv' ? messageEvent(bot, e.m, o) : null;
    case 'message_sent':
      return messageEvent(bot, e.m, o);
    case 'message_delete': {
      const m = e.m;
      const group = m.type === 'group_message';
      const id = bot.ids.num('msg', String(m.revoke_id ?? ''));
      return group
        ? { time: now(), self_id, post_type: 'notice', notice_type: 'group_recall', group_id: bot.ids.num('group', bot.stableOf(m.group_id)), user_id: user(m.sender_id, m.group_id), operator_id: user(m.sender_id, m.group_id), message_id: id }
        : { time: now(), self_id, post_type: 'notice', notice_type: 'friend_recall', user_id: user(m.sender_id), message_id: id };
    }
    case 'friend_increase':
      return { time: now(), self_id, post_type: 'notice', notice_type: 'friend_add', user_id: bot.ids.num('user', e.friend.stable_id || e.friend.id) };
    case 'friend_decrease':
      return { time: now(), self_id, post_type: 'notice', notice_type: 'wx_friend_decrease', user_id: bot.ids.num('user', e.friend.stable_id || e.friend.id) };
    case 'member_increase':
    case 'member_decrease':
      return {
        time: now(),
        self_id,
        post_type: 'notice',
        notice_type: e.kind === 'member_increase' ? 'group_increase' : 'group_decrease',
        sub_type: e.kind === 'member_increase' ? 'approve' : 'leave',
        group_id: bot.ids.num('group', e.group.stable_id || e.group.id),
        user_id: bot.ids.num('user', e.member.stable_id || e.member.id),
        operator_id: 0,
      };
    case 'friend_request':
      return { time: now(), self_id, post_type: 'request', request_type: 'friend', user_id: bot.ids.num('user', e.id), comment: e.verify, flag: e.id, wx_nickname: e.name };
    case 'group_name':
      return { time: now(), self_id, post_type: 'notice', notice_type: 'wx_group_name_update', group_id: bot.ids.num('group', e.group.stable_id || e.group.id), group_name: e.name, wx_old_name: e.old };
    case 'online':
      return null;
  }
}

export function v11Lifecycle(bot: Bot): V11Event {
  return { time: now(), self_id: bot.selfNum(), post_type: 'meta_event', meta_event_type: 'lifecycle', sub_type: 'connect' };
}

export function v11Heartbeat(bot: Bot, intervalMs: number): V11Event {
  return { time: now(), self_id: bot.selfNum(), post_type: 'meta_event', meta_event_type: 'heartbeat', status: { online: bot.online, good: true }, interval: intervalMs };
}
