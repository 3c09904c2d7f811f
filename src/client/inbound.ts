/**
 * One webwxsync answer → model updates and events, in the official order (Profile → DelContactList →
 * ModContactList → AddMsgList). Each message is decoded by the model's `decodeMessage`; unknown groups, group
 * members and senders are fetched on first sight; media is downloaded (when enabled) before the message is emitted;
 * friend requests answer with statusnotify code 1 like Mojo; our own sends echoed by the server are not reported twice.
 */
import { decodeMessage, type FriendRequest, type StatusNotify } from '../model/decode.ts';
import type { ContactEvent } from '../model/diff.ts';
import { isSpecialUser } from '../model/contacts.ts';
import type { Message } from '../model/types.ts';
import { isOpenwxError } from '../errors.ts';
import { StatusNotifyCode } from '../wire/constants.ts';
import { isGroupId } from '../wire/ids.ts';
import type { RawMessage, SyncResponse } from '../wire/types.ts';
import type { ContactBook } from './contact-book.ts';
import type { BatchItem, ContactsApi } from './contacts.ts';
import type { Logger } from './logger.ts';
import type { MediaDownloader } from './media-download.ts';
import type { ClientOptions } from './options.ts';

export interface InboundDeps {
  book: ContactBook;
  contacts: ContactsApi;
  downloader: MediaDownloader;
  options: ClientOptions;
  logger: Logger;
  /** Emits contact events (new_friend, group_property_change, …). */
  emitContacts(events: ContactEvent[]): void;
  emitMessage(msg: Message): void;
  emitFriendRequest(r: FriendRequest): void;
  /** True if we sent this MsgID ourselves (already reported as send_message). */
  sentByUs(msgId: string): boolean;
}

/** How many recent MsgIds are remembered to drop a message WeChat delivers twice. */
const SEEN_MAX = 5000;

export class Inbound {
  readonly #seen = new Set<string>();
  constructor(private readonly d: InboundDeps) {}

  /** True the first time a MsgId is seen (WeChat may redeliver after a retried sync). */
  #first(msgId: string): boolean {
    if (!msgId || this.#seen.has(msgId)) return !msgId;
    this.#seen.add(msgId);
    if (this.#seen.size > SEEN_MAX) this.#seen.delete(this.#seen.values().next().value!);
    return true;
  }

  async handleSync(resp: SyncResponse): Promise<void> {
    const { book, emitContacts } = this.d;
    emitContacts(book.applyProfile(resp.Profile));
    for (const del of resp.DelContactList) emitContacts(book.removeContact(del.UserName));
    for (const mod of resp.ModContactList) emitContacts(book.applyContact(mod));
    for (const raw of resp.AddMsgList) {
      try {
        await this.#message(raw);
      } catch (err) {
        if (isOpenwxError(err, 'OWX_ERR_SYNC_LOGOUT')) throw err;
        this.d.logger.error({ err, msgId: raw?.MsgId, msgType: raw?.MsgType }, 'could not process a message');
      }
    }
  }

  async #message(raw: RawMessage): Promise<void> {
    const { book } = this.d;
    if (!this.#first(String(raw.MsgId ?? ''))) {
      this.d.logger.debug({ msgId: raw.MsgId }, 'duplicate message dropped');
      return;
    }
    const decoded = decodeMessage(raw, { selfId: book.selfId, isGroup: (id) => isGroupId(id) || book.group(id) !== undefined });
    if (decoded.kind === 'friend_request') return this.#friendRequest(decoded);
    if (decoded.kind === 'status_notify') return this.#statusNotify(decoded);
    let msg = decoded.message;
    if (msg.class === 'send' && msg.source === 'outer' && this.d.sentByUs(String(raw.MsgId))) return;
    await this.#ensureKnown(msg);
    if (msg.format === 'media' && this.d.options.downloadMedia) msg = await this.d.downloader.download(msg, raw);
    this.d.emitMessage(msg);
  }

  async #friendRequest(r: FriendRequest): Promise<void> {
    try {
      await this.d.contacts.statusNotify(StatusNotifyCode.READED, r.fromUserName);
    } catch (err) {
      this.d.logger.debug({ err: (err as Error).message }, 'statusnotify for a friend request failed');
    }
    this.d.emitFriendRequest(r);
  }

  /** Codes 2 (enter session) and 4 (sync conversations): fetch the ids we do not know. */
  async #statusNotify(s: StatusNotify): Promise<void> {
    if (s.code !== StatusNotifyCode.ENTER_SESSION && s.code !== StatusNotifyCode.SYNC_CONV) return;
    const unknown = s.userNames.filter((id) => id.startsWith('@') && !this.d.book.knows(id));
    if (unknown.length > 0) await this.#fetch(unknown.map((UserName) => ({ UserName, EncryChatRoomId: '' })));
  }

  /** Unknown group, group sender or direct sender → fetch it once (new_group / new_group_member / new_friend). */
  async #ensureKnown(msg: Message): Promise<void> {
    const { book } = this.d;
    if (msg.group_id) {
      const g = book.group(msg.group_id);
      const sender = msg.class === 'recv' ? msg.sender_id : undefined;
      if (!g || (sender && !g.member.some((m) => m.id === sender))) {
        await this.#fetch([{ UserName: msg.group_id, EncryChatRoomId: '' }]);
      }
      return;
    }
    const other = msg.class === 'recv' ? msg.sender_id : msg.receiver_id;
    if (other && other.startsWith('@') && !book.knows(other) && !isSpecialUser(other)) {
      await this.#fetch([{ UserName: other, EncryChatRoomId: '' }]);
    }
  }

  async #fetch(items: BatchItem[]): Promise<void> {
    const raws = await this.d.contacts.batchGet(items);
    for (const raw of raws) this.d.emitContacts(this.d.book.applyContact(raw));
  }
}
