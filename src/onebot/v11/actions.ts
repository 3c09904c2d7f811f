/**
 * OneBot 11 actions (docs/onebot.md, "Actions"): the ones NoneBot/Koishi bots use most. Integer ids are mapped to
 * stable keys (src/onebot/ids.ts); an action WeChat cannot do is not in the table and answers retcode 1404.
 */
import { ActionFailure, fail, platform, requiredString as str, type FailKind } from '../action-error.ts';
import type { Bot } from '../bot.ts';
import { fileEntry } from '../media.ts';
import { revokeMessage, sendSegments } from '../send.ts';
import type { Segment } from '../segments.ts';
import type { Friend, Group, Member } from '../../model/types.ts';
import { fromCq, toCq, type V11Segment } from './cq.ts';

/** retcodes: 0 ok; 1400/1404 as the spec's WebSocket API; 100 bad parameters and 102 failed (go-cqhttp's). */
export const V11_RETCODE: Record<FailKind, number> = {
  bad_request: 1400,
  unsupported_action: 1404,
  bad_param: 100,
  unsupported_param: 100,
  unsupported_segment: 100,
  bad_segment: 100,
  who_am_i: 1400,
  unknown_self: 1400,
  not_found: 100,
  offline: 102,
  platform: 102,
  internal: 102,
};

type Params = Record<string, unknown>;
type Action = (bot: Bot, p: Params, version: string) => unknown;

const int = (p: Params, k: string): number => {
  const v = p[k];
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) fail('bad_param', `${k}: expected a positive integer`);
  return n;
};
const bool = (v: unknown, dflt: boolean) => (v === undefined ? dflt : v === true || v === 'true' || v === 1 || v === '1');

function userKey(bot: Bot, p: Params): string {
  const n = int(p, 'user_id');
  return bot.ids.key('user', n) ?? fail('not_found', `user ${n} unknown`);
}
function group(bot: Bot, p: Params): Group {
  const n = int(p, 'group_id');
  const key = bot.ids.key('group', n) ?? fail('not_found', `group ${n} unknown`);
  return bot.groupBy(key) ?? fail('not_found', `group ${n} not found`);
}

const person = (bot: Bot, f: Friend | Member) => ({
  user_id: bot.ids.num('user', f.stable_id || f.id),
  nickname: f.name || f.markname,
  sex: f.sex === 'male' ? 'male' : f.sex === 'female' ? 'female' : 'unknown',
  age: 0,
});
const groupInfo = (bot: Bot, g: Group) => ({ group_id: bot.ids.num('group', g.stable_id || g.id), group_name: g.name, member_count: g.member.length, max_member_count: 500 });
const memberInfo = (bot: Bot, g: Group, m: Member) => ({
  group_id: bot.ids.num('group', g.stable_id || g.id),
  ...person(bot, m),
  nickname: m.markname || m.name,
  card: m.displayname || '',
  area: [m.province, m.city].filter(Boolean).join(' '),
  join_time: 0,
  last_sent_time: 0,
  level: '',
  role: g.owner_uid !== '' && g.owner_uid === m.uid ? 'owner' : 'member',
  unfriendly: false,
  title: '',
  title_expire_time: 0,
  card_changeable: false,
});

/** v11 message (string or array) → neutral segments. */
function neutral(bot: Bot, message: unknown, autoEscape: boolean): Segment[] {
  const segs: V11Segment[] = typeof message === 'string' ? fromCq(message, autoEscape) : Array.isArray(message) ? (message as V11Segment[]) : fail('bad_param', 'message: expected a string or a segment array');
  const out: Segment[] = [];
  for (const s of segs) {
    if (!s || typeof s !== 'object' || typeof s.type !== 'string') fail('bad_segment', 'message: each segment needs a type and data');
    const d = (s.data ?? {}) as Record<string, unknown>;
    switch (s.type) {
      case 'text':
        out.push({ type: 'text', data: { text: d['text'] } });
        break;
      case 'at': {
        const qq = String(d['qq'] ?? '');
        if (qq === 'all') out.push({ type: 'mention_all', data: {} });
        else out.push({ type: 'mention', data: { user_id: (/^\d+$/.test(qq) && bot.ids.key('user', Number(qq))) || fail('bad_segment', `at: user ${qq} unknown`) } });
        break;
      }
      case 'reply':
        // WeChat's web protocol cannot send a quote: the reply segment is dropped, the rest is sent (docs/onebot.md).
        break;
      case 'image':
      case 'record':
      case 'video':
      case 'file':
        out.push({ type: s.type === 'record' ? 'voice' : s.type, data: { file: d['file'] ?? d['url'], name: d['name'] } });
        break;
      default:
        fail('unsupported_segment', `segment type ${s.type} cannot be sent to WeChat`);
    }
  }
  return out;
}

