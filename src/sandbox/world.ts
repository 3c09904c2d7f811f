/**
 * The sandbox world: the logged-in account, the people it knows, its groups. This is the persistent part (the
 * `--world FILE` JSON, also what `GET /__sandbox/world` returns); per-login encrypted ids live in sessions.
 * World ids are stable internal names like the real server's (`wxid_…`, `gh_…`, `filehelper`, `123@chatroom`).
 */
import { z } from 'zod';

export const WORLD_FORMAT = 'openwx-sandbox-world/1';

const personSchema = z.object({
  id: z.string().min(1),
  nickName: z.string(),
  /** Space-separated pinyin syllables of nickName (PYInitial/PYQuanPin are derived from it). */
  pinyin: z.string().optional(),
  remarkName: z.string().optional(),
  remarkPinyin: z.string().optional(),
  /** false: a stranger seen only in groups (or a pending friend request). Default true. */
  friend: z.boolean().optional(),
  kind: z.enum(['person', 'public', 'special']).optional(),
  /** echo: replies to every text with the same text; silent: never answers. */
  behavior: z.enum(['normal', 'echo', 'silent']).optional(),
  sex: z.union([z.literal(0), z.literal(1), z.literal(2)]).optional(),
  signature: z.string().optional(),
  province: z.string().optional(),
  city: z.string().optional(),
  alias: z.string().optional(),
  verifyFlag: z.number().int().optional(),
  starred: z.boolean().optional(),
  pinned: z.boolean().optional(),
  /** Whether a friend request (verifyuser Opcode 2) to this person is accepted at once. Default true. */
  acceptsFriendRequests: z.boolean().optional(),
});

const groupSchema = z.object({
  id: z.string().regex(/@chatroom$/, 'group ids end with @chatroom'),
  /** "" = a group without a topic. */
  topic: z.string(),
  topicPinyin: z.string().optional(),
  owner: z.string(),
  members: z.array(z.string()),
  /** Saved to contacts: listed by webwxgetcontact. Unsaved groups reach the client via init and statusnotify. */
  saved: z.boolean().optional(),
  pinned: z.boolean().optional(),
  displayNames: z.record(z.string(), z.string()).optional(),
});

const chatterSchema = z.object({
  group: z.string().optional(),
  groupEveryMs: z.number().int().positive().optional(),
  publicAccount: z.string().optional(),
  publicEveryMs: z.number().int().positive().optional(),
});

export const worldSchema = z.object({
  format: z.literal(WORLD_FORMAT),
  seed: z.number().int().optional(),
  /** Page host the login redirect sends real-name clients to (wx.qq.com, wx2.qq.com, …). */
  pageHost: z.string().optional(),
  /** Plain web login answers ret 1203 (account barred from web WeChat). */
  loginForbidden: z.boolean().optional(),
  /** UOS desktop mode (mod=desktop + client-version/extspam headers) is still allowed when loginForbidden. Default true. */
  desktopBypassesLoginForbidden: z.boolean().optional(),
  self: z.object({
    id: z.string().min(1),
    uin: z.number().int().positive(),
    nickName: z.string(),
    pinyin: z.string().optional(),
    sex: z.union([z.literal(0), z.literal(1), z.literal(2)]).optional(),
    signature: z.string().optional(),
    alias: z.string().optional(),
  }),
  people: z.array(personSchema),
  groups: z.array(groupSchema),
  chatter: chatterSchema.optional(),
});

export type PersonSpec = z.infer<typeof personSchema>;
export type GroupSpec = z.infer<typeof groupSchema>;
export type WorldSpec = z.infer<typeof worldSchema>;
export type SelfSpec = WorldSpec['self'];

export interface Group {
  spec: GroupSpec;
  memberSet: Set<string>;
}

export class WorldError extends Error {}

/** Users one sandbox hosts at most (`--users`, a multi-user world file). */
export const MAX_USERS = 1000;

/** A multi-user world file: one world per user, each in the single-user format. */
export interface MultiWorldSpec {
  users: WorldSpec[];
}

function parseAt(input: unknown, prefix: string): WorldSpec {
  const r = worldSchema.safeParse(input);
  if (!r.success) {
    const i = r.error.issues[0]!;
    const where = [...(prefix ? [prefix] : []), ...i.path.map(String)].join('.') || '(root)';
    throw new WorldError(`invalid world: ${where}: ${i.message}`);
  }
  return r.data;
}

/** Parses and checks a single-user world (the references between people and groups are checked by `World`). */
export function parseWorld(input: unknown): WorldSpec {
  return parseAt(input, '');
}

/**
 * Parses a world file of either form: a single-user world, or `{"users": [<world>, …]}` (one world per user; their
 * self ids and uins must differ).
 */
