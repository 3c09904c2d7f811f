/**
 * The sandbox's shared state and the login operations both the wire routes and the control API use: the users
 * (user.ts: world, sessions, sent log, uploads, per-user faults), the login tickets (a QR belongs to no user until
 * it is scanned or confirmed as one), every session by sid, global faults and timers.
 */
import type { Logger } from 'pino';
import { hostFamily } from '../wire/hosts.ts';
import { LoginTicket, type TicketInit } from './login-state.ts';
import { Session, type EndReason } from './sessions.ts';
import type { World, WorldSpec } from './world.ts';
import { AvatarCache, createMediaKit, type MediaKit } from './media-gen.ts';
import { Faults, type FaultSpec } from './faults.ts';
import { SandboxUser, type UserIdentity } from './user.ts';
import { ControlError } from './control-error.ts';
import { CookieDates } from './http-util.ts';

export type { SentRecord, Upload } from './user.ts';
export { ControlError } from './control-error.ts';

export interface CoreOptions {
  longPollMs: number;
  autoLoginMs: number | null;
  qrExpiryMs: number;
  contactPageSize: number;
  maxSyncMessages: number;
  /** Messages kept per session for media downloads once the client acknowledged them (queued ones are always kept). */
  maxStoredMessages: number;
  /** true/false for every user; null: each user's world decides (`loginForbidden`). */
  loginForbidden: boolean | null;
  pageHost: string;
}

/** Users named in an error message: all of them up to this many, then "… and N more". */
const USERS_NAMED_MAX = 20;

export class SandboxCore {
  readonly tickets = new Map<string, LoginTicket>();
  newestTicket: LoginTicket | null = null;
  /** Every session of every user by sid (ended ones too, a few per user: they answer 1101). */
  readonly sessions = new Map<string, Session>();
  readonly users: SandboxUser[] = [];
  /** Faults for any user's requests (per-user ones are on the user). */
  readonly faults = new Faults();
  readonly media: MediaKit = createMediaKit();
  readonly avatars = new AvatarCache();
  /** Set-Cookie expiry dates of the current second (webwxsync's five cookies). */
  readonly cookieDates = new CookieDates();
  closing = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly onlineListeners = new Set<(u: SandboxUser, s: Session | null) => void>();
  /** --auto-login QR codes that found every user taken: confirmed as soon as one is free. */
  private readonly awaitingFreeUser: LoginTicket[] = [];

  constructor(
    readonly opts: CoreOptions,
    readonly log: Logger,
  ) {}

  /** The session a wxsid names (a cookie's `+` may come back as a space); undefined for none. */
  sessionBySid(sid: string | undefined): Session | undefined {
    return sid ? this.sessions.get(sid.includes(' ') ? sid.replace(/ /g, '+') : sid) : undefined;
  }

  addUser(identity: UserIdentity, world: World | (() => WorldSpec)): SandboxUser {
    const u = new SandboxUser(this, this.users.length + 1, identity, world);
    this.users.push(u);
    return u;
  }

