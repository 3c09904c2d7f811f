/**
 * One web login session of a user: credentials (uin/sid/skey/pass_ticket/cookie tickets), the per-login id
 * map, and the event queue webwxsync drains. SyncKey Key 1 carries the position of the last delivered event, so a
 * client that re-sends an old SyncKey gets the undelivered events again and a resumed client continues where it
 * acknowledged (nothing accepted is lost). Event-driven: waiters (synccheck long polls) are woken on every push.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { SyncKey } from '../wire/types.ts';
import type { HostFamily } from '../wire/hosts.ts';
import { IdMap } from './idmap.ts';
import type { SandboxUser } from './user.ts';
import { Waiters } from './waiters.ts';

export type SessionEvent =
  | { seq: number; kind: 'msg'; msgId: string }
  | { seq: number; kind: 'mod'; worldId: string }
  | { seq: number; kind: 'del'; userName: string };

/** A message as stored for delivery and media download. */
export interface StoredMessage {
  /** The AddMsgList entry, NewMsgId as bigint. */
  wire: Record<string, unknown>;
  media?: { kind: 'image' | 'voice' | 'video' | 'emoticon' | 'file'; bytes: Buffer; thumb?: Buffer; fileName?: string };
}

export type EndReason = 'logout' | 'kicked' | 'control';

const B64_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function alnum(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += B64_ALNUM[randomInt(B64_ALNUM.length)];
  return s;
}

/** `@crypt_<8 hex>_<32 hex>` */
export function newSkey(): string {
  return `@crypt_${randomBytes(4).toString('hex')}_${randomBytes(16).toString('hex')}`;
}

/** 16 chars, may contain `+` and `/` like the captures. */
function newSid(): string {
  return randomBytes(12).toString('base64');
}

export interface SessionInit {
  /** The sandbox user this session logged in (its world, sent log, uploads). */
  user: SandboxUser;
  uin: number;
  selfId: string;
  family: HostFamily;
  desktop: boolean;
  maxStoredMessages?: number;
}

export class Session {
  readonly user: SandboxUser;
  readonly uin: number;
  readonly sid = newSid();
  skey = newSkey();
  /** URL-encoded, exactly as in the webwxnewloginpage XML. */
  readonly passTicket = encodeURIComponent(randomBytes(48).toString('base64'));
  readonly dataTicket = randomBytes(18).toString('base64');
  readonly authTicket = randomBytes(96).toString('base64');
  readonly uvid = randomBytes(48).toString('hex');
  readonly loadTime = Math.floor(Date.now() / 1000);
  readonly ids = new IdMap();
  readonly selfName: string;
  readonly family: HostFamily;
  readonly desktop: boolean;
  alive = true;
  endReason: EndReason | null = null;
  initialized = false;
  private seq = 0;
  private acked = 0;
  private events: SessionEvent[] = [];
  private readonly waiters = new Waiters();
  private synced = false;
  private readonly base = { k1: 600000000 + randomInt(100000000), k2: 0, k3: 0 };
  readonly messages = new Map<string, StoredMessage>();
  /** MsgIds of the message events not yet acknowledged: never evicted from `messages`. */
  private readonly queuedMsgIds = new Set<string>();
  private readonly maxStored: number;

  constructor(init: SessionInit) {
    this.user = init.user;
    this.uin = init.uin;
    this.selfName = this.ids.user(init.selfId);
    this.family = init.family;
    this.desktop = init.desktop;
    this.base.k2 = this.base.k1 + 200;
    this.base.k3 = this.base.k1 - 54;
    this.maxStored = init.maxStoredMessages ?? 20000;
  }

  /** A random-looking 19-digit MsgId. */
  static newMsgId(): string {
    return `${randomInt(1, 9)}${String(randomInt(0, 1e9)).padStart(9, '0')}${String(randomInt(0, 1e9)).padStart(9, '0')}`;
  }

