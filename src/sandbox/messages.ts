/**
 * Injecting inbound messages into a user's online session (control API `POST /__sandbox/messages`, chatter, echo,
 * world events): resolves who sends to whom, builds the entry (inject.ts), stores its media and queues it for
 * the next webwxsync (waking synccheck). Group messages carry the `@sender:<br/>` prefix; messages the user sent
 * from the phone (`from` = self) carry none.
 */
import { randomBytes } from 'node:crypto';
import { MsgType } from '../wire/constants.ts';
import { decodeTextContent, joinGroupContent, splitGroupContent } from '../wire/content.ts';
import type { ReferMsg } from '../wire/appmsg.ts';
import { ControlError } from './control-error.ts';
import type { SandboxUser } from './user.ts';
import { Session } from './sessions.ts';
import { wireMessage } from './shapes.ts';
import type { Group, PersonSpec } from './world.ts';
import * as B from './inject.ts';

export interface InjectRequest {
  type: B.InjectType;
  from?: string;
  group?: string;
  to?: string;
  content?: string;
  count?: number;
  /** Additions to the contract: link/file details, the MsgId a revoke targets. */
  title?: string;
  url?: string;
  fileName?: string;
  msgId?: string;
}

interface Route {
  from: string;
  to: string;
  /** Group sender prefix (wire UserName) or null. */
  prefix: string | null;
  senderId: string | null;
  group: Group | null;
  /** The chat the message belongs to, as a world id (revoke `session`). */
  chatId: string;
}

function resolve(u: SandboxUser, s: Session, r: InjectRequest): Route {
  const w = u.world;
  if (r.from !== undefined && u.isSelf(s, r.from)) {
    const target = r.group ?? r.to ?? 'filehelper';
    const g = u.group(s, target);
    if (g) return { from: s.selfName, to: s.ids.group(g.spec.id), prefix: null, senderId: w.self.id, group: g, chatId: g.spec.id };
    const p = u.person(s, target);
    if (!p) throw new ControlError(`unknown recipient "${target}" (not a friend or group NickName/UserName)`);
    return { from: s.selfName, to: s.ids.user(p.id), prefix: null, senderId: w.self.id, group: null, chatId: p.id };
  }
  if (r.group !== undefined) {
    const g = u.group(s, r.group);
    if (!g) throw new ControlError(`unknown group "${r.group}"`);
    const gName = s.ids.group(g.spec.id);
    if (r.from === undefined) {
      if (r.type !== 'system') throw new ControlError('"from" is required (it may be omitted only for system messages)');
      return { from: gName, to: s.selfName, prefix: null, senderId: null, group: g, chatId: g.spec.id };
    }
    const p = u.person(s, r.from);
    if (!p || !g.memberSet.has(p.id)) throw new ControlError(`"${r.from}" is not a member of group "${r.group}"`);
    return { from: gName, to: s.selfName, prefix: r.type === 'system' ? null : s.ids.user(p.id), senderId: p.id, group: g, chatId: g.spec.id };
  }
  if (r.from === undefined) {
    if (r.type !== 'system') throw new ControlError('"from" is required (it may be omitted only for system messages)');
    return { from: 'weixin', to: s.selfName, prefix: null, senderId: null, group: null, chatId: 'weixin' };
  }
  const p = u.person(s, r.from);
  if (!p) throw new ControlError(`unknown sender "${r.from}" (not a NickName, RemarkName or UserName of a contact)`);
  return { from: s.ids.user(p.id), to: s.selfName, prefix: null, senderId: p.id, group: null, chatId: p.id };
}

/** Queues a built message on the session; returns its MsgId. */
export function deliver(u: SandboxUser, s: Session, route: Pick<Route, 'from' | 'to' | 'prefix'>, built: B.BuiltMessage, msgId = Session.newMsgId()): string {
  const f = { ...built.fields };
  if (route.prefix !== null && typeof f.Content === 'string') f.Content = joinGroupContent(route.prefix, f.Content);
  const wire = wireMessage({ ...f, MsgId: msgId, FromUserName: route.from, ToUserName: route.to });
  if (built.fileMedia) {
    u.uploads.set(built.fileMedia.mediaId, {
      mediaId: built.fileMedia.mediaId,
      bytes: built.fileMedia.bytes,
      fileName: built.fileMedia.fileName,
      mime: 'application/octet-stream',
      mediaType: 'doc',
    });
  }
  s.pushMessage(built.media ? { wire, media: built.media } : { wire });
  return msgId;
}

/** A system tip (MsgType 10000) in a chat: `chat` is a wire UserName of a friend or group. */
export function pushSystemTip(u: SandboxUser, s: Session, chat: string, text: string): string {
  return deliver(u, s, { from: chat, to: s.selfName, prefix: null }, B.buildSystem(text));
}

function findRevokeTarget(s: Session, route: Route, msgId: string | undefined): string {
  if (msgId) {
    if (!s.messages.has(msgId)) throw new ControlError(`no message with MsgId ${msgId} to revoke`);
    return msgId;
  }
  const ids = [...s.messages.keys()].reverse();
  for (const id of ids) {
    const w = s.messages.get(id)!.wire;
    if (w['MsgType'] === MsgType.RECALLED || w['MsgType'] === MsgType.STATUSNOTIFY) continue;
    if (w['FromUserName'] !== route.from) continue;
    if (route.prefix && !String(w['Content']).startsWith(`${route.prefix}:<br/>`)) continue;
    return id;
  }
  throw new ControlError('nothing to revoke: that sender has no message in this session (give "msgId")');
}

