/**
 * Message segments, in a neutral (OneBot 12) form both versions convert from and to:
 * - received: a model `Message` becomes segments (text with group @ parsed from WeChat's own `@Name\u2005` form,
 *   media as a file id `m<MsgID>` reachable through get_file, location, card and app as `wx.` extensions);
 * - sent: segments become the sends WeChat can do — one text (text and mentions joined, a mention written as
 *   WeChat writes it: `@Name\u2005`) and one send per media item, in order.
 */
import type { MediaInput } from '../client/interface.ts';
import type { Message } from '../model/types.ts';
import type { Bot } from './bot.ts';

export interface Segment {
  type: string;
  data: Record<string, unknown>;
}

/** WeChat's mention separator (U+2005 FOUR-PER-EM SPACE) after `@Name`. */
export const MENTION_END = '\u2005';
const ALL_NAMES = new Set(['所有人', 'all', 'All', 'everyone']);

export class SegmentError extends Error {
  constructor(
    readonly retcode: 'bad' | 'unsupported',
    message: string,
  ) {
    super(message);
  }
}

function msgIdOf(m: Message): string {
  return String(m.id).split(':')[0]!;
}

/** The segments of a received message. */
export function messageSegments(bot: Bot, m: Message): Segment[] {
  const out: Segment[] = [];
  if (m.format === 'media' && m.media_type) {
    const type = m.media_type === 'voice' ? 'voice' : m.media_type === 'video' || m.media_type === 'microvideo' ? 'video' : m.media_type === 'file' ? 'file' : 'image';
    out.push({ type, data: { file_id: `m${msgIdOf(m)}`, ...(m.media_name ? { 'wx.name': m.media_name } : {}) } });
    return out;
  }
  if (m.location_lat !== undefined && m.location_lng !== undefined) {
    out.push({
      type: 'location',
      data: {
        latitude: Number(m.location_lat),
        longitude: Number(m.location_lng),
        title: m.location_poiname ?? m.location_label ?? '',
        content: m.location_label ?? '',
      },
    });
    return out;
  }
  if (m.format === 'card') {
    out.push({ type: 'wx.card', data: { user_id: m.card_id ?? '', name: m.card_name ?? '', account: m.card_account ?? '' } });
    return out;
  }
  if (m.format === 'app' && m.quote_id) {
    // A quote: a `reply` segment naming the quoted message (and its sender when openwx knows them), then the text.
    const user = quotedSender(bot, m.quote_id);
    out.push({ type: 'reply', data: { message_id: m.quote_id, ...(user ? { user_id: user } : {}) } });
    out.push(...textSegments(bot, m.app_title ?? '', m.type === 'group_message' ? m.group_id : undefined));
    return out;
  }
  if (m.format === 'app') {
    out.push({ type: 'wx.app', data: { title: m.app_title ?? '', url: m.app_url ?? '', desc: m.app_desc ?? '', app_name: m.app_name ?? '' } });
    return out;
  }
  return textSegments(bot, String(m.content ?? ''), m.type === 'group_message' ? m.group_id : undefined);
}

/**
 * The stable id of a quoted message's sender, from the message history (the quote's XML names the sender by wxid,
 * which the web session does not know); undefined when openwx did not record the message.
 */
function quotedSender(bot: Bot, msgId: string): string | undefined {
  const body = bot.storedBody(msgId);
  if (!body) return undefined;
  if (body['class'] === 'send') return bot.selfId();
  const sender = typeof body['sender_id'] === 'string' ? body['sender_id'] : '';
  const group = typeof body['group_id'] === 'string' ? body['group_id'] : undefined;
  return sender ? bot.stableOf(sender, group) : undefined;
}