  /**
   * Keeps a message for webwxsync and media downloads. Beyond `maxStored`, the oldest messages the client has
   * acknowledged are dropped; a message still queued for the client is never dropped (the store may then exceed the
   * cap until the client catches up), so a client that fell behind still gets everything.
   */
  storeMessage(m: StoredMessage): void {
    this.messages.set(m.wire['MsgId'] as string, m);
    this.#evict();
  }

  #evict(): void {
    while (this.messages.size > this.maxStored) {
      const oldest = this.messages.keys().next().value!;
      if (this.queuedMsgIds.has(oldest)) return;
      this.messages.delete(oldest);
    }
  }

  pushMessage(m: StoredMessage): void {
    const msgId = m.wire['MsgId'] as string;
    if (this.alive) this.queuedMsgIds.add(msgId);
    this.storeMessage(m);
    this.push({ seq: 0, kind: 'msg', msgId });
  }

  pushMod(worldId: string): void {
    this.push({ seq: 0, kind: 'mod', worldId });
  }

  pushDel(userName: string): void {
    this.push({ seq: 0, kind: 'del', userName });
  }

  private push(e: SessionEvent): void {
    if (!this.alive) return;
    e.seq = ++this.seq;
    this.events.push(e);
    this.wake();
  }

  /** Wakes every waiting long poll (they re-evaluate their condition). */
  wake(): void {
    this.waiters.wake();
  }

  onChange(w: () => void): () => void {
    return this.waiters.add(w);
  }

  /** Long polls currently waiting on this session. */
  get waiting(): number {
    return this.waiters.size;
  }

  end(reason: EndReason): void {
    if (!this.alive) return;
    this.alive = false;
    this.endReason = reason;
    this.wake();
  }

  /** Position encoded in a SyncKey (Key 1), or null when the key is not one of this session's. */
  positionOf(key: SyncKey | null | undefined): number | null {
    const k1 = key?.List?.find((i) => i?.Key === 1)?.Val;
    if (typeof k1 !== 'number' || !Number.isFinite(k1)) return null;
    const pos = k1 - this.base.k1;
    if (pos < 0) return null;
    return Math.min(pos, this.seq);
  }

  /** Events after `pos` (what synccheck reports and webwxsync delivers). */
  pendingAfter(pos: number): SessionEvent[] {
    return this.events.filter((e) => e.seq > pos);
  }

  /** pendingAfter(pos) is not empty (without building it: the queue is in seq order). */
  hasPendingAfter(pos: number): boolean {
    const n = this.events.length;
    return n > 0 && this.events[n - 1]!.seq > pos;
  }

  /** Acknowledges everything up to `pos` (the client presented a SyncKey at `pos`). */
  ack(pos: number): void {
    if (pos <= this.acked) return;
    this.acked = pos;
    let i = 0;
    while (i < this.events.length && this.events[i]!.seq <= pos) {
      const e = this.events[i]!;
      if (e.kind === 'msg') this.queuedMsgIds.delete(e.msgId);
      i++;
    }
    if (i > 0) {
      this.events = this.events.slice(i);
      this.#evict();
    }
  }

  /** The SyncKey for position `pos`; after the first sync it carries the extra keys real sessions show. */
  syncKey(pos: number): SyncKey {
    const now = Math.floor(Date.now() / 1000);
    const List = [
      { Key: 1, Val: this.base.k1 + pos },
      { Key: 2, Val: this.base.k2 + pos },
      { Key: 3, Val: this.base.k3 },
    ];
    if (this.synced) List.push({ Key: 11, Val: this.base.k1 - 2697 + pos }, { Key: 201, Val: now });
    List.push({ Key: 1000, Val: this.loadTime });
    if (this.synced) List.push({ Key: 1001, Val: this.loadTime + 73 });
    return { Count: List.length, List };
  }

  markSynced(): void {
    this.synced = true;
  }

  /** The acknowledged position (what a re-init hands back). */
  get ackedPosition(): number {
    return this.acked;
  }

  get lastSeq(): number {
    return this.seq;
  }

  static uuid(): string {
    return `${alnum(10)}==`;
  }

  static qrTicket(): string {
    return `${alnum(24)}@qrticket_0`;
  }
}
