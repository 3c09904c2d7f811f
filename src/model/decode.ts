/**
 * One AddMsgList entry → the Mojo model (shared/spec/mojo-weixin-reference.md §4.1–§4.3), with openwx's fixes:
 * every MsgType becomes something (unknown types a `format:"unknown"` message), group senders are split with the
 * official regex, emoji become Unicode, and friend requests / status notifies come back as their own kinds.
 */
import { parseCardContent } from '../wire/card.ts';
import { MsgType } from '../wire/constants.ts';
import { htmlDecode, splitGroupContent } from '../wire/content.ts';
import { isGroupId } from '../wire/ids.ts';
import { LOCATION_SUBMSGTYPE, parseLocation } from '../wire/location.ts';
import { parseTextContent } from '../wire/msgcontent.ts';
import { parseStatusNotifyContent, splitNames, type StatusNotifyContent } from '../wire/notifymsg.ts';
import { parseRevokeContent, SELF_REVOKE_TEXT } from '../wire/sysmsg.ts';
import type { RawMessage, RecommendInfo } from '../wire/types.ts';
import { parseVerifyContent, type VerifyMsg } from '../wire/verifymsg.ts';
import { decodeAppFields } from './decode-app.ts';
import { MEDIA_BY_MSGTYPE, MEDIA_LABEL } from './media.ts';
import { normalizeName, sexFromCode } from './names.ts';
import type { Message } from './types.ts';

export interface DecodeContext {
  /** The logged-in user's UserName. */
  selfId: string;
  /** Defaults to the `@@…` / `…@chatroom` rule. */
  isGroup?: (id: string) => boolean;
}

export interface FriendRequest {
  kind: 'friend_request';
  /** Mojo's friend_request params: RecommendInfo UserName, NickName, Content (verify text), Ticket. */
  id: string;
  displayname: string;
  verify: string;
  ticket: string;
  /** The sender of the 37 (`fmessage`): Mojo answers it with webwxstatusnotify code 1. */
  fromUserName: string;
  recommend: RecommendInfo;
  detail: VerifyMsg | null;
}

export interface StatusNotify {
  kind: 'status_notify';
  code: number;
  /** StatusNotifyUserName split: `@`/`@@` ids (Mojo batch-fetches unknown ones for codes 2 and 4). */
  userNames: string[];
  fromUserName: string;
  toUserName: string;
  content: StatusNotifyContent | null;
}

export type Decoded = { kind: 'message'; message: Message } | FriendRequest | StatusNotify;

export function decodeMessage(raw: RawMessage, ctx: DecodeContext): Decoded {
  if (raw.MsgType === MsgType.VERIFYMSG) return friendRequest(raw);
  if (raw.MsgType === MsgType.STATUSNOTIFY) {
    return {
      kind: 'status_notify', code: raw.StatusNotifyCode, userNames: splitNames(raw.StatusNotifyUserName ?? ''),
      fromUserName: raw.FromUserName, toUserName: raw.ToUserName, content: parseStatusNotifyContent(raw.Content ?? ''),
    };
  }
  return { kind: 'message', message: decodeChatMessage(raw, ctx) };
}

function friendRequest(raw: RawMessage): FriendRequest {
  const ri = raw.RecommendInfo;
  const detail = parseVerifyContent(raw.Content ?? '');
  return {
    kind: 'friend_request',
    id: ri?.UserName || detail?.encryptusername || '',
    displayname: normalizeName(ri?.NickName || detail?.fromnickname || ''),
    verify: ri?.Content ?? detail?.content ?? '',
    ticket: ri?.Ticket || detail?.ticket || '',
    fromUserName: raw.FromUserName,
    recommend: ri,
    detail,
  };
}