/**
 * The `<refermsg>` of a quote of `msgId` (a message injected into this session, or one the client sent), or of the
 * chat's newest message. Names are world ids (wxids), as in the phone's XML.
 */
function quoted(u: SandboxUser, s: Session, route: Route, msgId: string | undefined): ReferMsg {
  const self = u.world.self.id;
  const group = route.group ? route.group.spec.id : null;
  const refer = (id: string, type: number, sender: string, content: string, time: number): ReferMsg => ({
    type, svrid: id, fromusr: group ?? sender, chatusr: group ? sender : '', displayname: u.world.displayName(sender), content, createtime: String(time),
  });
  const sent = msgId ? u.sent.find((x) => x.MsgID === msgId) : undefined;
  if (sent) return refer(sent.MsgID, sent.Type, self, sent.Content, sent.createTime);
  const chatName = group ? s.ids.group(group) : route.from;
  const id = msgId ?? [...s.messages.keys()].reverse().find((k) => {
    const w = s.messages.get(k)!.wire;
    return w['FromUserName'] === chatName && w['MsgType'] !== MsgType.RECALLED && w['MsgType'] !== MsgType.STATUSNOTIFY;
  });
  const w = id ? s.messages.get(id)?.wire : undefined;
  if (!id || !w) throw new ControlError(msgId ? `no message with MsgId ${msgId} to quote` : 'nothing to quote in this chat (give "msgId")');
  const split = group ? splitGroupContent(String(w['Content'] ?? '')) : { sender: null, content: String(w['Content'] ?? '') };
  const from = String(w['FromUserName']);
  const sender = split.sender ? (s.ids.worldId(split.sender) ?? split.sender) : from === s.selfName ? self : (s.ids.worldId(from) ?? from);
  return refer(id, Number(w['MsgType']), sender, decodeTextContent(split.content), Number(w['CreateTime'] ?? 0));
}

export function injectMessages(u: SandboxUser, r: InjectRequest): string[] {
  const s = u.requireOnline();
  const core = u.core;
  const count = r.count ?? 1;
  const ids: string[] = [];
  if (r.type === 'friend_request') {
    if (!r.from) throw new ControlError('"from" (the requester\'s NickName) is required for friend_request');
    for (let i = 0; i < count; i++) ids.push(friendRequest(u, s, r.from, r.content ?? `我是${r.from}`));
    return ids;
  }
  const route = resolve(u, s, r);
  const senderNick = route.senderId ? u.world.displayName(route.senderId) : '';
  for (let i = 0; i < count; i++) {
    const msgId = Session.newMsgId();
    const ctx: B.BuildContext = { msgId, content: r.content, title: r.title, url: r.url, fileName: r.fileName, media: core.media, senderNick };
    let built: B.BuiltMessage;
    switch (r.type) {
      case 'text':
        built = B.buildText(r.content ?? '你好');
        break;
      case 'system':
        built = B.buildSystem(r.content ?? '收到红包，请在手机上查看');
        break;
      case 'image':
        built = B.buildImage(ctx);
        break;
      case 'voice':
        built = B.buildVoice(ctx);
        break;
      case 'video':
        built = B.buildVideo(ctx);
        break;
      case 'emoticon':
        built = B.buildEmoticon(ctx);
        break;
      case 'file':
        built = B.buildFile(ctx);
        break;
      case 'link':
        built = B.buildLink(ctx);
        break;
      case 'transfer':
        built = B.buildTransfer(ctx);
        break;
      case 'location':
        built = B.buildLocation(ctx);
        break;
      case 'card': {
        const key = r.content ?? [...u.world.people.values()].find((p) => u.world.isFriend(p) && p.kind !== 'special')?.nickName ?? '';
        const p = u.person(s, key);
        if (!p) throw new ControlError(`card: unknown person "${key}" (content = the NickName on the card)`);
        built = B.buildCard(p, s.ids.user(p.id));
        break;
      }
      case 'quote':
        built = B.buildQuote(r.content ?? '收到', quoted(u, s, route, r.msgId), route.senderId ?? u.world.self.id);
        break;
      case 'revoke': {
        const target = findRevokeTarget(s, route, r.msgId ?? (r.content && /^\d+$/.test(r.content) ? r.content : undefined));
        const nick = route.senderId === u.world.self.id ? null : senderNick;
        built = B.buildRevoke(route.group ? route.group.spec.id : route.chatId, target, nick);
        break;
      }
    }
    ids.push(deliver(u, s, route, built, msgId));
  }
  return ids;
}

function friendRequest(u: SandboxUser, s: Session, from: string, text: string): string {
  let p: PersonSpec | undefined = u.person(s, from);
  if (p && u.world.isFriend(p)) throw new ControlError(`"${from}" is already a friend`);
  if (!p) {
    p = u.world.addPerson({ id: `wxid_${randomBytes(7).toString('hex')}`, nickName: from, friend: false, sex: 0 });
  }
  const ticket = `v2_${randomBytes(32).toString('hex')}@stranger`;
  u.friendTickets.set(ticket, p.id);
  return deliver(u, s, { from: 'fmessage', to: s.selfName, prefix: null }, B.buildFriendRequest(p, s.ids.user(p.id), text, ticket));
}