/** Text with `@Name\u2005` mentions resolved against the group's members. */
export function textSegments(bot: Bot, text: string, groupId: string | undefined): Segment[] {
  const out: Segment[] = [];
  const group = groupId ? bot.client.group(groupId) : undefined;
  const push = (t: string) => {
    if (!t) return;
    const last = out[out.length - 1];
    if (last?.type === 'text') last.data['text'] = String(last.data['text']) + t;
    else out.push({ type: 'text', data: { text: t } });
  };
  if (!group) {
    push(text);
    return out;
  }
  // The model hands WeChat's `@Name\u2005` on as `@Name ` (src/wire/msgcontent.ts): a mention is `@` + a member's
  // name (the longest that fits) + a space, U+2005 or the end.
  const self = bot.client.user();
  const names: [string, Segment][] = [...ALL_NAMES].map((n): [string, Segment] => [n, { type: 'mention_all', data: {} }]);
  for (const m of group.member) {
    const seg: Segment = { type: 'mention', data: { user_id: m.id === self?.id ? bot.selfId() : m.stable_id || m.id } };
    for (const n of new Set([m.displayname, m.markname, m.name])) if (n) names.push([n, seg]);
  }
  names.sort((a, b) => b[0].length - a[0].length);
  let at = 0;
  for (let i = text.indexOf('@'); i >= 0; i = text.indexOf('@', i + 1)) {
    if (i < at) continue;
    const hit = names.find(([n]) => {
      if (!text.startsWith(n, i + 1)) return false;
      const next = text[i + 1 + n.length];
      return next === undefined || next === ' ' || next === MENTION_END;
    });
    if (!hit) continue;
    push(text.slice(at, i));
    out.push({ type: hit[1].type, data: { ...hit[1].data } });
    const end = i + 1 + hit[0].length;
    at = end < text.length ? end + 1 : end;
  }
  push(text.slice(at));
  return out;
}

/** Plain-text rendering of segments (v12 `alt_message`, v11 `raw_message` in string form is built elsewhere). */
export function altText(segs: Segment[]): string {
  return segs
    .map((s) => {
      if (s.type === 'text') return String(s.data['text'] ?? '');
      if (s.type === 'mention') return `@${String(s.data['user_id'])}`;
      if (s.type === 'mention_all') return '@all';
      if (s.type === 'reply') return '';
      return `[${s.type}]`;
    })
    .join('');
}

export type SendPart = { text: string } | { media: MediaInput | { mediaId: string } };

/**
 * The sends for outgoing segments. `media` resolves a media segment to what the client sends (each version has
 * its own file references). Mentions need the group (`groupId`): in a private chat they are refused.
 */
export function sendParts(bot: Bot, segs: Segment[], groupId: string | undefined, media: (s: Segment) => MediaInput | { mediaId: string }): SendPart[] {
  const parts: SendPart[] = [];
  let text = '';
  const flush = () => {
    if (text) parts.push({ text });
    text = '';
  };
  if (!Array.isArray(segs) || segs.length === 0) throw new SegmentError('bad', 'message: expected a non-empty list of segments');
  for (const s of segs) {
    if (!s || typeof s !== 'object' || typeof s.type !== 'string') throw new SegmentError('bad', 'message: each segment needs a type and data');
    const data = (s.data ?? {}) as Record<string, unknown>;
    switch (s.type) {
      case 'text':
        if (typeof data['text'] !== 'string') throw new SegmentError('bad', 'text segment: data.text must be a string');
        text += data['text'];
        break;
      case 'mention':
      case 'mention_all': {
        if (!groupId) throw new SegmentError('unsupported', `${s.type}: only in a group chat`);
        const group = bot.client.group(groupId);
        if (s.type === 'mention_all') {
          text += `@所有人${MENTION_END}`;
          break;
        }
        const uid = String(data['user_id'] ?? '');
        const m = group ? bot.memberBy(group, uid) : undefined;
        if (!m) throw new SegmentError('bad', `mention: ${uid} is not a member of the group`);
        text += `@${m.displayname || m.markname || m.name}${MENTION_END}`;
        break;
      }
      case 'reply':
        // WeChat's web protocol cannot send a quote: the reply segment is dropped and the rest is sent, so a bot that
        // answers with a quote (NoneBot's MessageSegment.reply, Koishi's quote) still works (docs/onebot.md).
        break;
      case 'image':
      case 'voice':
      case 'video':
      case 'file':
        flush();
        parts.push({ media: media(s) });
        break;
      default:
        throw new SegmentError('unsupported', `segment type ${s.type} cannot be sent to WeChat`);
    }
  }
  flush();
  return parts;
}
