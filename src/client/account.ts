/**
 * Account: one WeChat account over the web protocol, implementing the `WxClient` seam. It owns everything of that
 * account (session, transport, contact book, sync loop, send queue, timers, files); nothing is module-level.
 *
 * Lifecycle (Mojo states): init → loading → [resume] → updating → running, or loading → [push login: confirming |
 * QR: scaning → confirming] → updating → running; a logout retcode re-enters login (relogin policy) or stops.
 * `run()` resolves once the account is running and rejects with the coded reason if it stops before.
 */
import type { Writable } from 'node:stream';
import { owxError, isOpenwxError, type OpenwxError } from '../errors.ts';
import type { ContactEvent } from '../model/diff.ts';
import type { FriendRequest } from '../model/decode.ts';
import type { ClientState, Friend, Group, GroupBasic, Member, Message, User } from '../model/types.ts';
import { StatusNotifyCode } from '../wire/constants.ts';
import { hostFamily } from '../wire/hosts.ts';
import { isGroupId } from '../wire/ids.ts';
import type { InitResponse, RawContact } from '../wire/types.ts';
import { SessionStore, type SessionSnapshot } from '../store/session-store.ts';
import { systemClock, Timers, type Clock } from './clock.ts';
import { ContactBook } from './contact-book.ts';
import { TypedEmitter } from './events.ts';
import type { Avatar, DurabilityBarrier, MediaInput, Query, SendResult, UploadedMedia, WxClient } from './interface.ts';
import { defaultLogger, type Logger } from './logger.ts';
import { parseClientOptions, type ClientOptions, type ClientOptionsInput } from './options.ts';
import type { MediaRef } from './outbound.ts';
import { buildRuntime, type Runtime } from './runtime.ts';
import { Session } from './session.ts';
import { StateMachine } from './state.ts';

export interface AccountDeps {
  /** A pino logger; the account logs through a child `{ account }`. Default: pino on stderr, level OPENWX_LOG_LEVEL|info. */
  logger?: Logger;
  /** Where the terminal QR is printed (default process.stdout when `showQrInTerminal`); null = nowhere. */
  output?: Writable | null;
  clock?: Clock;
}

/** What the Account needs of a session store: the files (SessionStore), or the cluster's PostgreSQL rows (src/store/pg). */
export type SessionStoreLike = Pick<SessionStore, 'load' | 'loadStableIds' | 'save' | 'saveStableIds'>;

/** How a cluster holds an account (src/cluster): where its session lives and whether it may act right now. */
export interface Ownership {
  /** Replaces the session files (loaded when run() starts, saved as usual). */
  sessionStore?: SessionStoreLike | undefined;
  /**
   * Consulted before every request to WeChat (each sync step, each send, each login step) and again before its answer
   * is used: false refuses the request with OWX_ERR_LEASE_LOST (the owner then stops the account).
   */
  mayAct?: (() => boolean) | undefined;
}

const SENT_IDS_MAX = 2000;

export class Account extends TypedEmitter implements WxClient {
  readonly options: ClientOptions;
  readonly account: string;
  startTime = 0;
  readonly #log: Logger;
  readonly #output: Writable | null;
  readonly #timers: Timers;
  readonly #sm: StateMachine;
  #store: SessionStoreLike;
  #mayAct: (() => boolean) | undefined;
  readonly #book = new ContactBook();
  readonly #session: Session;
  #rt: Runtime | null = null;
  #running: Promise<void> | null = null;
  #stopping: Promise<void> | null = null;
  #stopReason: OpenwxError | null = null;
  #loggingOut = false;
  #lastUin = '';
  #cancelSave: (() => void) | null = null;
  /** Session saves run one after the other (each snapshots the newest state when its turn comes). */
  #saveChain: Promise<void> = Promise.resolve();
  /** uin, sid, skey, pass_ticket and own UserName as last saved: a change is saved at once, not after the interval. */
  #savedKeys = '';
  /** `stable.version` when the stable-id table was last written (-1: not yet by this process). */
  #savedStableVersion = -1;
  readonly #sent = new Set<string>();
  readonly #loadingHooks: (() => unknown)[] = [];
  /** Awaited by the sync loop before it acknowledges a webwxsync answer (addDurabilityBarrier). */
  readonly #barriers = new Set<DurabilityBarrier>();

