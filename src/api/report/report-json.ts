/**
 * The shapes of post_api reports (reference §1.9, §1.11): pure helpers shared by the reporter's parts. A message
 * report is the model's Mojo post-JSON (`toJson`) plus `post_type`; an event report is
 * `{"post_type":"event","event":…,"params":[…]}` with `params` as Mojo posts them.
 */
import type { Message } from '../../model/types.ts';

export type PostJson = Record<string, unknown>;
export type MessagePostType = 'receive_message' | 'send_message';
/**
 * Message → its post JSON. `postType`: the event it came with; a builder that adds it as `post_type` (the host's
 * does) spares the reporter a copy of every message (measured: the largest share of what the Controller promoted
 * to its old generation at 1,000 msg/s).
 */
export type MessageToJson = (m: Message, postType?: MessagePostType) => Record<string, unknown>;

/** WeChat's MsgID of a message id (`<MsgID>:<ToUserName>` for our own sends, the bare MsgID otherwise). */
export function msgIdOf(id: string): string {
  const i = id.indexOf(':');
  return i > 0 ? id.slice(0, i) : id;
}

/** The chat of a message: the group, else the other person. */
export function chatOf(m: { class?: unknown; group_id?: unknown; sender_id?: unknown; receiver_id?: unknown }): string {
  const g = typeof m.group_id === 'string' ? m.group_id : '';
  if (g) return g;
  const other = m.class === 'send' ? m.receiver_id : m.sender_id;
  return typeof other === 'string' ? other : '';
}

/** Mojo's post_message_filter: dropped if a filter key exists in the JSON with a different (string) value. */
export function passesFilter(json: PostJson, filter: Record<string, string> | undefined): boolean {
  if (!filter) return true;
  for (const [k, v] of Object.entries(filter)) {
    if (k in json && String(json[k] ?? '') !== String(v)) return false;
  }
  return true;
}

/** Event arguments as Mojo posts them in `params`. */
export function eventParams(name: string, args: unknown[]): unknown[] {
  switch (name) {
    case 'login':
      return args[0] === -1 ? [-1, args[1] ?? ''] : [args[0]];
    case 'input_qrcode':
      return args[2] ? [args[0], args[1], args[2]] : [args[0], args[1]];
    case 'update_friend':
    case 'update_group':
      // Mojo flattens the list into params.
      return Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
    case 'logout':
      return args[1] === undefined ? [args[0]] : [args[0], args[1]];
    default:
      return args;
  }
}

/** The reporter's counters (tests, metrics). One object shared by its parts. */
export interface ReportStats {
  reported: number;
  filtered: number;
  replies: number;
  ownRepliesIgnored: number;
  replyFailures: number;
  duplicates: number;
  repeatedAnswers: number;
}

export function newReportStats(): ReportStats {
  return { reported: 0, filtered: 0, replies: 0, ownRepliesIgnored: 0, replyFailures: 0, duplicates: 0, repeatedAnswers: 0 };
}
