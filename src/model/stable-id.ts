/**
 * openwx extra `stable_id`: a best-effort key that stays the same across QR logins although WeChat's `@…` ids change.
 * Pure: built from what survives a relogin (Uin when WeChat gives one, remark name, nickname, alias, …), hashed with
 * sha1 and cut to 16 hex characters. Persisting the id ↔ stable_id map is the client's job.
 */
import { createHash } from 'node:crypto';
import type { Friend, Group, Member, User } from './types.ts';

export const STABLE_ID_HEX_CHARS = 16;

/** The first STABLE_ID_HEX_CHARS hex characters of the sha1, encoded from the digest's bytes as a flat string (a
 * `.slice()` of the 40-character hex would be a sliced string that keeps its parent alive: 100,000 members). */
export function stableHash(parts: (string | number)[]): string {
  return createHash('sha1').update(parts.map(String).join('\u0001')).digest().toString('hex', 0, STABLE_ID_HEX_CHARS / 2);
}

type Person = Pick<Friend, 'uid' | 'markname' | 'name' | 'account' | 'sex' | 'province' | 'city'>;

/**
 * Key of a friend. `detail` 0: remark name, else nickname + alias; 1 adds sex/province/city (used to separate
 * friends that collide at level 0). A real Uin always wins.
 */
export function friendStableId(f: Person, detail: 0 | 1 = 0): string {
  if (f.uid !== '' && f.uid !== 0) return stableHash(['f', 'uin', f.uid]);
  const base = f.markname ? ['f', 'r', f.markname] : ['f', 'n', f.name, f.account];
  return stableHash(detail === 0 ? base : [...base, f.sex, f.province, f.city]);
}

/** The logged-in user: the Uin is stable. */
export function userStableId(u: Pick<User, 'uid' | 'name' | 'account'>): string {
  return u.uid !== '' && u.uid !== 0 ? stableHash(['u', 'uin', u.uid]) : stableHash(['u', 'n', u.name, u.account]);
}

/** A group member: Uin when known, else its own nickname (`markname`) + alias. */
export function memberStableId(m: Pick<Member, 'uid' | 'markname' | 'account'>): string {
  return m.uid !== '' && m.uid !== 0 ? stableHash(['m', 'uin', m.uid]) : stableHash(['m', 'n', m.markname, m.account]);
}

/** A group: topic + the sorted nicknames of its members. */
export function groupStableId(g: Pick<Group, 'name'> & { member: Pick<Member, 'markname'>[] }): string {
  const nicks = g.member.map((m) => m.markname).sort();
  return stableHash(['g', g.name, ...nicks]);
}

/**
 * Gives every friend a stable_id, unique within the list: friends that collide get the detailed key, and any still
 * colliding get `-2`, `-3`, … in list order. Returns new objects.
 */
export function assignFriendStableIds<T extends Friend>(friends: T[]): T[] {
  const count = (keys: string[]): Map<string, number> => {
    const m = new Map<string, number>();
    for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
    return m;
  };
  const base = friends.map((f) => friendStableId(f, 0));
  const c0 = count(base);
  const keys = friends.map((f, i) => (c0.get(base[i]!)! > 1 ? friendStableId(f, 1) : base[i]!));
  const seen = new Map<string, number>();
  return friends.map((f, i) => {
    const k = keys[i]!;
    const n = (seen.get(k) ?? 0) + 1;
    seen.set(k, n);
    return { ...f, stable_id: n === 1 ? k : `${k}-${n}` };
  });
}