  constructor(input: ClientOptionsInput = {}, deps: AccountDeps = {}) {
    const options = parseClientOptions(input);
    const log = (deps.logger ?? defaultLogger()).child({ account: options.account });
    super((event, err) => log.error({ err, event }, 'an event listener failed'));
    this.options = options;
    this.account = options.account;
    this.#log = log;
    this.#output = deps.output === undefined ? (options.showQrInTerminal ? process.stdout : null) : deps.output;
    this.#timers = new Timers(deps.clock ?? systemClock);
    this.#store = new SessionStore(options.dataDir, options.account);
    this.#session = new Session(options.desktopMode);
    this.#sm = new StateMachine((from, to) => {
      this.#log.info({ from, to }, `state ${from} → ${to}`);
      this.emit('state_change', from, to);
    });
  }

  get state(): ClientState {
    return this.#sm.state;
  }

  get logger(): Logger {
    return this.#log;
  }

  /** A cluster's hold on this account (src/cluster): set before run(). */
  setOwnership(o: Ownership): void {
    if (this.#sm.state !== 'init' && this.#sm.state !== 'stop') throw owxError('OWX_ERR_CONFIG', ['ownership is set before the account runs']);
    if (o.sessionStore) this.#store = o.sessionStore;
    this.#mayAct = o.mayAct;
  }

  /** Runs `fn` in the `loading` state of each `run()` (how plugins are called). */
  addLoadingHook(fn: () => unknown): void {
    this.#loadingHooks.push(fn);
  }

  addDurabilityBarrier(barrier: DurabilityBarrier): () => void {
    const own = (): Promise<void> | void => barrier(); // one registration per call, even of the same function
    this.#barriers.add(own);
    return () => {
      this.#barriers.delete(own);
    };
  }

  /** Every registered barrier at once; nothing to await without any (the hot path stays as it was). */
  #durable(): Promise<void> | void {
    if (this.#barriers.size === 0) return;
    if (this.#barriers.size === 1) return this.#barriers.values().next().value!();
    return Promise.all([...this.#barriers].map((b) => b())).then(() => undefined);
  }

  // ---- lifecycle ----------------------------------------------------------------------------------------

  run(): Promise<void> {
    if (this.#stopping) return this.#stopping.then(() => this.run());
    if (!this.#running) {
      this.#running = this.#start();
      this.#running.catch(() => undefined);
    }
    return this.#running;
  }

  async #start(): Promise<void> {
    this.#stopReason = null;
    this.#loggingOut = false;
    this.startTime = Math.floor(this.#timers.clock.now() / 1000);
    this.#sm.to('loading');
    const rt = this.#wire();
    this.#rt = rt;
    for (const hook of this.#loadingHooks) {
      try {
        await hook();
      } catch (err) {
        this.#log.error({ err }, 'a loading hook (plugin) failed');
      }
    }
    try {
      const saved = this.#store.load();
      if (saved) this.#lastUin = saved.lastUin || saved.session?.uin || '';
      // its own file; a session file of an earlier version carried it (written to its own file at the next save)
      const stableIds = this.#store.loadStableIds() ?? saved?.stableIds;
      if (stableIds !== undefined) this.#book.stable.import(stableIds);
      if (saved?.session && this.options.resumeSession) {
        const init = await this.#tryResume(rt, saved.session);
        if (init) {
          await this.#finishLogin(rt, init, 0);
          return;
        }
      }
      await this.#freshLogin(rt);
    } catch (err) {
      if (rt.ctrl.signal.aborted) throw this.#stopReason ?? err;
      const e = isOpenwxError(err) ? err : owxError('OWX_ERR_LOGIN_FAILED', [(err as Error).message], { cause: err });
      this.#log.error({ code: e.code }, `login failed: ${e.message}`);
      await this.stop(e.message, e);
      throw e;
    }
  }

  /** Push login with the last uin (when allowed), else QR; then contacts. Emits login 1. */
  async #freshLogin(rt: Runtime): Promise<void> {
    let pushed = false;
    if (this.options.pushLogin && this.#lastUin) {
      pushed = await rt.login.pushLogin(this.#lastUin);
    }
    if (!pushed) await rt.login.qrLogin();
    this.#lastUin = this.#session.uin;
    this.#sm.to('updating');
    const init = await rt.contacts.init();
    await this.#finishLogin(rt, init, 1);
  }

  /** Restores a saved session and checks it with webwxinit; null when it is no longer valid. */
  async #tryResume(rt: Runtime, snap: SessionSnapshot): Promise<InitResponse | null> {
    rt.transport.family = hostFamily(snap.pageHost);
    rt.transport.importCookies(snap.cookies);
    this.#session.restore(snap);
    try {
      const init = await rt.contacts.init();
      this.#log.info({ host: snap.pageHost }, 'saved session is alive; resuming without a scan');
      return init;
    } catch (err) {
      if (rt.ctrl.signal.aborted) throw err;
      this.#log.info({ err: (err as Error).message }, 'saved session is no longer valid; logging in again');
      this.#lastUin ||= this.#session.uin;
      this.#session.clear();
      return null;
    }
  }

  /** After webwxinit: user, statusnotify, contacts, groups → running, sync loop, `login` event. */
  async #finishLogin(rt: Runtime, init: InitResponse, code: 0 | 1): Promise<void> {
    const s = this.#session;
    if (this.#sm.state !== 'updating') this.#sm.to('updating');
    s.selfUser = init.User?.UserName ?? s.selfUser;
    if (init.SKey) s.skey = init.SKey;
    // a resumed session keeps its SyncKey so nothing that arrived meanwhile is skipped
    if (code === 1 || s.syncKey.Count === 0) {
      if (init.SyncKey?.Count > 0) s.syncKey = init.SyncKey;
      s.syncCheckKey = null;
    }
    this.#lastUin = s.uin;
    if (code === 1) this.#book.stable.resetSession();
    const user = this.#book.setUser(init.User as never);
    await rt.contacts.statusNotify(StatusNotifyCode.INITED, s.selfUserName()).catch((err) => {
      if (isOpenwxError(err, 'OWX_ERR_SYNC_LOGOUT')) throw err;
      this.#log.warn({ err: (err as Error).message }, 'webwxstatusnotify after init failed');
    });
    const contacts = await rt.contacts.getContactAll();
    const groupIds = new Set<string>();
    for (const c of [...(init.ContactList ?? []), ...contacts]) if (c?.UserName && isGroupId(c.UserName)) groupIds.add(c.UserName);
    for (const id of String(init.ChatSet ?? '').split(',')) if (id.startsWith('@@')) groupIds.add(id);
    const groups = await this.#loadGroups(rt, [...groupIds]);
    this.#book.loadMapped(contacts, groups);
    if (this.options.fetchGroupMemberDetails) await this.#fetchMemberDetails(rt);
    await this.#saveSession();
    this.emit('update_user', user);
    this.emit('update_friend', this.#book.friends());
    this.emit('update_group', this.#book.groups());
    rt.queue.reopen();
    this.#sm.to('running');
    rt.sync.start();
    this.#log.info(
      { friends: this.#book.friends().length, groups: this.#book.groups().length, resumed: code === 0 },
      `logged in as ${user.displayname}`,
    );
    this.emit('login', code);
  }

  /**
   * The login's groups (webwxbatchgetcontact, no member details). batchGet skips a batch that still fails after its
   * retries; its ids are asked for again, up to `contactLoadRounds` rounds, so that the account does not reach
   * `running` (and emit update_group/login) with its groups silently missing (Mojo fails the whole login then).
   * Ids still missing after the last round stay unknown and are fetched on first sight, as any unknown group.
   * Each batch (~10,000 raw members) is mapped as it arrives, so the raw entries never pile up.
   */
  async #loadGroups(rt: Runtime, ids: string[]): Promise<Group[]> {
    const got = new Map<string, Group>();
    let missing = ids;
    for (let round = 1; ; round++) {
      const batch = missing.map((UserName) => ({ UserName, EncryChatRoomId: '' }));
      const groups = (await rt.contacts.batchGet(batch, (raws) => this.#book.mapGroups(raws))) as Group[];
      for (const g of groups) got.set(g.id, g);
      missing = missing.filter((id) => !got.has(id));
      if (missing.length === 0) break;
      if (round >= this.options.contactLoadRounds) {
        this.#log.warn({ missing: missing.length, rounds: round }, 'groups still missing after webwxbatchgetcontact; fetched on first sight');
        break;
      }
      this.#log.warn({ missing: missing.length, round }, 'groups missing after webwxbatchgetcontact; asking again');
      await this.#timers.sleep(this.options.backoffBaseMs, rt.ctrl.signal);
    }
    // the order of the ids (init, getcontact, ChatSet), then any group the server added
    const asked = new Set(ids);
    return [...ids.flatMap((id) => got.get(id) ?? []), ...[...got.values()].filter((g) => !asked.has(g.id))];
  }

  async #fetchMemberDetails(rt: Runtime): Promise<void> {
    for (const g of this.#book.groups()) {
      const eid = this.#book.encryChatRoomId(g.id);
      const raws: RawContact[] = await rt.contacts.batchGet(g.member.map((m) => ({ UserName: m.id, EncryChatRoomId: eid })));
      this.#book.applyMemberDetails(g.id, raws);
    }
  }

  /** The sync loop saw a logout retcode. */
  #onLogout(retcode: number, where: string): void {
    if (this.#sm.state === 'stop' || this.#stopping || this.#loggingOut) return;
    const reason = `logged out by WeChat (${where} retcode ${retcode})`;
    this.#log.warn({ retcode, policy: this.options.relogin }, reason);
    this.emit('logout', reason, retcode);
    this.#session.clear();
    void this.#saveSession();
    if (this.options.relogin === 'stop' || (retcode === 1101 && this.options.stopWithMobile)) {
      void this.stop(reason, owxError('OWX_ERR_SYNC_LOGOUT', [retcode], { ret: retcode }));
      return;
    }
    void this.#relogin(retcode, reason);
  }

  async #relogin(retcode: number, reason: string): Promise<void> {
    const rt = this.#rt;
    if (!rt) return;
    rt.queue.close(owxError('OWX_ERR_SYNC_LOGOUT', [retcode], { ret: retcode }));
    this.#book.clear();
    try {
      await this.#freshLogin(rt);
      this.emit('relogin');
    } catch (err) {
      if (rt.ctrl.signal.aborted) return;
      const e = isOpenwxError(err) ? err : owxError('OWX_ERR_LOGIN_FAILED', [(err as Error).message], { cause: err });
      this.#log.error({ code: e.code }, `relogin failed: ${e.message}`);
      await this.stop(`${reason}; relogin failed: ${e.message}`, e);
    }
  }

  /** Stops everything of this account. The session is kept for a resume unless `logoutOnStop`. */
  stop(reason = 'stop_client', error?: OpenwxError): Promise<void> {
    if (this.#stopping) return this.#stopping;
    if (this.#sm.state === 'stop' || this.#sm.state === 'init') return Promise.resolve();
    this.#stopReason = error ?? owxError('OWX_ERR_STOPPED');
    this.#stopping = this.#stop(reason).finally(() => {
      this.#stopping = null;
    });
    return this.#stopping;
  }

  async #stop(reason: string): Promise<void> {
    const rt = this.#rt;
    this.#log.info({ reason }, 'stopping');
    rt?.ctrl.abort(this.#stopReason);
    await rt?.sync.stop();
    rt?.queue.close(owxError('OWX_ERR_STOPPED'));
    if (rt && this.options.logoutOnStop && this.#session.hasKeys()) {
      await rt.ops.logout();
      this.#session.clear();
    }
    this.#cancelSave?.();
    this.#cancelSave = null;
    await this.#saveSession();
    rt?.qr.remove();
    this.#timers.clear();
    await rt?.transport.close();
    this.#rt = null;
    this.#running = null;
    this.#sm.to('stop');
    this.emit('stop');
  }

  /** Logs out of WeChat (webwxlogout), forgets the session and stops. */
  async logout(): Promise<void> {
    const rt = this.#rt;
    const had = this.#session.hasKeys();
    this.#loggingOut = true;
    // stop receiving first: the server answers the pending synccheck with a logout retcode
    await rt?.sync.stop();
    if (rt && had) await rt.ops.logout();
    this.#session.clear();
    await this.#saveSession();
    if (had) this.emit('logout', 'logout');
    await this.stop('logout');
  }

  // ---- wiring -------------------------------------------------------------------------------------------

  #wire(): Runtime {
    return buildRuntime({
      options: this.options, logger: this.#log, timers: this.#timers, session: this.#session, book: this.#book, output: this.#output,
      mayAct: this.#mayAct,
    }, {
      onQrcode: (img) => {
        this.#sm.to('scaning');
        this.emit('input_qrcode', img.path, img.base64, img.url);
      },
      onQrcodeExpire: () => this.emit('qrcode_expire'),
      onScanned: () => this.#sm.to('confirming'),
      onCancelled: () => this.#sm.to('scaning'),
      onRefused: (_ret, message) => this.emit('login', -1, message),
      onSent: (m) => this.emit('send_message', m),
      rememberSent: (id) => this.#rememberSent(id),
      sentByUs: (id) => this.#sent.has(id),
      emitContacts: (ev) => this.#emitContacts(ev),
      emitMessage: (m) => this.#emitMessage(m),
      emitFriendRequest: (r) => this.#emitFriendRequest(r),
      durable: () => this.#durable(),
      afterSync: () => this.#saveSoon(),
      onLogout: (ret, where) => this.#onLogout(ret, where),
    });
  }

  #emitContacts(events: ContactEvent[]): void {
    for (const e of events) {
      (this.emit as (event: string, ...args: unknown[]) => boolean)(e.event, ...e.args);
    }
  }

  #emitMessage(m: Message): void {
    if (m.class === 'send') this.emit('send_message', m);
    else this.emit('receive_message', m);
  }

  #emitFriendRequest(r: FriendRequest): void {
    this.emit('friend_request', r.id, r.displayname, r.verify, r.ticket);
  }

  #rememberSent(msgId: string): void {
    if (!msgId) return;
    this.#sent.add(msgId);
    if (this.#sent.size > SENT_IDS_MAX) this.#sent.delete(this.#sent.values().next().value!);
  }

  // ---- persistence --------------------------------------------------------------------------------------

  /**
   * After each acknowledged webwxsync. A change of the keys (a new SKey) is saved at once; a change of only the
   * SyncKey (every sync) waits up to `sessionSaveIntervalMs`, so 100 busy accounts do not fsync 200 times a second.
   * A saved SyncKey that lags is safe: keys are adopted only after the durability barrier, and what WeChat delivers
   * again after a crash is dropped by the message history (docs/client.md, "Acknowledging only what is durable").
   */
  #saveSoon(): void {
    if (this.#keysFingerprint() !== this.#savedKeys) {
      this.#cancelSave?.();
      this.#cancelSave = null;
      void this.#saveSession();
      return;
    }
    if (this.#cancelSave) return;
    this.#cancelSave = this.#timers.after(this.options.sessionSaveIntervalMs, () => {
      this.#cancelSave = null;
      void this.#saveSession();
    });
  }

  #keysFingerprint(): string {
    const s = this.#session;
    return `${s.uin}\n${s.sid}\n${s.skey}\n${s.passTicket}\n${s.selfUser}`;
  }

  /**
   * Queues a save of the newest state; resolves when it is on disk (never rejects: a failed write is logged).
   * The session file (small: keys, SyncKey, cookies) every time; the stable-id table (up to 20,000 aliases) only
   * when it changed since this process last wrote it, and before the session file, so a session file without the
   * table never replaces one that had it before the table is in its own file.
   */
  #saveSession(): Promise<void> {
    const run = this.#saveChain.then(() => this.#writeSession());
    this.#saveChain = run;
    return run;
  }

  async #writeSession(): Promise<void> {
    try {
      const stable = this.#book.stable;
      if (stable.version !== this.#savedStableVersion) {
        const version = stable.version;
        await this.#store.saveStableIds(stable.export());
        this.#savedStableVersion = version;
      }
      const rt = this.#rt;
      const snap = this.#session.hasKeys() && rt ? this.#session.snapshot(rt.transport.family.page, rt.transport.exportCookies()) : null;
      this.#savedKeys = this.#keysFingerprint();
      await this.#store.save({ session: snap, lastUin: this.#lastUin || this.#session.uin });
    } catch (err) {
      this.#log.error({ err: (err as Error).message }, 'could not save the session');
    }
  }

  // ---- the WxClient seam: lookups -----------------------------------------------------------------------

  user(): User | null {
    return this.#book.user();
  }
  friends(): Friend[] {
    return this.#book.friends();
  }
  groups(): Group[] {
    return this.#book.groups();
  }
  groupsBasic(): GroupBasic[] {
    return this.#book.groupsBasic();
  }
  searchFriends(q: Query): Friend[] {
    return this.#book.searchFriends(q);
  }
  searchGroups(q: Query): Group[] {
    return this.#book.searchGroups(q);
  }
  friend(id: string): Friend | undefined {
    return this.#book.friend(id);
  }
  group(id: string): Group | undefined {
    return this.#book.group(id);
  }
  member(groupId: string, memberId: string): Member | undefined {
    return this.#book.member(groupId, memberId);
  }
  groupOfMember(memberId: string): Group | undefined {
    return this.#book.groupOfMember(memberId);
  }
  qrcodePath(): string | null {
    return this.#rt?.qr.currentPath ?? null;
  }

  // ---- the WxClient seam: sending and operations --------------------------------------------------------

  /** The runtime when the account can talk to WeChat; else OWX_ERR_STOPPED / OWX_ERR_NOT_LOGGED_IN. */
  #online(): Runtime {
    const s = this.#sm.state;
    if (s === 'stop' || this.#stopping) throw owxError('OWX_ERR_STOPPED');
    if (!this.#rt || (s !== 'running' && s !== 'updating')) throw owxError('OWX_ERR_NOT_LOGGED_IN', [s]);
    return this.#rt;
  }

  async sendText(toId: string, content: string): Promise<SendResult> {
    return this.#online().outbound.sendText(toId, content);
  }
  async sendMedia(toId: string, media: MediaInput | MediaRef): Promise<SendResult> {
    return this.#online().outbound.sendMedia(toId, media);
  }
  async uploadMedia(media: MediaInput, toId?: string): Promise<UploadedMedia> {
    return this.#online().outbound.uploadMedia(media, toId);
  }
  async revokeMessage(msgId: string, toUserName: string, clientMsgId?: string): Promise<boolean> {
    return this.#online().outbound.revoke(msgId, toUserName, clientMsgId);
  }
  async createGroup(friendIds: string[], topic?: string): Promise<Group> {
    return this.#online().ops.createGroup(friendIds, topic);
  }
  async inviteToGroup(groupId: string, friendIds: string[]): Promise<void> {
    return this.#online().ops.inviteToGroup(groupId, friendIds);
  }
  async kickFromGroup(groupId: string, memberIds: string[]): Promise<void> {
    return this.#online().ops.kickFromGroup(groupId, memberIds);
  }
  async renameGroup(groupId: string, topic: string): Promise<void> {
    return this.#online().ops.renameGroup(groupId, topic);
  }
  async setRemark(userName: string, remark: string): Promise<void> {
    return this.#online().ops.setRemark(userName, remark);
  }
  async stick(userName: string, pin: boolean): Promise<void> {
    return this.#online().ops.stick(userName, pin);
  }
  async addFriend(userName: string, verify: string): Promise<void> {
    return this.#online().ops.addFriend(userName, verify);
  }
  async acceptFriendRequest(userName: string, ticket: string): Promise<void> {
    return this.#online().ops.acceptFriendRequest(userName, ticket);
  }
  async getAvatar(id: string, groupId?: string): Promise<Avatar> {
    return this.#online().ops.getAvatar(id, groupId);
  }

  /** Session facts for get_client_info-style answers (no secrets). */
  info(): { account: string; state: ClientState; startTime: number; pageHost: string | null; uin: string; selfId: string } {
    return {
      account: this.account,
      state: this.state,
      startTime: this.startTime,
      pageHost: this.#rt?.transport.family.page ?? null,
      uin: this.#session.uin,
      selfId: this.#session.selfUserName(),
    };
  }
}
