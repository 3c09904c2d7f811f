/**
 * Raw WeChat contacts → the Mojo model (shared/spec/mojo-weixin-reference.md §5): User, Friend, Member, Group.
 * Fixes against Mojo: `sex` is always male/female/"" (also on sync updates), names carry real emoji.
 * Every mapper takes the previous object: keys absent from a partial raw entry (ModContactList) keep their old value.
 */
import { SPECIAL_USERS, VERIFYFLAG_BIZ } from '../wire/constants.ts';
import type { RawContact, RawMember, RawUser } from '../wire/types.ts';
import { normalizeName, sexFromCode, uidFromUin, UNKNOWN_GROUP_NAME, UNKNOWN_NICKNAME } from './names.ts';
import { friendStableId, groupStableId, memberStableId, userStableId } from './stable-id.ts';
import type { Category, Friend, Group, Member, User } from './types.ts';

/** Mojo's fixed list of system accounts (Const.pm), category `系统帐号`. */
export const MOJO_SYSTEM_ACCOUNTS: readonly string[] = [
  'filehelper', 'fmessage', 'newsapp', 'weibo', 'qqmail', 'tmessage', 'qmessage', 'qqsync', 'floatbottle', 'lbsapp',
  'shakeapp', 'medianote', 'qqfriend', 'readerapp', 'blogapp', 'facebookapp', 'masssendapp', 'meishiapp', 'feedsapp',
  'voip', 'blogappweixin', 'brandsessionholder', 'weixinreminder', 'wxid_novlwrv3lqwv11', 'gh_22b87fa7cb3c',
  'officialaccounts', 'notification_messages',
];

/** Any raw contact-like entry: a full RawContact, a RawMember, a RawUser or a partial ModContactList entry. */
export type RawPerson = { UserName: string } & Partial<Omit<RawContact, 'UserName'>> & Partial<Omit<RawMember, 'UserName'>> &
  Partial<Omit<RawUser, 'UserName'>>;

export function categoryOf(id: string, verifyFlag: number | undefined): Category {
  if (MOJO_SYSTEM_ACCOUNTS.includes(id)) return '系统帐号';
  if (((verifyFlag ?? 0) & VERIFYFLAG_BIZ) !== 0) return '公众号';
  return '好友';
}

/** WeChat's own special accounts (wire constant list), e.g. to skip them when fetching. */
export function isSpecialUser(id: string): boolean {
  return SPECIAL_USERS.includes(id);
}

const str = (raw: string | undefined, prev: string | undefined): string => (raw === undefined ? (prev ?? '') : raw);
const name = (raw: string | undefined, prev: string | undefined): string => (raw === undefined ? (prev ?? '') : normalizeName(raw));

/** user: `display || markname || name`. */
export function userDisplayname(u: Pick<User, 'display' | 'markname' | 'name'>): string {
  return u.display || u.markname || u.name;
}

/** friend and member: `display || markname || name || 昵称未知`. */
export function personDisplayname(p: Pick<Friend, 'display' | 'markname' | 'name'>): string {
  return p.display || p.markname || p.name || UNKNOWN_NICKNAME;
}

/** group: its name, else the first 3 other members' displaynames joined with `、`, else `群名未知`. */
export function groupDisplayname(g: Pick<Group, 'name'> & { member: Member[] }, selfId: string): string {
  if (g.name) return g.name;
  const others = g.member.filter((m) => m.id !== selfId).slice(0, 3).map((m) => m.displayname);
  return others.length > 0 ? others.join('、') : UNKNOWN_GROUP_NAME;
}

function person(raw: RawPerson, prev: User | Friend | undefined) {
  return {
    id: raw.UserName,
    uid: raw.Uin === undefined ? (prev?.uid ?? '') : uidFromUin(raw.Uin),
    account: str(raw.Alias, prev?.account),
    name: name(raw.NickName, prev?.name),
    markname: name(raw.RemarkName, prev?.markname),
    sex: raw.Sex === undefined ? (prev?.sex ?? '') : sexFromCode(raw.Sex),
    display: name(raw.DisplayName, prev?.display),
    city: str(raw.City, prev?.city),
    province: str(raw.Province, prev?.province),
    signature: name(raw.Signature, prev?.signature),
  };
}

/** The logged-in user (webwxinit `User`); `uid` is the real Uin. */
export function userFromRaw(raw: RawPerson, prev?: User): User {
  const p = person(raw, prev);
  const u = { ...p, displayname: '', stable_id: '' };
  u.displayname = userDisplayname(u);
  u.stable_id = userStableId(u);
  return u;
}

/** A friend (also public and system accounts), with `category`. */
export function friendFromRaw(raw: RawPerson, prev?: Friend): Friend {
  const p = person(raw, prev);
  const verifyFlag = raw.VerifyFlag;
  const category = verifyFlag === undefined && prev ? prev.category : categoryOf(p.id, verifyFlag);
  const f: Friend = { ...p, category, displayname: '', stable_id: '' };
  f.displayname = personDisplayname(f);
  f.stable_id = friendStableId(f);
  return f;
}

/** A group member: `markname` ← NickName (the member's own nickname), `name` always "", `display` ← DisplayName. */
export function memberFromRaw(raw: RawPerson, prev?: Member): Member {
  const m: Member = {
    id: raw.UserName,
    uid: raw.Uin === undefined ? (prev?.uid ?? '') : uidFromUin(raw.Uin),
    account: str(raw.Alias, prev?.account),
    name: '',
    markname: name(raw.NickName, prev?.markname),
    sex: raw.Sex === undefined ? (prev?.sex ?? '') : sexFromCode(raw.Sex),
    display: name(raw.DisplayName, prev?.display),
    city: str(raw.City, prev?.city),
    province: str(raw.Province, prev?.province),
    signature: name(raw.Signature, prev?.signature),
    displayname: '',
    stable_id: '',
  };
  m.displayname = personDisplayname(m);
  m.stable_id = memberStableId(m);
  return m;
}

/**
 * A group. `MemberList` absent → previous members kept; present → mapped, each filling absent keys from the previous
 * member with the same id. `selfId` is needed for the displayname of a group without topic.
 */
export function groupFromRaw(raw: RawPerson, selfId: string, prev?: Group): Group {
  const prevMembers = new Map((prev?.member ?? []).map((m) => [m.id, m]));
  const member = raw.MemberList === undefined
    ? (prev?.member ?? [])
    : raw.MemberList.map((m) => memberFromRaw(m as RawPerson, prevMembers.get(m.UserName)));
  const g: Group = {
    id: raw.UserName,
    uid: raw.Uin === undefined ? (prev?.uid ?? '') : uidFromUin(raw.Uin),
    name: name(raw.NickName, prev?.name),
    displayname: '',
    owner_uid: raw.OwnerUin === undefined ? (prev?.owner_uid ?? 0) : raw.OwnerUin,
    stable_id: '',
    member,
  };
  return refreshGroup(g, selfId);
}

/** Recomputes a group's derived fields (displayname, stable_id) after its name or members changed. */
export function refreshGroup(g: Group, selfId: string): Group {
  return { ...g, displayname: groupDisplayname(g, selfId), stable_id: groupStableId(g) };
}

/** Replaces/adds members of a group (e.g. after a batch fetch of member details). */
export function withMembers(g: Group, members: Member[], selfId: string): Group {
  return refreshGroup({ ...g, member: members }, selfId);
}

/** The friend WeChat never lists but Mojo injects: 文件传输助手. */
export function fileHelperFriend(): Friend {
  return friendFromRaw({ UserName: 'filehelper', NickName: '文件传输助手', Uin: 0, VerifyFlag: 0 });
}
