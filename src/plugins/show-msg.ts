/**
 * ShowMsg (Mojo's plugin of the same name): one readable line per received or sent message and per contact event.
 * Writes to `data.output` (a stream) when given, else logs through the client's logger at info level.
 */
import type { Writable } from 'node:stream';
import type { Friend, Group, Member, Message, User } from '../model/types.ts';
import type { Weixin } from '../weixin.ts';

export interface ShowMsgData {
  output?: Writable;
  /** Longest content shown (longer is cut with …). */
  maxContentChars?: number;
}

type Named = { displayname?: string; id?: string } | undefined;

const name = (o: Named, fallback = '?'): string => o?.displayname || o?.id || fallback;

function oneLine(s: string, max: number): string {
  const flat = String(s ?? '').replace(/\r?\n/g, ' ⏎ ');
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** The line ShowMsg prints for a message (exported for tests and other front ends). */
export function formatMessage(c: Weixin, m: Message, max = 500): string {
  const me = '我';
  const content = oneLine(m.content, max);
  const g = m.group_id ? c.group(m.group_id) : undefined;
  const media = m.media_error ? ` [media failed: ${m.media_error}]` : '';
  if (m.type === 'group_notice') return `[群提示] ${name(g, m.group_id)} : ${content}`;
  if (m.type === 'group_message') {
    const who = m.class === 'send' ? me : name(c.member(m.group_id!, m.sender_id ?? ''), m.sender_id ?? '?');
    return `[群消息] ${who} | ${name(g, m.group_id)} : ${content}${media}`;
  }
  if (m.class === 'send') return `[好友消息] ${me} → ${name(c.friend(m.receiver_id ?? ''), m.receiver_id)} : ${content}${media}`;
  return `[好友消息] ${name(c.friend(m.sender_id ?? ''), m.sender_id)} → ${me} : ${content}${media}`;
}

const show = (v: unknown): string => (v === undefined || v === null || v === '' ? '""' : typeof v === 'string' ? v : JSON.stringify(v));

export function ShowMsg(client: Weixin, data: ShowMsgData = {}): void {
  const max = data.maxContentChars ?? 500;
  const out = data.output;
  const print = (line: string) => (out ? out.write(`${line}\n`) : client.logger.info(line));
  client.on('receive_message', (m) => print(formatMessage(client, m, max)));
  client.on('send_message', (m) => print(formatMessage(client, m, max)));
  client.on('new_friend', (f: Friend) => print(`[新增好友] ${name(f)}`));
  client.on('lose_friend', (f: Friend) => print(`[删除好友] ${name(f)}`));
  client.on('new_group', (g: Group) => print(`[新增群组] ${name(g)}`));
  client.on('lose_group', (g: Group) => print(`[退出群组] ${name(g)}`));
  client.on('new_group_member', (m: Member, g: Group) => print(`[新增群成员] ${name(m)} | ${name(g)}`));
  client.on('lose_group_member', (m: Member, g: Group) => print(`[群成员退出] ${name(m)} | ${name(g)}`));
  client.on('friend_property_change', (f: Friend, p, a, b) => print(`[好友属性变化] ${name(f)} ${p}: ${show(a)} → ${show(b)}`));
  client.on('group_property_change', (g: Group, p, a, b) => print(`[群属性变化] ${name(g)} ${p}: ${show(a)} → ${show(b)}`));
  client.on('group_member_property_change', (m: Member, p, a, b) => print(`[群成员属性变化] ${name(m)} ${p}: ${show(a)} → ${show(b)}`));
  client.on('user_property_change', (u: User, p, a, b) => print(`[帐号属性变化] ${name(u)} ${p}: ${show(a)} → ${show(b)}`));
  client.on('friend_request', (id, displayname, verify) => print(`[好友请求] ${displayname || id} : ${oneLine(verify, max)}`));
}
