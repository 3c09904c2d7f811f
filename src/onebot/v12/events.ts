/** OneBot 12 events from the bot's neutral events (docs/onebot.md, "Events"). */
import { randomUUID } from 'node:crypto';
import type { Bot, BotEvent } from '../bot.ts';
import { altText, messageSegments } from '../segments.ts';

export const IMPL = 'openwx';
export const PLATFORM = 'wechat';

export type V12Event = Record<string, unknown> & { type: string; detail_type: string };

const base = (bot: Bot | null, type: string, detail_type: string, sub_type = '') => ({
  id: randomUUID(),
  time: Date.now() / 1000,
  type,
  detail_type,
  sub_type,
  ...(bot ? { self: { platform: PLATFORM, user_id: bot.selfId() } } : {}),
});

export function v12Event(bot: Bot, e: BotEvent): V12Event | null {
  switch (e.kind) {
    case 'message': {
      const m = e.m;
      if (m.class !== 'recv' || (m.type !== 'friend_message' && m.type !== 'group_message')) return null;
      const segs = messageSegments(bot, m);
      const group = m.type === 'group_message';
      return {
        ...base(bot, 'message', group ? 'group' : 'private'),
        time: m.time,
        message_id: String(m.id).split(':')[0],
        message: segs,
        alt_message: altText(segs),
        user_id: bot.stableOf(m.sender_id, m.group_id),
        ...(group ? { group_id: bot.stableOf(m.group_id) } : {}),
        'wx.format': m.format,
      };
    }
    case 'message_delete': {
      const m = e.m;
      const group = m.type === 'group_message';
      return {
        ...base(bot, 'notice', group ? 'group_message_delete' : 'private_message_delete', group ? (m.sender_id === bot.client.user()?.id ? 'delete' : 'recall') : ''),
        message_id: String(m.revoke_id ?? ''),
        user_id: bot.stableOf(m.sender_id, m.group_id),
        ...(group ? { group_id: bot.stableOf(m.group_id), operator_id: bot.stableOf(m.sender_id, m.group_id) } : {}),
      };
    }
    case 'friend_increase':
    case 'friend_decrease':
      return { ...base(bot, 'notice', e.kind), user_id: e.friend.stable_id || e.friend.id };
    case 'member_increase':
    case 'member_decrease':
      return {
        ...base(bot, 'notice', e.kind === 'member_increase' ? 'group_member_increase' : 'group_member_decrease', e.kind === 'member_increase' ? 'join' : 'leave'),
        group_id: e.group.stable_id || e.group.id,
        user_id: e.member.stable_id || e.member.id,
        operator_id: '',
      };
    case 'friend_request':
      return { ...base(bot, 'request', 'wx.friend_request'), user_id: e.id, 'wx.nickname': e.name, message: e.verify };
    case 'group_name':
      return { ...base(bot, 'notice', 'wx.group_name_update'), group_id: e.group.stable_id || e.group.id, group_name: e.name, 'wx.old_name': e.old };
    case 'online':
    // OneBot 12 has no event for the bot's own messages (docs/onebot.md): v11 reports them as message_sent.
    case 'message_sent':
      return null;
  }
}

export function v12Connect(version: string): V12Event {
  return { ...base(null, 'meta', 'connect'), version: { impl: IMPL, version, onebot_version: '12' } };
}

export function v12Heartbeat(intervalMs: number): V12Event {
  return { ...base(null, 'meta', 'heartbeat'), interval: intervalMs };
}

export function v12Status(bots: Bot[]): Record<string, unknown> {
  return {
    good: true,
    bots: bots.map((b) => ({ self: { platform: PLATFORM, user_id: b.selfId() }, online: b.online })),
  };
}

export function v12StatusUpdate(bots: Bot[]): V12Event {
  return { ...base(null, 'meta', 'status_update'), status: v12Status(bots) };
}
