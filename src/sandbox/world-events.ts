/**
 * World changes and what the user's online client is told about them: ModContactList / DelContactList entries through the
 * next webwxsync, plus the system tips (MsgType 10000) the real server posts with them. Used by the wire chatroom /
 * oplog / verifyuser routes and by the control API's contact operations.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { SysText } from '../wire/msgcontent.ts';
import { ControlError } from './control-error.ts';
import type { SandboxUser } from './user.ts';
import { pushSystemTip } from './messages.ts';
import type { Group, GroupSpec, PersonSpec } from './world.ts';

export function newRoomId(u: SandboxUser): string {
  let id = `${randomInt(1000000000, 9999999999)}@chatroom`;
  while (u.world.groups.has(id)) id = `${randomInt(1000000000, 9999999999)}@chatroom`;
  return id;
}

export function newPersonId(): string {
  return `wxid_${randomBytes(7).toString('hex')}`;
}

/** A person became a friend (request accepted, control add_friend). */
export function friendAdded(u: SandboxUser, p: PersonSpec): void {
  p.friend = true;
  const s = u.online();
  if (!s) return;
  s.pushMod(p.id);
  pushSystemTip(u, s, s.ids.user(p.id), SysText.friendAdded(p.nickName));
}

export function friendRemoved(u: SandboxUser, p: PersonSpec): void {
  const s = u.online();
  const wire = s?.ids.user(p.id);
  u.world.removePerson(p.id);
  if (s && wire) s.pushDel(wire);
}

export function personChanged(u: SandboxUser, p: PersonSpec): void {
  u.online()?.pushMod(p.id);
}

export function groupChanged(u: SandboxUser, g: Group, tip?: string): void {
  const s = u.online();
  if (!s) return;
  s.pushMod(g.spec.id);
  if (tip) pushSystemTip(u, s, s.ids.group(g.spec.id), tip);
}

export function groupRemoved(u: SandboxUser, g: Group): void {
  const s = u.online();
  const wire = s?.ids.group(g.spec.id);
  u.world.removeGroup(g.spec.id);
  if (s && wire) s.pushDel(wire);
}

export function createGroup(u: SandboxUser, spec: Omit<GroupSpec, 'id'> & { id?: string }, tip?: string): Group {
  const g = u.world.addGroup({ ...spec, id: spec.id ?? newRoomId(u) });
  groupChanged(u, g, tip);
  return g;
}

/** Resolves a member key (wire UserName, world id, RemarkName or NickName); self included. */
export function memberId(u: SandboxUser, key: string): string {
  const s = u.online();
  if (u.isSelf(s, key)) return u.world.self.id;
  const p = u.person(s, key);
  if (!p) throw new ControlError(`unknown person "${key}"`);
  return p.id;
}
