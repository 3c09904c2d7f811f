/**
 * The contact book of one account: the user, friends and groups (with members) in the Mojo model, built and updated
 * with the model's mappers, and the contact events their diffs produce. Also keeps what the model leaves out
 * (HeadImgUrl, EncryChatRoomId) and the persisted stable-id table, so `stable_id` survives QR logins and renames.
 */
import { fileHelperFriend, friendFromRaw, groupFromRaw, memberFromRaw, userFromRaw, type RawPerson } from '../model/contacts.ts';
import { assignFriendStableIds } from '../model/stable-id.ts';
import {
  friendUpdateEvents, groupUpdateEvents, userUpdateEvents, type ContactEvent,
} from '../model/diff.ts';
import type { Friend, Group, GroupBasic, Member, User } from '../model/types.ts';
import { isGroupId } from '../wire/ids.ts';
import type { Profile, RawContact } from '../wire/types.ts';
import { StableIds } from './stable-ids.ts';

interface RawMeta {
  headImgUrl?: string;
  encryChatRoomId?: string;
}

export type Query = Record<string, string>;

/** Every field of a Member (src/model/types.ts; a field added there fails to compile here), to compare and share them. */
const MEMBER_FIELDS: Record<keyof Member, true> = {
  id: true, uid: true, account: true, name: true, markname: true, sex: true, display: true, city: true, province: true,
  signature: true, displayname: true, stable_id: true,
};
const MEMBER_KEYS = Object.keys(MEMBER_FIELDS) as (keyof Member)[];

/**
 * Mojo's _search: every given key must be an own field of the object and equal the value (compared as strings).
 * Own fields only: `constructor`, `toString`, `__proto__`… are inherited, not attributes, and match nothing.
 */
export function matches(obj: object, q: Query): boolean {
  const o = obj as Record<string, unknown>;
  for (const [k, v] of Object.entries(q)) {
    if (!Object.hasOwn(o, k) || k === 'member') return false;
    if (String(o[k] ?? '') !== String(v)) return false;
  }
  return true;
}

/** Most attribute indexes kept per map (search keys are caller-chosen; this bounds what they can make us hold). */
const MAX_INDEXES = 16;

/**
 * A Map of contacts by id that answers Mojo searches from lazily built per-attribute indexes (value → objects in
 * insertion order) instead of scanning every contact per request (5,000 friends: a linear scan per API call).
 * Every set/delete/clear drops the indexes; contacts are replaced, never mutated in place, once stored.
 */
export class SearchableMap<V extends object> extends Map<string, V> {
  #index: Map<string, Map<string, V[]>> | undefined;

  override set(k: string, v: V): this {
    this.#index?.clear();
    return super.set(k, v);
  }
  override delete(k: string): boolean {
    this.#index?.clear();
    return super.delete(k);
  }
  override clear(): void {
    this.#index?.clear();
    super.clear();
  }

  /** Same answer, same order as `[...values()].filter((o) => matches(o, q))`. */
  search(q: Query): V[] {
    const keys = Object.keys(q);
    if (keys.length === 0) return [...this.values()];
    if (keys.includes('member')) return [];
    const k0 = keys[0]!;
    this.#index ??= new Map();
    let bucket = this.#index.get(k0);
    if (!bucket) {
      bucket = new Map();
      for (const o of this.values()) {
        if (!Object.hasOwn(o, k0)) continue;
        const key = String((o as Record<string, unknown>)[k0] ?? '');
        const list = bucket.get(key);
        if (list) list.push(o);
        else bucket.set(key, [o]);
      }
      if (this.#index.size >= MAX_INDEXES) this.#index.clear();
      this.#index.set(k0, bucket);
    }
    const hits = bucket.get(String(q[k0]));
    return hits ? hits.filter((o) => matches(o, q)) : [];
  }
}

export class ContactBook {
  #user: User | null = null;
  #friends = new SearchableMap<Friend>();
  #groups = new SearchableMap<Group>();
  #meta = new Map<string, RawMeta>();
  /**
   * The first Member object stored for each member id since the last load: the same people sit in many groups
   * (500 groups × 200 members were ~25,000 people in the bench world), so a member equal in every field to the one
   * already stored (same group display name, same stable id) is that very object, and one that differs shares its
   * equal strings. Members are never mutated once stored, so sharing is invisible to readers. Bounded by the member
   * ids seen since the last load (cleared by load() and clear()).
   */
  #people = new Map<string, Member>();
  readonly stable = new StableIds();
  #selfId = '';

  get selfId(): string {
    return this.#selfId;
  }

  clear(): void {
    this.#user = null;
    this.#friends.clear();
    this.#groups.clear();
    this.#meta.clear();
    this.#people.clear();
    this.stable.resetSession();
    this.#selfId = '';
  }

  // ---- loading ------------------------------------------------------------------------------------------

