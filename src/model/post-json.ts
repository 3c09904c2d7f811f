/**
 * The JSON posted to post_api for a message (Mojo's `to_json_hash` + added keys; shared/spec/mojo-weixin-reference.md
 * §4.4): every set field, falsy scalars as "" (`value || ""`), plus the sender_…, receiver_… and group_… display keys.
 * openwx fix: an unknown sender/receiver/group never crashes — it gets `昵称未知` / `群名未知` defaults.
 */
import { UNKNOWN_GROUP_NAME, UNKNOWN_NICKNAME } from './names.ts';
import type { Friend, Group, Member, Message, User } from './types.ts';

export interface PostLookups {
  user(): User | null;
  friend(id: string): Friend | undefined;
  group(id: string): Group | undefined;
  member(groupId: string, memberId: string): Member | undefined;
}

type Who = { displayname: string; account: string; uid: string | number; name: string; markname: string; category?: string };

const unknown = (): Who => ({ displayname: UNKNOWN_NICKNAME, account: '', uid: '', name: '', markname: '' });

/** Input bytes per base64 line (57 bytes → 76 characters). */
const LINE_BYTES = 57;
const LINE_CHARS = 76;
/** Lines encoded per step: bounds the temporary base64 text to ~77 KiB whatever the input size. */
const LINES_PER_STEP = 1024;

/**
 * MIME-style base64 (76-character lines, each ending in "\n"), as Perl's encode_base64. Written straight into
 * one Buffer of the exact output size, a step of lines at a time, then turned into the string once: a 20 MiB file
 * costs the output twice (Buffer + string), not the whole base64 text, its line-split copy and a regex match
 * string per line (media_data of post_api reports: docs/benchmarks.md, upload).
 */
export function mimeBase64(data: Uint8Array): string {
  const n = data.length;
  if (n === 0) return '';
  const src = Buffer.from(data.buffer, data.byteOffset, n);
  const lines = Math.ceil(n / LINE_BYTES);
  const lastBytes = n - (lines - 1) * LINE_BYTES;
  const lastChars = Math.ceil(lastBytes / 3) * 4;
  const out = Buffer.allocUnsafe((lines - 1) * (LINE_CHARS + 1) + lastChars + 1);
  let pos = 0;
  for (let i = 0; i < n; i += LINE_BYTES * LINES_PER_STEP) {
    const b64 = Buffer.from(src.toString('base64', i, Math.min(n, i + LINE_BYTES * LINES_PER_STEP)), 'latin1');
    for (let j = 0; j < b64.length; j += LINE_CHARS) {
      pos += b64.copy(out, pos, j, Math.min(b64.length, j + LINE_CHARS));
      out[pos++] = 0x0a;
    }
  }
  return out.toString('latin1', 0, pos);
}

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
