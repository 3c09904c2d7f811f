/**
 * Contact diffs → the events Mojo emits on contact updates (shared/spec/mojo-weixin-reference.md §3.5, §6):
 * `*_property_change [obj, property, old, new]`, `new_group_member` / `lose_group_member [member, group]`,
 * `new_friend` / `lose_friend` / `new_group` / `lose_group`. Pure: the client's contact book emits them.
 * Derived fields (`displayname`, `stable_id`) and `member` are not compared, as in Mojo (it compares stored keys).
 */
import type { Friend, Group, Member, User } from './types.ts';

export type PropertyChange = [property: string, oldValue: unknown, newValue: unknown];

export type ContactEvent =
  | { event: 'user_property_change'; args: [User, string, unknown, unknown] }
  | { event: 'friend_property_change'; args: [Friend, string, unknown, unknown] }
  | { event: 'group_property_change'; args: [Group, string, unknown, unknown] }
  | { event: 'group_member_property_change'; args: [Member, string, unknown, unknown] }
  | { event: 'new_group_member'; args: [Member, Group] }
  | { event: 'lose_group_member'; args: [Member, Group] }
  | { event: 'new_friend'; args: [Friend] }
  | { event: 'lose_friend'; args: [Friend] }
  | { event: 'new_group'; args: [Group] }
  | { event: 'lose_group'; args: [Group] };

const NOT_COMPARED = new Set(['displayname', 'stable_id', 'member', 'id']);

/** Changed scalar properties, in the key order of `next`. */
export function diffProperties(old: object, next: object): PropertyChange[] {
  const o = old as Record<string, unknown>;
  const n = next as Record<string, unknown>;
  const out: PropertyChange[] = [];
  for (const k of Object.keys(n)) {
    if (NOT_COMPARED.has(k)) continue;
    if (o[k] !== n[k]) out.push([k, o[k], n[k]]);
  }
  return out;
}

export function userUpdateEvents(old: User, next: User): ContactEvent[] {
  return diffProperties(old, next).map(([p, a, b]) => ({ event: 'user_property_change', args: [next, p, a, b] }));
}

export function friendUpdateEvents(old: Friend, next: Friend): ContactEvent[] {
  return diffProperties(old, next).map(([p, a, b]) => ({ event: 'friend_property_change', args: [next, p, a, b] }));
}

export interface MemberDiff {
  added: Member[];
  removed: Member[];
  changed: { member: Member; changes: PropertyChange[] }[];
}

export function diffMembers(old: Member[], next: Member[]): MemberDiff {
  const before = new Map(old.map((m) => [m.id, m]));
  const after = new Set(next.map((m) => m.id));
  const out: MemberDiff = { added: [], removed: [], changed: [] };
  for (const m of next) {
    const o = before.get(m.id);
    if (!o) out.added.push(m);
    else {
      const changes = diffProperties(o, m);
      if (changes.length > 0) out.changed.push({ member: m, changes });
    }
  }
  for (const m of old) if (!after.has(m.id)) out.removed.push(m);
  return out;
}

/** Group property changes, then member property changes, new members and lost members (with the updated group). */
export function groupUpdateEvents(old: Group, next: Group): ContactEvent[] {
  const ev: ContactEvent[] = diffProperties(old, next).map(([p, a, b]) => ({ event: 'group_property_change', args: [next, p, a, b] }));
  const d = diffMembers(old.member, next.member);
  for (const { member, changes } of d.changed) {
    for (const [p, a, b] of changes) ev.push({ event: 'group_member_property_change', args: [member, p, a, b] });
  }
  for (const m of d.added) ev.push({ event: 'new_group_member', args: [m, next] });
  for (const m of d.removed) ev.push({ event: 'lose_group_member', args: [m, next] });
  return ev;
}

/** A full friend-list refresh: new, lost and changed friends. */
export function friendListEvents(old: Friend[], next: Friend[]): ContactEvent[] {
  const before = new Map(old.map((f) => [f.id, f]));
  const after = new Set(next.map((f) => f.id));
  const ev: ContactEvent[] = [];
  for (const f of next) {
    const o = before.get(f.id);
    if (!o) ev.push({ event: 'new_friend', args: [f] });
    else ev.push(...friendUpdateEvents(o, f));
  }
  for (const f of old) if (!after.has(f.id)) ev.push({ event: 'lose_friend', args: [f] });
  return ev;
}

/** A full group-list refresh: new, lost and changed groups (incl. their member events). */
export function groupListEvents(old: Group[], next: Group[]): ContactEvent[] {
  const before = new Map(old.map((g) => [g.id, g]));
  const after = new Set(next.map((g) => g.id));
  const ev: ContactEvent[] = [];
  for (const g of next) {
    const o = before.get(g.id);
    if (!o) ev.push({ event: 'new_group', args: [g] });
    else ev.push(...groupUpdateEvents(o, g));
  }
  for (const g of old) if (!after.has(g.id)) ev.push({ event: 'lose_group', args: [g] });
  return ev;
}