  /** A one-shot timer owned by the sandbox (cleared on close). */
  later(ms: number, fn: () => void): void {
    if (this.closing) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      try {
        fn();
      } catch (err) {
        this.log.error({ err }, 'sandbox timer failed');
      }
    }, ms);
    this.timers.add(t);
  }

  /** Any user's session came or went. */
  onOnlineChange(fn: (u: SandboxUser, s: Session | null) => void): () => void {
    this.onlineListeners.add(fn);
    return () => this.onlineListeners.delete(fn);
  }

  /** Called by a user when its live session changes. */
  userOnlineChanged(u: SandboxUser): void {
    for (const fn of this.onlineListeners) fn(u, u.current);
    if (!u.current) this.retryAutoLogin();
  }

  /** The first user's live session: the single-user sandbox's one session (kept for in-process tools). */
  online(): Session | null {
    return this.users[0]?.online() ?? null;
  }

  // ---- users --------------------------------------------------------------------------------------------

  /** Whether a user can take a new login: not online and not taken by a scanned, unredeemed QR. */
  isFree(u: SandboxUser): boolean {
    return u.online() === null && u.pendingTicket() === null;
  }

  /** The user an --auto-login QR is confirmed as: the only one, else the first free one (null: all taken). */
  nextFreeUser(): SandboxUser | null {
    if (this.users.length === 1) return this.users[0]!;
    return this.users.find((u) => this.isFree(u)) ?? null;
  }

  userByUin(uin: string): SandboxUser | undefined {
    return this.users.find((u) => String(u.identity.uin) === uin);
  }

  private usersNamed(list: SandboxUser[] = this.users): { text: string; users: { id: string; NickName: string; uin: number }[] } {
    const shown = list.slice(0, USERS_NAMED_MAX).map((u) => u.label);
    const more = list.length > USERS_NAMED_MAX ? ` and ${list.length - USERS_NAMED_MAX} more (GET /__sandbox/users)` : '';
    return {
      text: `${shown.join(', ')}${more}`,
      users: list.map((u) => ({ id: u.identity.id, NickName: u.identity.nickName, uin: u.identity.uin })),
    };
  }

  /**
   * The user a control call names: its id (`wxid_…`), uin, a UserName one of its sessions had (`@…`) or its NickName
   * (when no other user has it). Without `key`: the only user; with several users that is an error naming them.
   */
  resolveUser(key: string | undefined): SandboxUser {
    if (key === undefined || key === '') {
      if (this.users.length === 1) return this.users[0]!;
      const n = this.usersNamed();
      throw new ControlError(`this sandbox has ${this.users.length} users: say which one with "user" (its id, NickName, uin or UserName): ${n.text}`, { users: n.users });
    }
    const byId = this.users.find((u) => u.identity.id === key);
    if (byId) return byId;
    if (/^\d+$/.test(key)) {
      const byUin = this.userByUin(key);
      if (byUin) return byUin;
    }
    if (key.startsWith('@')) {
      const byName = this.users.find((u) => u.hadSelfName(key));
      if (byName) return byName;
    }
    const byNick = this.users.filter((u) => u.identity.nickName === key);
    if (byNick.length === 1) return byNick[0]!;
    if (byNick.length > 1) {
      const n = this.usersNamed(byNick);
      throw new ControlError(`user "${key}" is ambiguous: ${byNick.length} users have that NickName; name one by id: ${n.text}`, { users: n.users });
    }
    const n = this.usersNamed();
    throw new ControlError(`unknown user "${key}" (users: ${n.text})`, { users: n.users });
  }

  // ---- login ------------------------------------------------------------------------------------------

  newTicket(init: Omit<TicketInit, 'expiresInMs'>, user: SandboxUser | null = null): LoginTicket {
    const t = new LoginTicket({ ...init, expiresInMs: this.opts.qrExpiryMs });
    if (user) this.assign(t, user);
    this.tickets.set(t.uuid, t);
    this.newestTicket = t;
    // Keep the map small: drop expired tickets that were never redeemed.
    for (const [k, v] of this.tickets) if (v !== t && v.expired && !v.session) this.tickets.delete(k);
    if (init.pushLogin) this.startAutoLogin(t);
    return t;
  }

  private assign(t: LoginTicket, u: SandboxUser): void {
    t.user = u;
    u.lastTicket = t;
  }

  /** The QR was shown (image fetched or first poll): arm --auto-login. */
  qrFetched(t: LoginTicket): void {
    if (t.firstFetchedAt !== null) return;
    t.firstFetchedAt = Date.now();
    this.startAutoLogin(t);
  }

  private startAutoLogin(t: LoginTicket): void {
    const ms = this.opts.autoLoginMs;
    if (ms === null) return;
    this.later(ms, () => this.autoConfirm(t));
  }

  /** Scans and confirms `t` as its user, else as the next free one; with every user taken it waits for one. */
  private autoConfirm(t: LoginTicket): void {
    if (t.expired || t.state === 'confirmed') return;
    const u = t.user ?? this.nextFreeUser();
    if (!u) {
      if (!this.awaitingFreeUser.includes(t)) {
        this.awaitingFreeUser.push(t);
        this.log.warn({ uuid: t.uuid, users: this.users.length }, 'auto-login: every user is logged in or taken; the QR waits for a free one');
      }
      // A session ending frees a user (userOnlineChanged); so does a scanned QR whose client never came, at its expiry.
      const releases = this.users.map((x) => x.pendingTicket()?.expiresAt ?? Infinity);
      const next = Math.min(...releases);
      if (next !== Infinity) this.later(Math.max(0, next - Date.now()) + 1, () => this.retryAutoLogin());
      return;
    }
    this.assign(t, u);
    t.scan();
    setImmediate(() => t.confirm());
  }

  private retryAutoLogin(): void {
    while (this.awaitingFreeUser.length > 0) {
      const t = this.awaitingFreeUser[0]!;
      if (t.expired || t.state === 'confirmed' || t.user) {
        this.awaitingFreeUser.shift();
        continue;
      }
      if (!this.nextFreeUser()) return;
      this.awaitingFreeUser.shift();
      this.autoConfirm(t);
    }
  }

  /** The QR a control call means: `uuid`'s, else the newest. */
  private pickTicket(uuid: string | undefined): LoginTicket {
    if (uuid !== undefined) {
      const t = this.tickets.get(uuid);
      if (!t || t.expired) throw new ControlError(`no QR code "${uuid}" is waiting (unknown or expired uuid)`);
      if (t.state === 'confirmed') throw new ControlError(`QR code "${uuid}" is already confirmed`);
      return t;
    }
    const t = this.newestTicket;
    if (!t || t.expired) throw new ControlError('no QR code is waiting: a client must call jslogin (and show the QR) first');
    if (t.state === 'confirmed') throw new ControlError('the newest QR code is already confirmed');
    return t;
  }

  /** The user a scan/confirm of `t` is for: the one it was scanned as (or pushed to), else the one `key` names. */
  private ticketUser(t: LoginTicket, key: string | undefined): SandboxUser {
    if (!t.user) return this.resolveUser(key);
    if (key !== undefined && key !== '' && this.resolveUser(key) !== t.user) {
      throw new ControlError(`QR code "${t.uuid}" was already scanned as ${t.user.label} (or is a push login for that user)`);
    }
    return t.user;
  }

  scan(o: { uuid?: string; user?: string } = {}): LoginTicket {
    const t = this.pickTicket(o.uuid);
    if (t.state !== 'waiting') throw new ControlError(o.uuid ? `QR code "${o.uuid}" is already scanned` : 'the newest QR code is already scanned');
    this.assign(t, this.ticketUser(t, o.user));
    t.scan();
    return t;
  }

  confirm(o: { uuid?: string; user?: string } = {}): LoginTicket {
    const t = this.pickTicket(o.uuid);
    this.assign(t, this.ticketUser(t, o.user));
    t.confirm();
    return t;
  }

  /** webwxnewloginpage: a confirmed ticket becomes a session of its user (redeeming the same ticket again returns it). */
  redeem(t: LoginTicket): Session {
    if (t.session) return t.session;
    const u = t.user;
    if (!u) throw new Error('a confirmed QR ticket has no user');
    const s = new Session({
      user: u,
      uin: u.identity.uin,
      selfId: u.identity.id,
      family: hostFamily(t.init.pageHost),
      desktop: t.init.desktop,
      maxStoredMessages: this.opts.maxStoredMessages,
    });
    t.session = s;
    this.sessions.set(s.sid, s);
    u.adopt(s);
    return s;
  }

  endSession(s: Session, reason: EndReason): void {
    s.user.endSession(s, reason);
  }

  /** Consumes one use of a fault for `endpoint`: the user's own first (when the request is known to be its), then a global one. */
  takeFault(endpoint: string, user: () => SandboxUser | null): FaultSpec | null {
    if (this.users.some((u) => !u.faults.empty)) {
      const f = user()?.faults.take(endpoint);
      if (f) return f;
    }
    return this.faults.take(endpoint);
  }

  close(): void {
    this.closing = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sessions.values()) s.wake();
    for (const t of this.tickets.values()) t.wake();
    for (const u of this.users) u.close();
    this.onlineListeners.clear();
    this.awaitingFreeUser.length = 0;
  }
}