  setUser(raw: RawPerson): User {
    this.#selfId = raw.UserName;
    this.#remember(raw);
    const u = userFromRaw(raw, this.#user ?? undefined);
    u.stable_id = this.stable.resolve(u.id, u.stable_id);
    this.#user = u;
    return u;
  }

  /**
   * Initial load (no events): friends from webwxgetcontact (non-group entries), groups from batchgetcontact.
   * The file helper is added when WeChat does not list it (Mojo does the same).
   */
  load(contacts: RawContact[], groups: RawContact[]): void {
    this.loadMapped(contacts, this.mapGroups(groups));
  }

  /**
   * Groups from batchgetcontact entries, as they will be stored (stable ids resolved, members shared) but not stored
   * yet: the login maps each batch as it arrives and stores them all with `loadMapped`.
   */
  mapGroups(raws: RawContact[]): Group[] {
    const out: Group[] = [];
    for (const raw of raws) {
      if (!raw?.UserName || !isGroupId(raw.UserName)) continue;
      out.push(this.#prepareGroup(groupFromRaw(raw as RawPerson, this.#selfId), raw));
    }
    return out;
  }

  /** `load` with groups already mapped by `mapGroups`; the shared-member table keeps only the members stored now. */
  loadMapped(contacts: RawContact[], groups: Group[]): void {
    this.#friends.clear();
    this.#groups.clear();
    const friends: Friend[] = [];
    for (const raw of contacts) {
      if (!raw?.UserName || isGroupId(raw.UserName) || raw.UserName === this.#selfId) continue;
      this.#remember(raw);
      friends.push(friendFromRaw(raw as RawPerson));
    }
    if (!friends.some((f) => f.id === 'filehelper')) friends.push(fileHelperFriend());
    for (const f of assignFriendStableIds(friends)) {
      f.stable_id = this.stable.resolve(f.id, f.stable_id);
      this.#friends.set(f.id, f);
    }
    this.#people.clear();
    for (const g of groups) {
      this.#groups.set(g.id, g);
      for (const m of g.member) if (!this.#people.has(m.id)) this.#people.set(m.id, m);
    }
  }

  // ---- updates (sync, batch fetches, operations) → events ------------------------------------------------

  /** A ModContactList / batchgetcontact entry. Unknown → new_friend/new_group; known → property/member events. */
  applyContact(raw: RawContact): ContactEvent[] {
    if (!raw?.UserName) return [];
    if (raw.UserName === this.#selfId) return this.#applyUser(raw as RawPerson);
    this.#remember(raw);
    if (isGroupId(raw.UserName)) {
      const old = this.#groups.get(raw.UserName);
      const next = this.#setGroup(groupFromRaw(raw as RawPerson, this.#selfId, old), raw);
      return old ? groupUpdateEvents(old, next) : [{ event: 'new_group', args: [next] }];
    }
    const old = this.#friends.get(raw.UserName);
    const next = friendFromRaw(raw as RawPerson, old);
    next.stable_id = old ? this.stable.resolve(next.id, next.stable_id) : this.#uniqueFriendStable(next);
    this.#friends.set(next.id, next);
    return old ? friendUpdateEvents(old, next) : [{ event: 'new_friend', args: [next] }];
  }

  /** DelContactList entry → lose_friend / lose_group. */
  removeContact(userName: string): ContactEvent[] {
    const g = this.#groups.get(userName);
    if (g) {
      this.#groups.delete(userName);
      return [{ event: 'lose_group', args: [g] }];
    }
    const f = this.#friends.get(userName);
    if (f) {
      this.#friends.delete(userName);
      return [{ event: 'lose_friend', args: [f] }];
    }
    return [];
  }

  /** Members fetched with full details (batchgetcontact with the group's EncryChatRoomId) replace sparse ones. */
  applyMemberDetails(groupId: string, raws: RawContact[]): ContactEvent[] {
    const old = this.#groups.get(groupId);
    if (!old) return [];
    const byId = new Map(old.member.map((m) => [m.id, m]));
    for (const raw of raws) {
      const prev = byId.get(raw.UserName);
      if (!prev) continue;
      this.#remember(raw);
      // a member's own NickName → markname; keep the group display name the member list gave
      const m = memberFromRaw({ ...(raw as RawPerson), DisplayName: raw.DisplayName || prev.display }, prev);
      byId.set(m.id, this.#storedMember(groupId, m));
    }
    const next = { ...old, member: old.member.map((m) => byId.get(m.id)!) };
    this.#groups.set(groupId, next);
    return groupUpdateEvents(old, next);
  }

  /** Members removed locally after a successful kick (Mojo emits lose_group_member at once). */
  removeMembers(groupId: string, memberIds: string[]): ContactEvent[] {
    const old = this.#groups.get(groupId);
    if (!old) return [];
    const drop = new Set(memberIds);
    const next = { ...old, member: old.member.filter((m) => !drop.has(m.id)) };
    this.#groups.set(groupId, next);
    return groupUpdateEvents(old, next);
  }

  /** Sync `Profile` (BitFlag ≠ 0) → user_property_change. */
  applyProfile(p: Profile | undefined): ContactEvent[] {
    if (!p || !p.BitFlag || !this.#user) return [];
    const raw: RawPerson = { UserName: this.#selfId };
    if (p.NickName?.Buff) raw.NickName = p.NickName.Buff;
    if (typeof p.Sex === 'number') raw.Sex = p.Sex;
    if (typeof p.Signature === 'string') raw.Signature = p.Signature;
    if (typeof p.Alias === 'string' && p.Alias) raw.Alias = p.Alias;
    if (p.HeadImgUrl) raw.HeadImgUrl = p.HeadImgUrl;
    return this.#applyUser(raw);
  }

  #applyUser(raw: RawPerson): ContactEvent[] {
    const old = this.#user;
    this.#remember(raw);
    const next = userFromRaw(raw, old ?? undefined);
    next.stable_id = this.stable.resolve(next.id, next.stable_id);
    this.#user = next;
    return old ? userUpdateEvents(old, next) : [];
  }

  #setGroup(g: Group, raw: RawContact): Group {
    this.#groups.set(g.id, this.#prepareGroup(g, raw));
    return g;
  }

  #prepareGroup(g: Group, raw: RawContact): Group {
    if (raw.EncryChatRoomId) this.#meta.set(g.id, { ...this.#meta.get(g.id), encryChatRoomId: raw.EncryChatRoomId });
    // resolve() keeps the first key of a known wire id and records the new computed key as an alias
    g.stable_id = this.stable.resolve(g.id, g.stable_id);
    g.member = g.member.map((m) => this.#storedMember(g.id, m));
    return g;
  }

  /** A freshly mapped member of `groupId` as stored: its resolved stable id, shared with an equal stored member. */
  #storedMember(groupId: string, fresh: Member): Member {
    const seen = this.#people.get(fresh.id);
    // The per-group stable-id table keeps its key and value strings: take them from the stored member when equal,
    // so 100,000 members of 500 groups hold ~25,000 id and stable-id strings, not one copy per group (each
    // batchgetcontact answer parses its own copies).
    const id = seen ? seen.id : fresh.id;
    const computed = seen && fresh.stable_id === seen.stable_id ? seen.stable_id : fresh.stable_id;
    const stable_id = this.stable.resolveMember(groupId, id, computed);
    if (seen && stable_id === seen.stable_id && MEMBER_KEYS.every((k) => k === 'stable_id' || fresh[k] === seen[k])) return seen;
    const m: Member = { ...fresh, stable_id };
    if (!seen) {
      this.#people.set(m.id, m);
      return m;
    }
    const w = m as unknown as Record<string, unknown>;
    for (const k of MEMBER_KEYS) if (m[k] === seen[k]) w[k] = seen[k];
    return m;
  }

  #uniqueFriendStable(f: Friend): string {
    let s = this.stable.resolve(f.id, f.stable_id);
    const taken = new Set([...this.#friends.values()].filter((x) => x.id !== f.id).map((x) => x.stable_id));
    if (taken.has(s)) {
      let n = 2;
      while (taken.has(`${s}-${n}`)) n++;
      s = `${s}-${n}`;
      this.stable.assign(f.id, s);
    }
    return s;
  }

  #remember(raw: RawPerson): void {
    if (raw.HeadImgUrl) this.#meta.set(raw.UserName, { ...this.#meta.get(raw.UserName), headImgUrl: raw.HeadImgUrl });
  }

  // ---- lookups ------------------------------------------------------------------------------------------

  user(): User | null {
    return this.#user;
  }
  friends(): Friend[] {
    return [...this.#friends.values()];
  }
  groups(): Group[] {
    return [...this.#groups.values()];
  }
  groupsBasic(): GroupBasic[] {
    return this.groups().map(({ member: _m, ...g }) => g);
  }
  friend(id: string): Friend | undefined {
    return this.#friends.get(id);
  }
  group(id: string): Group | undefined {
    return this.#groups.get(id);
  }
  member(groupId: string, memberId: string): Member | undefined {
    return this.#groups.get(groupId)?.member.find((m) => m.id === memberId);
  }
  groupOfMember(memberId: string): Group | undefined {
    for (const g of this.#groups.values()) if (g.member.some((m) => m.id === memberId)) return g;
    return undefined;
  }
  searchFriends(q: Query): Friend[] {
    return this.#friends.search(q);
  }
  searchGroups(q: Query): Group[] {
    return this.#groups.search(q);
  }
  headImgUrl(id: string): string | undefined {
    return this.#meta.get(id)?.headImgUrl;
  }
  encryChatRoomId(groupId: string): string {
    return this.#meta.get(groupId)?.encryChatRoomId ?? '';
  }
  knows(id: string): boolean {
    return id === this.#selfId || this.#friends.has(id) || this.#groups.has(id);
  }
}
