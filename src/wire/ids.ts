/**
 * Identifier and timestamp conventions of the official web client.
 * Source: shared/spec/wechat-web-protocol.md §3, §4.4, §7.1.
 */
import { randomBytes, randomInt } from 'node:crypto';

/** `e` + 15 random digits, regenerated for every request. */
export function deviceId(): string {
  let d = '';
  for (let i = 0; i < 15; i++) d += String(randomInt(10));
  return `e${d}`;
}

/** `LocalID` = `ClientMsgId` = ms timestamp + "0" + 3 random digits (17 characters). */
export function localId(now: number = Date.now()): string {
  return `${now}0${String(randomInt(1000)).padStart(3, '0')}`;
}

/** `r=~new Date()`: the bitwise NOT of the ms timestamp as a signed 32-bit integer. */
export function notTimestamp(now: number = Date.now()): number {
  return ~now;
}

/** Encrypted per-session ids: `@` + 32 hex for users (64 also seen), `@@` + 64 hex for chatrooms. */
export function newUserName(): string {
  return `@${randomBytes(16).toString('hex')}`;
}
export function newChatroomName(): string {
  return `@@${randomBytes(32).toString('hex')}`;
}

export function isGroupId(id: string): boolean {
  return id.startsWith('@@') || id.endsWith('@chatroom');
}

/** The official client's group-sender regex (_commonMsgProcess). */
export const GROUP_SENDER_RE = /^(@[a-zA-Z0-9]+|[a-zA-Z0-9_-]+):<br\/>/;
