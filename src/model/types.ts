/**
 * The Mojo-Weixin-compatible model (shared/spec/mojo-weixin-reference.md §4, §5): what the API, post_api and
 * plugins see. Field names are a contract with existing Openwx clients.
 */

export type Sex = 'male' | 'female' | '';
export type Category = '好友' | '公众号' | '系统帐号';

interface PersonBase {
  id: string;
  /** WeChat's Uin; "" when WeChat gives 0 (every contact but the user). */
  uid: string | number;
  account: string;
  name: string;
  markname: string;
  sex: Sex;
  display: string;
  city: string;
  province: string;
  signature: string;
  displayname: string;
  /** openwx extra: best-effort key that stays the same across QR logins (ids do not). */
  stable_id: string;
}

export type User = PersonBase;

export interface Friend extends PersonBase {
  category: Category;
}

/** A group member: Mojo stores the member's own nickname as `markname`; `name` is always "". */
export type Member = PersonBase;

export interface Group {
  id: string;
  uid: string | number;
  name: string;
  displayname: string;
  owner_uid: string | number;
  stable_id: string;
  member: Member[];
}

export type GroupBasic = Omit<Group, 'member'>;

export type MessageType = 'friend_message' | 'group_message' | 'group_notice';
export type MessageClass = 'send' | 'recv';
export type MessageFormat = 'text' | 'media' | 'app' | 'card' | 'revoke' | 'payment' | 'unknown';
export type MediaType = 'image' | 'voice' | 'video' | 'microvideo' | 'emoticon' | 'file';

/** A message as Mojo-Weixin's to_json_hash shapes it (before post_type is added). */
export interface Message {
  id: string;
  type: MessageType;
  class: MessageClass;
  format: MessageFormat;
  time: number;
  content: string;
  sender_id?: string;
  receiver_id?: string;
  group_id?: string;
  /** send status (sent messages). */
  code?: number | string;
  msg?: string;
  info?: string;
  source?: 'local' | 'outer';
  /** openwx extra: the LocalID/ClientMsgId of a message sent by this client (revoke needs it). */
  local_id?: string;
  from?: string;
  media_id?: string;
  media_type?: MediaType;
  media_code?: number;
  media_mime?: string;
  media_name?: string;
  media_size?: string | number;
  media_mtime?: number;
  media_ext?: string;
  media_path?: string;
  /** openwx extra: why the media download failed (the message is still delivered). */
  media_error?: string;
  app_id?: string;
  app_title?: string;
  app_url?: string;
  app_name?: string;
  app_desc?: string;
  card_id?: string;
  card_name?: string;
  card_province?: string;
  card_city?: string;
  card_account?: string;
  card_avatar?: string;
  card_sex?: string;
  revoke_id?: string;
  /** openwx extra: raw MsgType / AppMsgType for `format:"unknown"` and refinements. */
  raw_type?: number;
  app_type?: number;
  /** openwx extra: the HTML-decoded raw Content of a `format:"unknown"` message. */
  raw_content?: string;
  /** openwx extra: location (MsgType 1 + SubMsgType 48, or 48); content is `[位置]<label>`. */
  location_label?: string;
  location_lat?: string;
  location_lng?: string;
  location_scale?: string;
  location_poiname?: string;
  location_url?: string;
  /** openwx extra: transfer / red packet details (format `payment`). */
  payment_fee?: string;
  payment_memo?: string;
  payment_id?: string;
  payment_subtype?: string;
  /**
   * openwx extra: a quote (AppMsgType 57, format `app` with the reply text as `app_title`): the quoted message's
   * MsgId, its sender's wxid (as the quote's XML names it, not the session's `@…` id), display name and text.
   */
  quote_id?: string;
  quote_sender?: string;
  quote_name?: string;
  quote_content?: string;
  /** Media bytes (Mojo's `media_data`); post JSON carries them MIME-base64 encoded. */
  media_data?: Buffer;
  /** The sender's, receiver's and group's display fields, as Mojo adds them in to_json_hash. */
  [extra: string]: unknown;
}

export const STATES = ['init', 'loading', 'scaning', 'confirming', 'updating', 'running', 'stop'] as const;
export type ClientState = (typeof STATES)[number];
