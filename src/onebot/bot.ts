/**
 * One hosted account as a OneBot bot: the neutral events both versions are built from, the id mapping (v12 strings:
 * openwx's stable keys; v11 integers: src/onebot/ids.ts), target resolution, the sent-message notes that
 * delete_message needs, and the file ids of received and uploaded media. Talks to the account only through the
 * WxClient seam and the message history.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { MediaInput, WxClient } from '../client/interface.ts';
import type { Friend, Group, Member, Message } from '../model/types.ts';
import type { MessageHistory } from '../store/history.ts';
import type { DB } from '../store/db.ts';
import { IdMap, type IdWriter } from './ids.ts';

export type BotEvent =
  | { kind: 'message'; m: Message }
  /** A message the account itself sent (from another device, the Openwx API or OneBot). */
  | { kind: 'message_sent'; m: Message }
  | { kind: 'message_delete'; m: Message }
  | { kind: 'friend_increase' | 'friend_decrease'; friend: Friend }
  | { kind: 'member_increase' | 'member_decrease'; member: Member; group: Group }
  | { kind: 'friend_request'; id: string; name: string; verify: string; ticket: string }
  | { kind: 'group_name'; group: Group; old: string; name: string }
  | { kind: 'online'; online: boolean };

export interface FileEntry {
  name: string;
  /** A local file (received media, an uploaded path) or bytes (an uploaded base64), or a URL. */
  media: MediaInput;
  mime?: string | undefined;
}

export interface BotShared {
  db: DB | null;
  /** Writes new v11 id rows of every bot in one transaction per turn (on `db`); absent: each row at once. */
  idWriter?: IdWriter | null | undefined;
  history: MessageHistory | null;
  mediaDirs: readonly string[];
  logger: Logger;
  /** How long v11 message ids are kept (the history's retention; 0 = for good). */
  msgRetentionMs?: number | undefined;
  /** Sent messages and uploaded files remembered in memory at most (oldest forgotten first). */
  memoryMax?: number | undefined;
}

/** A sent message's chat and LocalID (delete_message before the history has it, or without a history). */
interface SentNote {
  peer: string;
  localId: string;
  groupId?: string | undefined;
}

export class Bot {
  readonly name: string;
  readonly client: WxClient;
  readonly ids: IdMap;
  readonly shared: BotShared;
  readonly #listeners = new Set<(e: BotEvent) => void>();
  readonly #off: (() => void)[] = [];
  readonly #sent = new Map<string, SentNote>();
  readonly #files = new Map<string, FileEntry>();
  readonly #memoryMax: number;
  /** Friend requests by the stable id of the requester: the ticket the accept needs. */
  readonly #requests = new Map<string, { id: string; ticket: string }>();