/** Resolves v11 `file` references: http(s) URL, file:// URL, base64://, a file id, or a path in the media folders. */
async function resolveFiles(bot: Bot, segs: Segment[]): Promise<Map<Segment, Awaited<ReturnType<typeof fileEntry>>['media']>> {
  const out = new Map<Segment, Awaited<ReturnType<typeof fileEntry>>['media']>();
  for (const s of segs) {
    if (!('file' in s.data)) continue;
    const f = s.data['file'];
    if (typeof f !== 'string' || !f) fail('bad_segment', `${s.type}: data.file is required`);
    const name = typeof s.data['name'] === 'string' ? (s.data['name'] as string) : undefined;
    const file = f as string;
    const known = bot.file(file);
    if (known) out.set(s, known.media);
    else if (/^https?:\/\//i.test(file)) out.set(s, (await fileEntry(bot, { url: file }, name)).media);
    else if (file.startsWith('base64://')) out.set(s, (await fileEntry(bot, { data: file.slice(9) }, name ?? (s.type === 'image' ? 'image.jpg' : undefined))).media);
    else if (file.startsWith('file://')) out.set(s, (await fileEntry(bot, { path: decodeURIComponent(new URL(file).pathname) }, name)).media);
    else out.set(s, (await fileEntry(bot, { path: file }, name)).media);
  }
  return out;
}

async function send(bot: Bot, kind: 'private' | 'group', p: Params) {
  const segs = neutral(bot, p['message'], bool(p['auto_escape'], false));
  const files = await resolveFiles(bot, segs);
  const media = (s: Segment) => files.get(s)!;
  let r;
  if (kind === 'private') {
    const key = userKey(bot, p);
    const f = bot.friendBy(key) ?? fail('not_found', `user ${String(p['user_id'])} is not a friend`);
    r = await sendSegments(bot, { to: f.id }, segs, media);
  } else {
    const g = group(bot, p);
    r = await sendSegments(bot, { to: g.id, groupId: g.id }, segs, media);
  }
  return { message_id: bot.ids.num('msg', r.messageId) };
}

const msgKey = (bot: Bot, p: Params) => {
  const n = typeof p['message_id'] === 'number' || typeof p['message_id'] === 'string' ? Number(p['message_id']) : NaN;
  if (!Number.isSafeInteger(n)) fail('bad_param', 'message_id: expected an integer');
  return bot.ids.key('msg', n) ?? fail('not_found', `message ${n} unknown`);
};

const ACTIONS: Record<string, Action> = {
  send_private_msg: (bot, p) => send(bot, 'private', p),
  send_group_msg: (bot, p) => send(bot, 'group', p),
  send_msg: (bot, p) => {
    const t = p['message_type'] ?? (p['group_id'] !== undefined ? 'group' : 'private');
    if (t !== 'private' && t !== 'group') fail('bad_param', 'message_type: expected private or group');
    return send(bot, t as 'private' | 'group', p);
  },
  delete_msg: async (bot, p) => {
    await revokeMessage(bot, msgKey(bot, p));
    return null;
  },
  get_msg: (bot, p) => {
    const key = msgKey(bot, p);
    const body = bot.storedBody(key.split(',')[0]!) ?? fail('not_found', 'message not in the history');
    const group = body['type'] === 'group_message';
    const text = String(body['content'] ?? '');
    const sender = bot.ids.num('user', bot.stableOf(String(body['sender_id'] ?? ''), group ? String(body['group_id'] ?? '') : undefined));
    return {
      time: Number(body['time'] ?? 0),
      message_type: group ? 'group' : 'private',
      message_id: Number(p['message_id']),
      real_id: Number(p['message_id']),
      sender: { user_id: sender, nickname: String(body['sender'] ?? '') },
      message: toCq([{ type: 'text', data: { text } }]),
    };
  },
  get_login_info: (bot) => {
    const u = bot.client.user() ?? fail('offline', 'not logged in');
    return { user_id: bot.selfNum(), nickname: u.name };
  },
  get_stranger_info: (bot, p) => {
    const key = userKey(bot, p);
    const found = bot.personBy(key) ?? fail('not_found', `user ${String(p['user_id'])} not found`);
    return person(bot, found.person);
  },
  get_friend_list: (bot) => bot.client.friends().filter((f) => f.category === '好友').map((f) => ({ ...person(bot, f), remark: f.markname })),
  get_group_info: (bot, p) => groupInfo(bot, group(bot, p)),
  get_group_list: (bot) => bot.client.groups().map((g) => groupInfo(bot, g)),
  get_group_member_info: (bot, p) => {
    const g = group(bot, p);
    const key = userKey(bot, p);
    return memberInfo(bot, g, bot.memberBy(g, key) ?? fail('not_found', 'not a member of the group'));
  },
  get_group_member_list: (bot, p) => {
    const g = group(bot, p);
    return g.member.map((m) => memberInfo(bot, g, m));
  },
  set_group_kick: async (bot, p) => {
    const g = group(bot, p);
    const m = bot.memberBy(g, userKey(bot, p)) ?? fail('not_found', 'not a member of the group');
    await platform(() => bot.client.kickFromGroup(g.id, [m.id]));
    return null;
  },
  set_group_name: async (bot, p) => {
    const g = group(bot, p);
    await platform(() => bot.client.renameGroup(g.id, str(p, 'group_name')));
    return null;
  },
  set_friend_add_request: async (bot, p) => {
    const flag = str(p, 'flag');
    if (!bool(p['approve'], true)) return null; // WeChat has no refusal: an unanswered request expires
    const r = bot.friendRequest(flag) ?? fail('not_found', `no pending friend request ${flag}`);
    await platform(() => bot.client.acceptFriendRequest(r.id, r.ticket));
    // `remark`: the new friend's remark (WeChat's RemarkName).
    if (typeof p['remark'] === 'string' && p['remark']) await platform(() => bot.client.setRemark(r.id, p['remark'] as string));
    return null;
  },
  get_status: (bot) => ({ online: bot.online, good: true }),
  get_version_info: (_bot, _p, version) => ({ app_name: 'openwx', app_version: version, protocol_version: 'v11' }),
  can_send_image: () => ({ yes: true }),
  // WeChat's web protocol cannot send a voice message (an audio file goes as a file).
  can_send_record: () => ({ yes: false }),
  'wx.get_wechat_id': (bot, p) => {
    if (p['group_id'] !== undefined) {
      const g = group(bot, p);
      return { wechat_id: g.id, stable_id: g.stable_id };
    }
    const key = userKey(bot, p);
    const found = bot.personBy(key) ?? fail('not_found', `user ${String(p['user_id'])} not found`);
    return { wechat_id: found.id, stable_id: key };
  },
};

export const V11_ACTIONS: readonly string[] = Object.keys(ACTIONS);

export interface V11Response {
  status: 'ok' | 'failed';
  retcode: number;
  data: unknown;
  message?: string;
  wording?: string;
  echo?: unknown;
}

export function hasV11Action(name: string): boolean {
  return Object.hasOwn(ACTIONS, name.replace(/_async$/, ''));
}

export async function runV11(bot: Bot, action: string, params: Params, echo: unknown, version: string, log: (err: unknown) => void): Promise<V11Response> {
  const withEcho = (r: V11Response) => (echo === undefined ? r : { ...r, echo });
  try {
    const a = Object.hasOwn(ACTIONS, action) ? ACTIONS[action]! : fail('unsupported_action', `action ${action} is not supported`);
    const data = await a(bot, params, version);
    return withEcho({ status: 'ok', retcode: 0, data: data ?? null });
  } catch (e) {
    if (e instanceof ActionFailure) return withEcho({ status: 'failed', retcode: V11_RETCODE[e.kind], data: null, message: e.message, wording: e.message });
    log(e);
    const m = (e as Error).message ?? String(e);
    return withEcho({ status: 'failed', retcode: 102, data: null, message: m, wording: m });
  }
}
