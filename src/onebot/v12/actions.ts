/**
 * OneBot 12 actions (docs/onebot.md, "Actions"). Each takes the bot the request's `self` names (or the only one)
 * and its params; a failure is an ActionFailure whose kind maps to the spec's retcode (RETCODE). Actions WeChat's
 * web protocol cannot do are not in the table: they answer 10002 unsupported action, and get_supported_actions
 * lists exactly the table.
 */
import { ActionFailure, fail, platform, requiredString as str, type FailKind } from '../action-error.ts';
import type { Bot } from '../bot.ts';
import { fileBytes, fileEntry } from '../media.ts';
import { revokeMessage, sendSegments } from '../send.ts';
import type { Segment } from '../segments.ts';
import { IMPL, PLATFORM, v12Status } from './events.ts';
import type { Friend, Member } from '../../model/types.ts';

/** The spec's retcodes (OneBot 12, "Action response"). */
export const RETCODE: Record<FailKind, number> = {
  bad_request: 10001,
  unsupported_action: 10002,
  bad_param: 10003,
  unsupported_param: 10004,
  unsupported_segment: 10005,
  bad_segment: 10006,
  who_am_i: 10101,
  unknown_self: 10102,
  not_found: 35001,
  offline: 34001,
  platform: 34002,
  internal: 20002,
};

export interface Directory {
  bots(): Bot[];
  version: string;
}

type Params = Record<string, unknown>;
type Action = { self: boolean; run(bot: Bot | null, p: Params, dir: Directory): Promise<unknown> | unknown };


const userInfo = (p: Friend | Member, _bot: Bot) => ({
  user_id: p.stable_id || p.id,
  user_name: p.name || p.markname,
  user_displayname: p.displayname || p.markname || '',
  user_remark: p.markname && p.name ? p.markname : '',
  'wx.account': p.account,
  'wx.sex': p.sex,
});

function group(bot: Bot, p: Params) {
  const id = str(p, 'group_id');
  return bot.groupBy(id) ?? fail('not_found', `group ${id} not found`);
}

const ACTIONS: Record<string, Action> = {
  get_supported_actions: { self: false, run: () => Object.keys(ACTIONS) },
  get_status: { self: false, run: (_b, _p, dir) => v12Status(dir.bots()) },
  get_version: { self: false, run: (_b, _p, dir) => ({ impl: IMPL, version: dir.version, onebot_version: '12' }) },
  get_self_info: {
    self: true,
    run: (bot) => {
      const u = bot!.client.user() ?? fail('offline', `account ${bot!.name} is not logged in`);
      return { user_id: bot!.selfId(), user_name: u.name, user_displayname: u.displayname || '' };
    },
  },
  get_user_info: {
    self: true,
    run: (bot, p) => {
      const id = str(p, 'user_id');
      const found = bot!.personBy(id) ?? fail('not_found', `user ${id} not found`);
      return userInfo(found.person, bot!);
    },
  },
  get_friend_list: {
    self: true,
    run: (bot) => bot!.client.friends().filter((f) => f.category === '好友').map((f) => userInfo(f, bot!)),
  },
  get_group_info: {
    self: true,
    run: (bot, p) => {
      const g = group(bot!, p);
      return { group_id: g.stable_id || g.id, group_name: g.name, 'wx.member_count': g.member.length };
    },
  },
  get_group_list: {
    self: true,
    run: (bot) => bot!.client.groups().map((g) => ({ group_id: g.stable_id || g.id, group_name: g.name })),
  },
  get_group_member_info: {
    self: true,
    run: (bot, p) => {
      const g = group(bot!, p);
      const id = str(p, 'user_id');
      const m = bot!.memberBy(g, id) ?? fail('not_found', `user ${id} is not a member of group ${String(p['group_id'])}`);
      return userInfo(m, bot!);
    },
  },
  get_group_member_list: { self: true, run: (bot, p) => group(bot!, p).member.map((m) => userInfo(m, bot!)) },
  send_message: {
    self: true,
    run: async (bot, p) => {
      const b = bot!;
      const type = str(p, 'detail_type');
      const media = (s: Segment) => {
        const id = s.data['file_id'];
        if (typeof id !== 'string' || !id) return fail('bad_segment', `${s.type}: data.file_id is required (upload_file gives one)`);
        return (b.file(id) ?? fail('bad_segment', `${s.type}: file ${id} not found`)).media;
      };
      const message = p['message'];
      const segs: Segment[] = typeof message === 'string' ? [{ type: 'text', data: { text: message } }] : (message as Segment[]);
      if (type === 'private') {
        const id = str(p, 'user_id');
        const f = b.friendBy(id) ?? fail('not_found', `friend ${id} not found`);
        const r = await sendSegments(b, { to: f.id }, segs, media);
        return { message_id: r.messageId, time: r.time };
      }
      if (type === 'group') {
        const g = group(b, p);
        const r = await sendSegments(b, { to: g.id, groupId: g.id }, segs, media);
        return { message_id: r.messageId, time: r.time };
      }
      return fail('unsupported_param', `detail_type ${type}: expected private or group`);
    },
  },
  delete_message: {
    self: true,
    run: async (bot, p) => {
      await revokeMessage(bot!, str(p, 'message_id'));
      return null;
    },
  },
  set_group_name: {
    self: true,
    run: async (bot, p) => {
      const g = group(bot!, p);
      await platform(() => bot!.client.renameGroup(g.id, str(p, 'group_name')));
      return null;
    },
  },
  'wx.kick_group_member': {
    self: true,
    run: async (bot, p) => {
      const g = group(bot!, p);
      const id = str(p, 'user_id');
      const m = bot!.memberBy(g, id) ?? fail('not_found', `user ${id} is not a member`);
      await platform(() => bot!.client.kickFromGroup(g.id, [m.id]));
      return null;
    },
  },
  'wx.invite_group_member': {
    self: true,
    run: async (bot, p) => {
      const g = group(bot!, p);
      const id = str(p, 'user_id');
      const f = bot!.friendBy(id) ?? fail('not_found', `friend ${id} not found (only friends can be invited)`);
      await platform(() => bot!.client.inviteToGroup(g.id, [f.id]));
      return null;
    },
  },
  'wx.set_friend_add_request': {
    self: true,
    run: async (bot, p) => {
      const id = str(p, 'user_id');
      if (p['approve'] === false) return null; // WeChat has no refusal: an unanswered request expires
      const r = bot!.friendRequest(id) ?? fail('not_found', `no pending friend request from ${id}`);
      await platform(() => bot!.client.acceptFriendRequest(r.id, r.ticket));
      return null;
    },
  },
  upload_file: {
    self: true,
    run: async (bot, p) => {
      const type = str(p, 'type');
      const name = typeof p['name'] === 'string' ? (p['name'] as string) : '';
      if (!['url', 'path', 'data'].includes(type)) fail('unsupported_param', `type ${type}: expected url, path or data`);
      const src = type === 'url' ? { url: str(p, 'url') } : type === 'path' ? { path: str(p, 'path') } : { data: str(p, 'data') };
      return { file_id: bot!.addFile(await fileEntry(bot!, src, name)) };
    },
  },
  get_file: {
    self: true,
    run: async (bot, p) => {
      const id = str(p, 'file_id');
      const type = str(p, 'type');
      const f = bot!.file(id) ?? fail('not_found', `file ${id} not found`);
      if (type === 'path') return f.media.path ? { name: f.name, path: f.media.path } : fail('unsupported_param', 'this file has no local path: ask for type data or url');
      if (type === 'url') return f.media.url ? { name: f.name, url: f.media.url } : fail('unsupported_param', 'this file has no URL: ask for type path or data');
      if (type === 'data') return { name: f.name, data: (await fileBytes(f)).toString('base64') };
      return fail('unsupported_param', `type ${type}: expected url, path or data`);
    },
  },
};

