/**
 * One WeChat user of the sandbox (`--users N`, or one entry of a multi-user world file): its world, its web sessions
 * (at most one live; a new login ends the previous one, whose synccheck then answers 1101), what its clients sent,
 * its uploads, friend-request tickets and faults. Users are independent: nothing done for one reaches another's
 * session. A generated world (`--world-size`) is built on first use; the identity (id, uin, NickName) is known from
 * the start, so listing users, naming them and logging them in never generates a world.
 */
import type { SandboxCore } from './core.ts';
import { ControlError } from './control-error.ts';
import { Faults } from './faults.ts';
import type { LoginTicket } from './login-state.ts';
import type { EndReason, Session } from './sessions.ts';
import { World, WorldError, type Group, type PersonSpec, type WorldSpec } from './world.ts';

export interface UserIdentity {
  /** The world's self id (`wxid_…`): stable across logins. */
  id: string;
  uin: number;
  nickName: string;
}

export interface SentRecord {
  MsgID: string;
  LocalID: string;
  Type: number;
  FromUserName: string;
  ToUserName: string;
  Content: string;
  MediaId?: string;
  endpoint: string;
  /** Added fields (not in the list): who it went to, when, and whether it was revoked since. */
  toNickName: string;
  createTime: number;
  revoked?: boolean;
  /** The ClientMsgId the revoke carried (the official client sends the send's LocalID). */
  revokeClientMsgId?: string;
}

export interface Upload {
  mediaId: string;
  bytes: Buffer;
  fileName: string;
  mime: string;
  mediaType: string;
}

/** Ended sessions kept per user, so their old cookies get 1101 (logged out / replaced) rather than 1100 (unknown). */
const ENDED_SESSIONS_KEPT = 8;

export class SandboxUser {
  current: Session | null = null;
  lastSelfName = '';
  everLoggedIn = false;
  /** The newest QR ticket scanned or confirmed as this user. */
  lastTicket: LoginTicket | null = null;
  readonly sent: SentRecord[] = [];
  readonly uploads = new Map<string, Upload>();
  /** Friend-request tickets handed out (`RecommendInfo.Ticket` → person id), redeemed by webwxverifyuser Opcode 3. */
  readonly friendTickets = new Map<string, string>();
  /** Faults for this user's requests only (global ones are the core's). */
  readonly faults = new Faults();
  private readonly sessions: Session[] = [];
  private built: World | null;
  private build: (() => WorldSpec) | null;
  private readonly onlineListeners = new Set<(s: Session | null) => void>();

  constructor(
    readonly core: SandboxCore,
    /** 1-based position in the sandbox. */
    readonly index: number,
    readonly identity: UserIdentity,
    world: World | (() => WorldSpec),
  ) {
    this.built = world instanceof World ? world : null;
    this.build = world instanceof World ? null : world;
  }

  /** The world (generated now if it has not been yet). */
  get world(): World {
    if (!this.built) {
      const spec = this.build!();
      const { id, uin } = spec.self;
      if (id !== this.identity.id || uin !== this.identity.uin) throw new WorldError(`user ${this.index}: the generated world's self differs from its identity`);
      this.built = new World(spec);
      this.build = null;
    }
    return this.built;
  }

  /** Whether the world exists yet (a generated one is built on first use). */
  get worldBuilt(): boolean {
    return this.built !== null;
  }

  /** `小明同学 (wxid_…)`, for messages. */
  get label(): string {
    return `${this.identity.nickName} (${this.identity.id})`;
  }

  onOnlineChange(fn: (s: Session | null) => void): () => void {
    this.onlineListeners.add(fn);
    return () => this.onlineListeners.delete(fn);
  }

  private emitOnline(): void {
    for (const fn of this.onlineListeners) fn(this.current);
    this.core.userOnlineChanged(this);
  }

