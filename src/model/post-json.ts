/**
 * The JSON posted to post_api for a message (Mojo's `to_json_hash` + added keys; shared/spec/mojo-weixin-reference.md
 * §4.4): every set field, falsy scalars as "" (`value || ""`), plus the sender_…, receiver_… and group_… display keys.
 * openwx fix: an unknown sender/receiver/group never crashes — it gets `昵称未知` / `群名未知` defaults.
 */
import { mimeBase64 } from './mime-base64.ts';
import { UNKNOWN_GROUP_NAME, UNKNOWN_NICKNAME } from './names.ts';
import type { Friend, Group, Member, Message, User } from './types.ts';

export interface PostLookups {
  user(): User | null;
  friend(id: string): Friend | undefined;
  group(id: string): Group | undefined;
  member(groupId: string, memberId: string): Member | undefined;
}

export { mimeBase64 };

type Who = { displayname: string; account: string; uid: string | number; name: string; markname: string; category?: string };

const unknown = (): Who => ({ displayname: UNKNOWN_NICKNAME, account: '', uid: '', name: '', markname: '' });

function me(l: PostLookups): Who {
  return l.user() ?? unknown();
}

function person(m: Message, id: string | undefined, l: PostLookups): Who {
  if (!id) return unknown();
  if (m.type !== 'friend_message' && m.group_id) {
    const mem = l.member(m.group_id, id);
    if (mem) return mem;
  }
  const self = l.user();
  if (self && id === self.id) return self;
  return l.friend(id) ?? unknown();
}

function put(out: Record<string, unknown>, prefix: string, w: Who, withCategory: boolean): void {
  out[prefix] = w.displayname;
  out[`${prefix}_account`] = w.account;
  out[`${prefix}_uid`] = w.uid;
  out[`${prefix}_name`] = w.name;
  out[`${prefix}_markname`] = w.markname;
  if (withCategory && w.category !== undefined) out[`${prefix}_category`] = w.category;
}

/** The post body of a message; `postType` (`receive_message` / `send_message`) is added as `post_type` when given. */
export function messagePostJson(m: Message, l: PostLookups, postType?: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) {
    if (v === undefined || k.startsWith('_')) continue;
    if (k === 'media_data') {
      if (v instanceof Uint8Array) out[k] = mimeBase64(v);
      continue;
    }
    out[k] = v === null || v === 0 || v === '' || v === false ? '' : v;
  }
  out.time = Number(m.time);
  if (m.type !== 'group_notice') put(out, 'sender', person(m, m.sender_id, l), true);
  const isGroup = m.type === 'group_message' || m.type === 'group_notice';
  if (!(isGroup && m.class === 'send')) {
    let r: Who;
    if (isGroup) {
      const self = l.user();
      r = (self && m.group_id ? l.member(m.group_id, self.id) : undefined) ?? me(l);
    } else if (m.class === 'recv') r = me(l);
    else r = person(m, m.receiver_id, l);
    put(out, 'receiver', r, false);
  }
  if (isGroup) {
    const g = m.group_id ? l.group(m.group_id) : undefined;
    out.group = g?.displayname ?? UNKNOWN_GROUP_NAME;
    out.group_uid = g?.uid ?? '';
    out.group_name = g?.name ?? '';
  }
  if (postType) out.post_type = postType;
  return out;
}
