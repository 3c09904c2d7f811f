/**
 * World changes and what the online client is told about them: ModContactList / DelContactList entries through the
 * next webwxsync, plus the system tips (MsgType 10000) the real server posts with them. Used by the wire chatroom /
 * oplog / verifyuser routes and by the control API's contact operations.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { SysText } from '../wire/msgcontent.ts';
import { ControlError, type SandboxCore } from './core.ts';
import { pushSystemTip } from './messages.ts';
import type { Group, GroupSpec, PersonSpec } from './world.ts';

export function newRoomId(core: SandboxCore): string {
  let id = `${randomInt(1000000000, 9999999999)}@chatroom`;
  while (core.world.groups.has(id)) id = `${randomInt(1000000000, 9999999999)}@chatroom`;
  return id;
}

export function newPersonId(): string {
  return `wxid_${randomBytes(7).toString('hex')}`;
}

/** A person became a friend (request accepted, control add_friend). */
export function friendAdded(core: SandboxCore, p: PersonSpec): void {
  p.friend = true;
  const s = core.online();
  if (!s) return;
  s.pushMod(p.id);
  pushSystemTip(core, s, s.ids.user(p.id), SysText.friendAdded(p.nickName));
}

export function friendRemoved(core: SandboxCore, p: PersonSpec): void {
  const s = core.online();
  const wire = s?.ids.user(p.id);
  core.world.removePerson(p.id);
  if (s && wire) s.pushDel(wire);
}

export function personChanged(core: SandboxCore, p: PersonSpec): void {
  core.online()?.pushMod(p.id);
}

export function groupChanged(core: SandboxCore, g: Group, tip?: string): void {
  const s = core.online();
  if (!s) return;
  s.pushMod(g.spec.id);
  if (tip) pushSystemTip(core, s, s.ids.group(g.spec.id), tip);
}

export function groupRemoved(core: SandboxCore, g: Group): void {
  const s = core.online();
  const wire = s?.ids.group(g.spec.id);
  core.world.removeGroup(g.spec.id);
  if (s && wire) s.pushDel(wire);
}

export function createGroup(core: SandboxCore, spec: Omit<GroupSpec, 'id'> & { id?: string }, tip?: string): Group {
  const g = core.world.addGroup({ ...spec, id: spec.id ?? newRoomId(core) });
  groupChanged(core, g, tip);
  return g;
}

/** Resolves a member key (wire UserName, world id, RemarkName or NickName); self included. */
export function memberId(core: SandboxCore, key: string): string {
  const s = core.online();
  if (core.isSelf(s, key)) return core.world.self.id;
  const p = core.person(s, key);
  if (!p) throw new ControlError(`unknown person "${key}"`);
  return p.id;
}
