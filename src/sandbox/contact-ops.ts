/**
 * Control API contact operations (`POST /__sandbox/contacts`): change the world as if it happened on the phone or
 * on the other side, and push the matching ModContactList / DelContactList to the online client.
 */
import { z } from 'zod';
import { SysText } from '../wire/msgcontent.ts';
import { ControlError } from './control-error.ts';
import type { SandboxUser } from './user.ts';
import { createGroup, friendAdded, friendRemoved, groupChanged, groupRemoved, memberId, newPersonId, personChanged } from './world-events.ts';
import type { Group, PersonSpec } from './world.ts';

const name = z.string().min(1);
const sex = z.union([z.literal(0), z.literal(1), z.literal(2)]);

export const contactOpSchema = z.discriminatedUnion('op', [
  z.object({
    op: z.literal('add_friend'),
    nickName: name,
    id: z.string().min(1).optional(),
    remarkName: z.string().optional(),
    sex: sex.optional(),
    signature: z.string().optional(),
    kind: z.enum(['person', 'public']).optional(),
    behavior: z.enum(['normal', 'echo', 'silent']).optional(),
  }),
  z.object({ op: z.literal('remove_friend'), friend: name }),
  z.object({
    op: z.literal('add_group'),
    topic: z.string().optional(),
    members: z.array(name).min(1),
    owner: name.optional(),
    saved: z.boolean().optional(),
  }),
  z.object({ op: z.literal('remove_group'), group: name }),
  z.object({ op: z.literal('add_member'), group: name, member: name }),
  z.object({ op: z.literal('remove_member'), group: name, member: name }),
  z.object({ op: z.literal('rename_group'), group: name, topic: z.string() }),
  z.object({
    op: z.literal('update_friend'),
    friend: name,
    nickName: z.string().min(1).optional(),
    remarkName: z.string().optional(),
    signature: z.string().optional(),
    sex: sex.optional(),
  }),
]);

export type ContactOp = z.infer<typeof contactOpSchema>;

export interface ContactOpResult {
  ok: true;
  /** World id of the friend or group the operation concerned. */
  id: string;
  /** Its UserName in the online session (null when nobody is online). */
  UserName: string | null;
}

function friend(u: SandboxUser, key: string): PersonSpec {
  const p = u.person(u.online(), key);
  if (!p || !u.world.isFriend(p)) throw new ControlError(`unknown friend "${key}"`);
  return p;
}

function group(u: SandboxUser, key: string): Group {
  const g = u.group(u.online(), key);
  if (!g) throw new ControlError(`unknown group "${key}"`);
  return g;
}

function result(u: SandboxUser, id: string, isGroup: boolean): ContactOpResult {
  const s = u.online();
  return { ok: true, id, UserName: s ? (isGroup ? s.ids.group(id) : s.ids.user(id)) : null };
}

export function applyContactOp(u: SandboxUser, op: ContactOp): ContactOpResult {
  const w = u.world;
  switch (op.op) {
    case 'add_friend': {
      const existing = op.id ? w.people.get(op.id) : undefined;
      if (existing && w.isFriend(existing)) throw new ControlError(`"${op.id}" is already a friend`);
      const p =
        existing ??
        w.addPerson({
          id: op.id ?? (op.kind === 'public' ? `gh_${newPersonId().slice(5, 17)}` : newPersonId()),
          nickName: op.nickName,
          friend: false,
          ...(op.kind === 'public' ? { kind: 'public' as const, verifyFlag: 24 } : {}),
        });
      if (op.remarkName !== undefined) p.remarkName = op.remarkName;
      if (op.sex !== undefined) p.sex = op.sex;
      if (op.signature !== undefined) p.signature = op.signature;
      if (op.behavior !== undefined) p.behavior = op.behavior;
      friendAdded(u, p);
      return result(u, p.id, false);
    }
    case 'remove_friend': {
      const p = friend(u, op.friend);
      const r = result(u, p.id, false);
      friendRemoved(u, p);
      return r;
    }
    case 'update_friend': {
      const p = friend(u, op.friend);
      if (op.nickName !== undefined) {
        p.nickName = op.nickName;
        delete p.pinyin;
      }
      if (op.remarkName !== undefined) {
        p.remarkName = op.remarkName;
        delete p.remarkPinyin;
      }
      if (op.signature !== undefined) p.signature = op.signature;
      if (op.sex !== undefined) p.sex = op.sex;
      personChanged(u, p);
      return result(u, p.id, false);
    }
    case 'add_group': {
      const members = [...new Set([w.self.id, ...op.members.map((m) => memberId(u, m))])];
      const owner = op.owner ? memberId(u, op.owner) : members.find((m) => m !== w.self.id) ?? w.self.id;
      if (!members.includes(owner)) throw new ControlError('owner must be one of the members');
      const inviter = w.displayName(owner);
      const others = members.filter((m) => m !== w.self.id && m !== owner).map((m) => w.displayName(m));
      const tip = owner === w.self.id ? SysText.youInvited(others) : SysText.invited(inviter, ['你', ...others]);
      const g = createGroup(u, { topic: op.topic ?? '', owner, members, saved: op.saved ?? false }, tip);
      return result(u, g.spec.id, true);
    }
    case 'remove_group': {
      const g = group(u, op.group);
      const r = result(u, g.spec.id, true);
      groupRemoved(u, g);
      return r;
    }
    case 'add_member': {
      const g = group(u, op.group);
      let id: string;
      try {
        id = memberId(u, op.member);
      } catch {
        id = w.addPerson({ id: newPersonId(), nickName: op.member, friend: false, sex: 0 }).id;
      }
      if (g.memberSet.has(id)) throw new ControlError(`"${op.member}" is already a member of "${op.group}"`);
      w.addMember(g, id);
      groupChanged(u, g, SysText.invited(w.displayName(g.spec.owner), [w.displayName(id)]));
      return result(u, g.spec.id, true);
    }
    case 'remove_member': {
      const g = group(u, op.group);
      const id = memberId(u, op.member);
      if (!g.memberSet.has(id)) throw new ControlError(`"${op.member}" is not a member of "${op.group}"`);
      if (id === w.self.id) {
        w.removeMember(g, id);
        const s = u.online();
        s?.pushDel(s.ids.group(g.spec.id));
      } else {
        w.removeMember(g, id);
        groupChanged(u, g);
      }
      return result(u, g.spec.id, true);
    }
    case 'rename_group': {
      const g = group(u, op.group);
      g.spec.topic = op.topic;
      delete g.spec.topicPinyin;
      groupChanged(u, g, SysText.renamed(w.displayName(g.spec.owner), op.topic));
      return result(u, g.spec.id, true);
    }
  }
}
