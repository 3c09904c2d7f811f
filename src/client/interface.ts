/**
 * The one seam between the bot surface (api/, plugins, the CLI) and the protocol engine (client/).
 * Shaped like wechaty's PuppetInterface: methods on ids and neutral model objects, plus a typed event map.
 * The Controller API (later) hosts many of these behind the same interface.
 */
import type { ClientState, Friend, Group, GroupBasic, Member, Message, User } from '../model/types.ts';
import type { OpenwxError } from '../errors.ts';

/** Events, with the parameters Mojo-Weixin passes (shared/spec/mojo-weixin-reference.md §6). */
export interface ClientEvents {
  state_change: [oldState: ClientState, newState: ClientState];
  input_qrcode: [path: string, base64: string, url: string];
  qrcode_expire: [];
  /** 1 = logged in by QR (ids changed), 0 = resumed (ids kept), -1 = refused, with the server's message. */
  login: [code: 1 | 0 | -1, message?: string];
  relogin: [];
  /** The session ended; `reason` says why (logout retcode, stop_client, …). */
  logout: [reason: string, retcode?: number];
  stop: [];
  update_user: [user: User];
  update_friend: [friends: Friend[]];
  update_group: [groups: Group[]];
  new_friend: [friend: Friend];
  lose_friend: [friend: Friend];
  new_group: [group: Group];
  lose_group: [group: Group];
  new_group_member: [member: Member, group: Group];
  lose_group_member: [member: Member, group: Group];
  friend_property_change: [friend: Friend, property: string, oldValue: unknown, newValue: unknown];
  group_property_change: [group: Group, property: string, oldValue: unknown, newValue: unknown];
  group_member_property_change: [member: Member, property: string, oldValue: unknown, newValue: unknown];
  user_property_change: [user: User, property: string, oldValue: unknown, newValue: unknown];
  friend_request: [id: string, displayname: string, verify: string, ticket: string];
  receive_message: [message: Message];
  send_message: [message: Message];
  error: [error: Error];
}
export type ClientEventName = keyof ClientEvents;

/** Outcome of one send: WeChat's Ret, MsgID and LocalID. */
export interface SendResult {
  /** 0 on success, else WeChat's Ret or -1 for a local/network failure. */
  code: number;
  status: string;
  msgId: string;
  localId: string;
  toUserName: string;
  /** `"<MediaId>:<code>"` for media sends. */
  mediaId?: string;
  /** The model message of the send (also emitted as send_message). */
  message?: Message;
  /** Why the send failed (code ≠ 0): a coded error (rate limited, logged out, upload failed, network, …). */
  error?: OpenwxError;
}

/** Where media comes from: a local path or http(s) URL, or bytes already in memory. */
export interface MediaInput {
  path?: string;
  url?: string;
  data?: Buffer;
  name?: string;
  mime?: string;
  /** image | emoticon | video | microvideo | voice | file; derived from the mime/extension when absent. */
  type?: string;
}

export interface UploadedMedia {
  media_id: string;
  media_code: number;
  media_type: string;
  media_path: string;
  media_name: string;
  media_size: number;
  media_mime: string;
  media_mtime: number;
  media_ext: string;
}

export interface Avatar {
  data: Buffer;
  mime: string;
}

/**
 * A durability barrier (`WxClient.addDurabilityBarrier`): resolves once everything the layer above was handed by
 * the events emitted before the call is durable (e.g. committed to SQLite). The receive loop calls every registered
 * barrier once per webwxsync answer, after it emitted that answer's events and before it acknowledges the answer to
 * WeChat (the new SyncKey in the next synccheck/webwxsync, or in the saved session). A barrier that rejects is called
 * again after a backoff; meanwhile nothing is acknowledged. docs/client.md, "Acknowledging only what is durable".
 */
export type DurabilityBarrier = () => Promise<void> | void;

/** Which objects the API can address. A missing key is not compared; all given keys must be equal. */
export type Query = Record<string, string>;

export interface WxClient {
  readonly account: string;
  readonly state: ClientState;
  /** Unix seconds when run() started (0 before). */
  readonly startTime: number;

  on<E extends ClientEventName>(event: E, listener: (...args: ClientEvents[E]) => void): this;
  off<E extends ClientEventName>(event: E, listener: (...args: ClientEvents[E]) => void): this;
  once<E extends ClientEventName>(event: E, listener: (...args: ClientEvents[E]) => void): this;

  run(): Promise<void>;
  stop(reason?: string): Promise<void>;
  /**
   * Makes the receive loop wait for `barrier` before it acknowledges a webwxsync answer to WeChat (see
   * DurabilityBarrier). Returns its removal. With none registered the loop acknowledges as soon as the events of
   * the answer are emitted.
   */
  addDurabilityBarrier(barrier: DurabilityBarrier): () => void;

  user(): User | null;
  friends(): Friend[];
  groups(): Group[];
  groupsBasic(): GroupBasic[];
  /** Friends whose every given attribute equals the value (Mojo's _search). Unknown attribute → no match. */
  searchFriends(q: Query): Friend[];
  searchGroups(q: Query): Group[];
  friend(id: string): Friend | undefined;
  group(id: string): Group | undefined;
  member(groupId: string, memberId: string): Member | undefined;
  /** The group that has this member, if any known group does. */
  groupOfMember(memberId: string): Group | undefined;
  /** Path of the current login QR image, when one is waiting to be scanned. */
  qrcodePath(): string | null;

  sendText(toId: string, content: string): Promise<SendResult>;
  /** `media` may be an upload input, or a media_id returned by an earlier send/upload (`"<MediaId>:<code>"`). */
  sendMedia(toId: string, media: MediaInput | { mediaId: string; name?: string; size?: number; ext?: string }): Promise<SendResult>;
  uploadMedia(media: MediaInput, toId?: string): Promise<UploadedMedia>;
  /** `clientMsgId`: the send's LocalID when known (e.g. from the message history after a restart); WeChat expects it. */
  revokeMessage(msgId: string, toUserName: string, clientMsgId?: string): Promise<boolean>;

  createGroup(friendIds: string[], topic?: string): Promise<Group>;
  inviteToGroup(groupId: string, friendIds: string[]): Promise<void>;
  kickFromGroup(groupId: string, memberIds: string[]): Promise<void>;
  renameGroup(groupId: string, topic: string): Promise<void>;
  setRemark(userName: string, remark: string): Promise<void>;
  stick(userName: string, pin: boolean): Promise<void>;
  addFriend(userName: string, verify: string): Promise<void>;
  acceptFriendRequest(userName: string, ticket: string): Promise<void>;
  getAvatar(id: string, groupId?: string): Promise<Avatar>;
}