/** Direction, type, sender/receiver/group and the content body (group prefix removed), per §4.2. */
function route(raw: RawMessage, ctx: DecodeContext): { head: Message; body: string } {
  const isGroup = ctx.isGroup ?? isGroupId;
  const head: Message = { id: String(raw.MsgId), type: 'friend_message', class: 'recv', format: 'text', time: Number(raw.CreateTime), content: '' };
  let body = raw.Content ?? '';
  if (raw.FromUserName === ctx.selfId) {
    Object.assign(head, { class: 'send', source: 'outer', sender_id: ctx.selfId, code: 0, msg: '发送成功', info: '来自其他设备' });
    if (isGroup(raw.ToUserName)) Object.assign(head, { type: 'group_message', group_id: raw.ToUserName });
    else head.receiver_id = raw.ToUserName;
  } else if (isGroup(raw.FromUserName)) {
    Object.assign(head, { type: 'group_message', receiver_id: ctx.selfId, group_id: raw.FromUserName });
    if (raw.MsgType === MsgType.SYS) head.type = 'group_notice';
    else {
      const split = splitGroupContent(body);
      if (split.sender !== null) {
        head.sender_id = split.sender;
        body = split.content;
      }
    }
  } else {
    Object.assign(head, { sender_id: raw.FromUserName, receiver_id: ctx.selfId });
  }
  return { head, body };
}

function decodeChatMessage(raw: RawMessage, ctx: DecodeContext): Message {
  const { head, body } = route(raw, ctx);
  const t = raw.MsgType;
  const media = MEDIA_BY_MSGTYPE[t];
  if (media) {
    return { ...head, format: 'media', media_type: media, media_code: t, media_id: `${head.id}:${t}`, content: MEDIA_LABEL[media] };
  }
  switch (t) {
    case MsgType.TEXT:
    case MsgType.LOCATION:
      return { ...head, ...textOrLocation(raw, body) };
    case MsgType.SYS:
      return { ...head, format: 'text', content: parseTextContent(body) };
    case MsgType.APP:
      return { ...head, ...decodeAppFields(raw, body) };
    case MsgType.SHARECARD:
      return { ...head, ...card(raw, body) };
    case MsgType.RECALLED:
      return revoke(head, body, ctx);
    default: {
      const text = parseTextContent(body);
      const looksXml = /^\s*<[?A-Za-z]/.test(text);
      return {
        ...head, format: 'unknown', raw_type: t, raw_content: htmlDecode(body),
        content: text && !looksXml ? text : '[未知消息]',
      };
    }
  }
}

function textOrLocation(raw: RawMessage, body: string): Partial<Message> {
  const maybeLocation = raw.SubMsgType === LOCATION_SUBMSGTYPE || raw.MsgType === MsgType.LOCATION || body.includes('pictype=location');
  if (maybeLocation) {
    const loc = parseLocation({ content: body, url: raw.Url, oriContent: raw.OriContent });
    if (loc) {
      return {
        format: 'text', content: `[位置]${loc.label}`, location_label: loc.label, location_lat: loc.x, location_lng: loc.y,
        location_scale: loc.scale, location_poiname: loc.poiname, location_url: loc.url,
      };
    }
  }
  return { format: 'text', content: parseTextContent(body) };
}

function card(raw: RawMessage, body: string): Partial<Message> {
  const ri = raw.RecommendInfo;
  const x = parseCardContent(body);
  const m = {
    card_id: ri?.UserName || x?.username || '',
    card_name: normalizeName(x?.nickname || ri?.NickName || ''),
    card_province: x?.province || ri?.Province || '',
    card_city: x?.city || ri?.City || '',
    card_account: x?.alias || ri?.Alias || '',
    card_avatar: x?.bigheadimgurl ?? '',
    card_sex: sexFromCode(x?.sex || ri?.Sex) as string,
  };
  const or = (v: string): string => v || '未知';
  const content =
    `[名片]昵称：${or(m.card_name)}\n[名片]性别：${or(m.card_sex)}\n` +
    `[名片]位置：${or(m.card_province)} ${or(m.card_city)}\n[名片]头像：${or(m.card_avatar)}`;
  return { format: 'card', ...m, content };
}

function revoke(head: Message, body: string, ctx: DecodeContext): Message {
  const r = parseRevokeContent(body);
  const m: Message = { ...head, format: 'revoke' };
  if (!r) return { ...m, content: '[撤回消息]' };
  m.revoke_id = r.msgid;
  m.content = `[撤回消息](${normalizeName(r.replacemsg)})`;
  if (r.replacemsg === SELF_REVOKE_TEXT && m.class === 'recv') {
    m.class = 'send';
    m.source = 'outer';
    if (m.type === 'friend_message') {
      const s = m.sender_id;
      m.sender_id = m.receiver_id;
      m.receiver_id = s;
    } else {
      m.sender_id = ctx.selfId;
      delete m.receiver_id;
    }
  }
  return m;
}