export function parseWorlds(input: unknown): WorldSpec[] {
  if (!input || typeof input !== 'object' || Array.isArray(input) || !('users' in input)) return [parseWorld(input)];
  const list = (input as { users: unknown }).users;
  if (!Array.isArray(list) || list.length === 0) throw new WorldError('invalid world: users: a non-empty array of worlds (one per user)');
  if (list.length > MAX_USERS) throw new WorldError(`invalid world: users: at most ${MAX_USERS} users (got ${list.length})`);
  const specs = list.map((w, i) => parseAt(w, `users.${i}`));
  const ids = new Map<string, number>();
  const uins = new Map<number, number>();
  specs.forEach((w, i) => {
    const sameId = ids.get(w.self.id);
    if (sameId !== undefined) throw new WorldError(`invalid world: users.${i}.self.id: "${w.self.id}" is also users.${sameId}'s self id (each user needs its own)`);
    const sameUin = uins.get(w.self.uin);
    if (sameUin !== undefined) throw new WorldError(`invalid world: users.${i}.self.uin: ${w.self.uin} is also users.${sameUin}'s uin (each user needs its own)`);
    ids.set(w.self.id, i);
    uins.set(w.self.uin, i);
  });
  return specs;
}

/** The world with indexes; every mutation goes through here. */
export class World {
  readonly self: SelfSpec;
  readonly people = new Map<string, PersonSpec>();
  readonly groups = new Map<string, Group>();
  private spec: WorldSpec;

  constructor(spec: WorldSpec) {
    this.spec = spec;
    this.self = spec.self;
    for (const p of spec.people) {
      if (p.id === spec.self.id) throw new WorldError(`invalid world: person ${p.id} has the self id`);
      if (this.people.has(p.id)) throw new WorldError(`invalid world: duplicate person id ${p.id}`);
      this.people.set(p.id, p);
    }
    for (const g of spec.groups) {
      if (this.groups.has(g.id)) throw new WorldError(`invalid world: duplicate group id ${g.id}`);
      for (const m of g.members) {
        if (m !== this.self.id && !this.people.has(m)) throw new WorldError(`invalid world: group ${g.id} member ${m} is not a person`);
      }
      this.groups.set(g.id, { spec: g, memberSet: new Set(g.members) });
    }
  }

  get options(): Pick<WorldSpec, 'pageHost' | 'loginForbidden' | 'desktopBypassesLoginForbidden' | 'chatter' | 'seed'> {
    return this.spec;
  }

  isFriend(p: PersonSpec): boolean {
    return p.friend !== false;
  }

  friends(): PersonSpec[] {
    return [...this.people.values()].filter((p) => this.isFriend(p));
  }

  /** Friends that count as friends for /__sandbox/state (special accounts like filehelper excluded). */
  friendCount(): number {
    let n = 0;
    for (const p of this.people.values()) if (this.isFriend(p) && p.kind !== 'special') n++;
    return n;
  }

  /** Finds a person by world id, exact RemarkName or exact NickName (self included when allowSelf). */
  findPerson(key: string): PersonSpec | undefined {
    const byId = this.people.get(key);
    if (byId) return byId;
    for (const p of this.people.values()) if (p.remarkName === key && this.isFriend(p)) return p;
    for (const p of this.people.values()) if (p.nickName === key && this.isFriend(p)) return p;
    for (const p of this.people.values()) if (p.nickName === key) return p;
    return undefined;
  }

  findGroup(key: string): Group | undefined {
    const byId = this.groups.get(key);
    if (byId) return byId;
    for (const g of this.groups.values()) if (g.spec.topic === key) return g;
    return undefined;
  }

  displayName(id: string): string {
    if (id === this.self.id) return this.self.nickName;
    const p = this.people.get(id);
    return p ? p.remarkName || p.nickName : id;
  }

  addPerson(p: PersonSpec): PersonSpec {
    if (this.people.has(p.id) || p.id === this.self.id) throw new WorldError(`person id ${p.id} exists`);
    this.people.set(p.id, p);
    this.spec.people.push(p);
    return p;
  }

  removePerson(id: string): void {
    const p = this.people.get(id);
    if (!p) return;
    // People stay known while they are in a group; only the friendship ends.
    const inGroup = [...this.groups.values()].some((g) => g.memberSet.has(id));
    if (inGroup) {
      p.friend = false;
      return;
    }
    this.people.delete(id);
    this.spec.people = this.spec.people.filter((x) => x.id !== id);
  }

  addGroup(g: GroupSpec): Group {
    if (this.groups.has(g.id)) throw new WorldError(`group id ${g.id} exists`);
    const grp = { spec: g, memberSet: new Set(g.members) };
    this.groups.set(g.id, grp);
    this.spec.groups.push(g);
    return grp;
  }

  removeGroup(id: string): void {
    this.groups.delete(id);
    this.spec.groups = this.spec.groups.filter((x) => x.id !== id);
  }

  addMember(g: Group, id: string): void {
    if (g.memberSet.has(id)) return;
    g.memberSet.add(id);
    g.spec.members.push(id);
  }

  removeMember(g: Group, id: string): void {
    if (!g.memberSet.delete(id)) return;
    g.spec.members = g.spec.members.filter((m) => m !== id);
  }

  /** The world as JSON (loadable again with --world). */
  toSpec(): WorldSpec {
    return this.spec;
  }
}