export const V12_ACTIONS: readonly string[] = Object.keys(ACTIONS);

function whichBot(dir: Directory, self: unknown): Bot {
  const bots = dir.bots();
  if (self === undefined || self === null) {
    if (bots.length === 1) return bots[0]!;
    return fail('who_am_i', bots.length === 0 ? 'no account is hosted' : 'several accounts are hosted: give self {platform, user_id}');
  }
  const s = self as { platform?: unknown; user_id?: unknown };
  if (typeof s !== 'object' || s.platform !== PLATFORM || typeof s.user_id !== 'string') {
    return fail('unknown_self', 'self: expected {platform: "wechat", user_id}');
  }
  return bots.find((b) => b.selfId() === s.user_id || b.name === s.user_id) ?? fail('unknown_self', `no bot ${s.user_id}`);
}

export interface V12Response {
  status: 'ok' | 'failed';
  retcode: number;
  data: unknown;
  message: string;
  echo?: unknown;
}

/** Runs one action request (already parsed JSON); never throws. */
export async function runV12(dir: Directory, req: unknown, log: (err: unknown) => void): Promise<V12Response> {
  const echo = req && typeof req === 'object' && 'echo' in req ? (req as { echo: unknown }).echo : undefined;
  const withEcho = (r: V12Response) => (echo === undefined ? r : { ...r, echo });
  try {
    if (!req || typeof req !== 'object' || Array.isArray(req)) fail('bad_request', 'expected a JSON object {action, params}');
    const { action, params, self } = req as { action?: unknown; params?: unknown; self?: unknown };
    if (typeof action !== 'string') fail('bad_request', 'action: expected a string');
    if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params))) fail('bad_request', 'params: expected an object');
    const a = Object.hasOwn(ACTIONS, action as string) ? ACTIONS[action as string]! : fail('unsupported_action', `action ${String(action)} is not supported`);
    const bot = a.self ? whichBot(dir, self) : null;
    const data = await a.run(bot, (params ?? {}) as Params, dir);
    return withEcho({ status: 'ok', retcode: 0, data: data ?? null, message: '' });
  } catch (e) {
    if (e instanceof ActionFailure) return withEcho({ status: 'failed', retcode: RETCODE[e.kind], data: null, message: e.message });
    log(e);
    return withEcho({ status: 'failed', retcode: RETCODE.internal, data: null, message: (e as Error).message ?? String(e) });
  }
}
