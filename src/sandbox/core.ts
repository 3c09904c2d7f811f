/**
 * The sandbox's state and the operations both the wire routes and the control API use: login tickets, sessions,
 * uploads, the sent log, faults, timers. One account (the world's self) with at most one live web session; a new
 * login ends the previous session (its synccheck then answers 1101, like being logged in elsewhere).
 */
import type { Logger } from 'pino';
import { hostFamily } from '../wire/hosts.ts';
import { LoginTicket, type TicketInit } from './login-state.ts';
import { Session, type EndReason } from './sessions.ts';
import { World, type PersonSpec, type Group } from './world.ts';
import { AvatarCache, createMediaKit, type MediaKit } from './media-gen.ts';
import { Faults } from './faults.ts';

export interface CoreOptions {
  longPollMs: number;
  autoLoginMs: number | null;
  qrExpiryMs: number;
  contactPageSize: number;
  maxSyncMessages: number;
  /** Messages kept per session for media downloads once the client acknowledged them (queued ones are always kept). */
  maxStoredMessages: number;
  loginForbidden: boolean;
  pageHost: string;
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

export class ControlError extends Error {}

export class SandboxCore {
  readonly tickets = new Map<string, LoginTicket>();
  newestTicket: LoginTicket | null = null;
  readonly sessions = new Map<string, Session>();
  current: Session | null = null;
  lastSelfName = '';
  everLoggedIn = false;
  readonly uploads = new Map<string, Upload>();
  readonly sent: SentRecord[] = [];
  /** Friend-request tickets handed out (`RecommendInfo.Ticket` → person id), redeemed by webwxverifyuser Opcode 3. */
  readonly friendTickets = new Map<string, string>();
  readonly faults = new Faults();
  readonly media: MediaKit = createMediaKit();
  readonly avatars = new AvatarCache();
  closing = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly onlineListeners = new Set<(s: Session | null) => void>();

  constructor(
    readonly world: World,
    readonly opts: CoreOptions,
    readonly log: Logger,
  ) {}

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

  onOnlineChange(fn: (s: Session | null) => void): () => void {
    this.onlineListeners.add(fn);
    return () => this.onlineListeners.delete(fn);
  }

  private emitOnline(): void {
    for (const fn of this.onlineListeners) fn(this.current);
  }

  // ---- login ------------------------------------------------------------------------------------------

  newTicket(init: Omit<TicketInit, 'expiresInMs'>): LoginTicket {
    const t = new LoginTicket({ ...init, expiresInMs: this.opts.qrExpiryMs });
    this.tickets.set(t.uuid, t);
    this.newestTicket = t;
    // Keep the map small: drop expired tickets that were never redeemed.
    for (const [k, v] of this.tickets) if (v !== t && v.expired && !v.session) this.tickets.delete(k);
    if (init.pushLogin) this.startAutoLogin(t);
    return t;
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
    this.later(ms, () => {
      if (t.expired) return;
      t.scan();
      setImmediate(() => t.confirm());
    });
  }

  private pendingTicket(): LoginTicket {
    const t = this.newestTicket;
    if (!t || t.expired) throw new ControlError('no QR code is waiting: a client must call jslogin (and show the QR) first');
    if (t.state === 'confirmed') throw new ControlError('the newest QR code is already confirmed');
    return t;
  }

  scan(): LoginTicket {
    const t = this.pendingTicket();
    if (t.state !== 'waiting') throw new ControlError('the newest QR code is already scanned');
    t.scan();
    return t;
  }

  confirm(): LoginTicket {
    const t = this.pendingTicket();
    t.confirm();
    return t;
  }

  /** webwxnewloginpage: a confirmed ticket becomes a session (redeeming the same ticket again returns it). */
  redeem(t: LoginTicket): Session {
    if (t.session) return t.session;
    const s = new Session({
      uin: this.world.self.uin,
      selfId: this.world.self.id,
      family: hostFamily(t.init.pageHost),
      desktop: t.init.desktop,
      maxStoredMessages: this.opts.maxStoredMessages,
    });
    t.session = s;
    if (this.current?.alive) this.current.end('kicked');
    this.current = s;
    this.sessions.set(s.sid, s);
    this.lastSelfName = s.selfName;
    this.everLoggedIn = true;
    for (const [sid, old] of this.sessions) if (!old.alive && old !== s && this.sessions.size > 8) this.sessions.delete(sid);
    this.emitOnline();
    return s;
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
    if (!s) throw new ControlError('no session is online: log a client in first (GET /__sandbox/state shows "online")');
    return s;
  }

  state(): Record<string, unknown> {
    const s = this.online();
    const t = this.newestTicket && !this.newestTicket.expired ? this.newestTicket : null;
    let login: 'waiting' | 'scanned' | 'online' | 'offline' = 'offline';
    if (s) login = 'online';
    else if (t && t.state === 'waiting') login = 'waiting';
    else if (t && !t.session) login = 'scanned';
    return {
      login,
      uuid: this.newestTicket?.uuid ?? null,
      self: { UserName: s?.selfName ?? this.lastSelfName, NickName: this.world.self.nickName },
      friends: this.world.friendCount(),
      groups: this.world.groups.size,
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
    this.closing = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sessions.values()) s.wake();
    for (const t of this.tickets.values()) t.wake();
    this.onlineListeners.clear();
  }
}