  /** A new session of this user (webwxnewloginpage): the previous live one ends as 'kicked'. */
  adopt(s: Session): void {
    if (this.current?.alive) this.current.end('kicked');
    this.current = s;
    this.sessions.push(s);
    this.lastSelfName = s.selfName;
    this.everLoggedIn = true;
    for (const old of [...this.sessions]) {
      if (this.sessions.length <= ENDED_SESSIONS_KEPT) break;
      if (old.alive || old === s) continue;
      this.sessions.splice(this.sessions.indexOf(old), 1);
      this.core.sessions.delete(old.sid);
    }
    this.emitOnline();
  }

  endSession(s: Session, reason: EndReason): void {
    s.end(reason);
    if (this.current === s) {
      this.current = null;
      this.emitOnline();
    }
  }

  online(): Session | null {
    return this.current?.alive ? this.current : null;
  }

  requireOnline(): Session {
    const s = this.online();
    if (!s) {
      const where = this.core.users.length > 1 ? ` for user ${this.label}` : '';
      throw new ControlError(`no session is online${where}: log a client in first (GET /__sandbox/state shows "online")`);
    }
    return s;
  }

  /** Whether `key` is a UserName one of this user's sessions had for the user itself. */
  hadSelfName(key: string): boolean {
    return key === this.lastSelfName || this.sessions.some((s) => s.selfName === key);
  }

  /**
   * A QR ticket scanned or confirmed as this user and not redeemed yet: the user is taken by it until the QR's
   * lifetime ends (a confirmed QR stays redeemable, but a client that never came for it does not hold the user).
   */
  pendingTicket(now = Date.now()): LoginTicket | null {
    const t = this.lastTicket;
    return t && t.user === this && !t.session && now < t.expiresAt ? t : null;
  }

  /** State as GET /__sandbox/state shows it (the newest QR this user could log in with decides waiting/scanned). */
  state(): Record<string, unknown> {
    const s = this.online();
    const newest = this.core.newestTicket;
    const t = newest && (newest.user === null || newest.user === this) ? newest : this.lastTicket;
    const live = t && !t.expired ? t : null;
    let login: 'waiting' | 'scanned' | 'online' | 'offline' = 'offline';
    if (s) login = 'online';
    else if (live && live.state === 'waiting') login = 'waiting';
    else if (live && !live.session) login = 'scanned';
    return {
      login,
      uuid: t?.uuid ?? null,
      self: { UserName: s?.selfName ?? this.lastSelfName, NickName: this.identity.nickName },
      friends: this.world.friendCount(),
      groups: this.world.groups.size,
    };
  }

  /** One entry of GET /__sandbox/users (never builds the world). */
  summary(): Record<string, unknown> {
    const s = this.online();
    const t = this.pendingTicket();
    return {
      id: this.identity.id,
      NickName: this.identity.nickName,
      uin: this.identity.uin,
      online: s !== null,
      login: s ? 'online' : t ? 'scanned' : 'offline',
      UserName: s?.selfName ?? null,
      lastUserName: this.lastSelfName || null,
      uuid: t?.uuid ?? null,
      loggedInBefore: this.everLoggedIn,
      sent: this.sent.length,
      worldBuilt: this.worldBuilt,
    };
  }

  // ---- lookups ----------------------------------------------------------------------------------------

  /** A person by wire UserName (this session), world id, RemarkName or NickName. */
  person(s: Session | null, key: string): PersonSpec | undefined {
    if (s && key.startsWith('@') && !key.startsWith('@@')) {
      const id = s.ids.worldId(key);
      return id ? this.world.people.get(id) : undefined;
    }
    return this.world.findPerson(key);
  }

  group(s: Session | null, key: string): Group | undefined {
    if (s && key.startsWith('@@')) {
      const id = s.ids.worldId(key);
      return id ? this.world.groups.get(id) : undefined;
    }
    return this.world.findGroup(key);
  }

  isSelf(s: Session | null, key: string): boolean {
    const self = this.world.self;
    return key === self.id || key === self.nickName || (s !== null && key === s.selfName);
  }

  close(): void {
    this.onlineListeners.clear();
  }
}