  constructor(client: WxClient, shared: BotShared) {
    this.name = client.account;
    this.client = client;
    this.shared = shared;
    this.#memoryMax = shared.memoryMax ?? 10_000;
    this.ids = new IdMap(shared.db, client.account, undefined, shared.msgRetentionMs ?? 0, shared.idWriter ?? null);
    const on = <E extends Parameters<WxClient['on']>[0]>(name: E, fn: Parameters<WxClient['on']>[1] & ((...a: never[]) => void)) => {
      client.on(name, fn as never);
      this.#off.push(() => client.off(name, fn as never));
    };
    on('receive_message', ((m: Message) => {
      // Received media is reachable at once (the history learns the message a moment later, in its batch).
      if (m.media_path) {
        const name = m.media_name || 'media';
        this.#files.set(`m${String(m.id).split(':')[0]}`, { name, media: { path: m.media_path, name, ...(m.media_mime ? { mime: m.media_mime } : {}) }, mime: m.media_mime });
        this.#bound(this.#files);
      }
      this.#emit(m.format === 'revoke' ? { kind: 'message_delete', m } : { kind: 'message', m });
    }) as never);
    on('send_message', ((m: Message) => {
      if (m.id && m.local_id) this.noteSent(String(m.id).split(':')[0]!, { peer: m.group_id ?? m.receiver_id ?? '', localId: m.local_id });
      this.#emit({ kind: 'message_sent', m });
    }) as never);
    on('new_friend', ((friend: Friend) => this.#emit({ kind: 'friend_increase', friend })) as never);
    on('lose_friend', ((friend: Friend) => this.#emit({ kind: 'friend_decrease', friend })) as never);
    on('new_group_member', ((member: Member, group: Group) => this.#emit({ kind: 'member_increase', member, group })) as never);
    on('lose_group_member', ((member: Member, group: Group) => this.#emit({ kind: 'member_decrease', member, group })) as never);
    on('group_property_change', ((group: Group, property: string, oldValue: unknown, newValue: unknown) => {
      if (property === 'name') this.#emit({ kind: 'group_name', group, old: String(oldValue ?? ''), name: String(newValue ?? '') });
    }) as never);
    on('friend_request', ((id: string, name: string, verify: string, ticket: string) => {
      this.#requests.set(id, { id, ticket });
      this.#bound(this.#requests);
      this.#emit({ kind: 'friend_request', id, name, verify, ticket });
    }) as never);
    on('state_change', ((_old: string, now: string) => {
      if (now === 'running') {
        this.selfId(); // remembers the user's id for while it is logged out
        this.#emit({ kind: 'online', online: true });
      }
      else if (_old === 'running') this.#emit({ kind: 'online', online: false });
    }) as never);
  }

  get online(): boolean {
    return this.client.state === 'running';
  }

  /** The last known stable id of the account's user: the bot keeps its id while logged out. */
  #lastSelf = '';

  /** The bot's own stable id (v12 `self.user_id`; also while logged out); the account name until a first login. */
  selfId(): string {
    const now = this.client.user()?.stable_id;
    if (now) this.#lastSelf = now;
    return this.#lastSelf || this.name;
  }

  /** v11 `self_id`. */
  selfNum(): number {
    return this.ids.num('user', this.selfId());
  }

  subscribe(fn: (e: BotEvent) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #emit(e: BotEvent): void {
    for (const l of this.#listeners) {
      try {
        l(e);
      } catch (err) {
        this.shared.logger.warn({ err, account: this.name }, 'onebot event listener failed');
      }
    }
  }

  // --- ids

  /** The stable id of a current WeChat id (friend, member of any known group, the user), else the id itself. */
  stableOf(id: string | undefined, groupId?: string): string {
    if (!id) return '';
    const u = this.client.user();
    if (u && u.id === id) return u.stable_id || this.name;
    const f = this.client.friend(id);
    if (f?.stable_id) return f.stable_id;
    const g = this.client.group(id);
    if (g?.stable_id) return g.stable_id;
    if (groupId) {
      const m = this.client.member(groupId, id);
      if (m?.stable_id) return m.stable_id;
    }
    const mg = this.client.groupOfMember(id);
    const m = mg ? this.client.member(mg.id, id) : undefined;
    return m?.stable_id || id;
  }

  /** A friend by stable id (or current id). */
  friendBy(userId: string): Friend | undefined {
    return this.client.searchFriends({ stable_id: userId })[0] ?? this.client.friend(userId);
  }

  groupBy(groupId: string): Group | undefined {
    return this.client.searchGroups({ stable_id: groupId })[0] ?? this.client.group(groupId);
  }

  /**
   * A member by its stable id or current id, or by the stable id of a friend who is a member (a group message from a
   * friend names the sender by the friend's stable id: a person has one as friend and one as member).
   */
  memberBy(group: Group, userId: string): Member | undefined {
    const m = group.member.find((x) => x.stable_id === userId || x.id === userId);
    if (m) return m;
    const f = this.client.searchFriends({ stable_id: userId })[0];
    return f ? group.member.find((x) => x.id === f.id) : undefined;
  }

  /** The person a user id names: a friend, else a member of a known group. */
  personBy(userId: string): { id: string; name: string; person: Friend | Member } | undefined {
    const f = this.friendBy(userId);
    if (f) return { id: f.id, name: f.markname || f.name || f.displayname, person: f };
    for (const g of this.client.groups()) {
      const m = this.memberBy(g, userId);
      if (m) return { id: m.id, name: m.displayname || m.markname || m.name, person: m };
    }
    return undefined;
  }

  // --- sent messages, files

  noteSent(msgId: string, note: SentNote): void {
    this.#sent.set(msgId, note);
    this.#bound(this.#sent);
  }

  /** The chat and LocalID of a sent message, from memory or the history. */
  sentNote(msgId: string): (SentNote & { class: 'send' | 'recv' }) | undefined {
    const n = this.#sent.get(msgId);
    if (n) return { ...n, class: 'send' };
    const s = this.shared.history?.get(msgId);
    return s ? { peer: s.peer, localId: s.localId ?? '', class: s.class } : undefined;
  }

  /** A stored message's post JSON (get_msg), when the history has it. */
  storedBody(msgId: string): Record<string, unknown> | undefined {
    const s = this.shared.history?.get(msgId);
    return s && typeof s.body === 'object' && s.body !== null ? (s.body as Record<string, unknown>) : undefined;
  }

  /** Registers a file; returns its id. */
  addFile(entry: FileEntry): string {
    const id = randomUUID();
    this.#files.set(id, entry);
    this.#bound(this.#files);
    return id;
  }

  /**
   * A file by id: an uploaded one, or a received message's media (`m<MsgID>`: its downloaded file, found through
   * the history, so it stays reachable after a restart).
   */
  file(fileId: string): FileEntry | undefined {
    const f = this.#files.get(fileId);
    if (f) return f;
    if (!fileId.startsWith('m')) return undefined;
    const body = this.storedBody(fileId.slice(1));
    const path = body?.['media_path'];
    if (typeof path !== 'string' || !path) return undefined;
    const name = typeof body?.['media_name'] === 'string' ? (body['media_name'] as string) : 'media';
    const mime = typeof body?.['media_mime'] === 'string' ? (body['media_mime'] as string) : undefined;
    return { name, media: { path, name, ...(mime ? { mime } : {}) }, mime };
  }

  friendRequest(userId: string): { id: string; ticket: string } | undefined {
    return this.#requests.get(userId);
  }

  #bound(m: Map<string, unknown>): void {
    while (m.size > this.#memoryMax) m.delete(m.keys().next().value as string);
  }

  close(): void {
    for (const u of this.#off.splice(0)) u();
    this.#listeners.clear();
  }
}
