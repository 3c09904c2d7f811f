/**
 * Name and sex normalisation shared by the contact and message models (shared/spec/mojo-weixin-reference.md §5).
 * openwx decision: emoji spans become the real Unicode characters (not Mojo's `[名称]` table), see docs/decisions.md.
 */
import { emojiSpansToUnicode, htmlDecode } from '../wire/content.ts';
import type { Sex } from './types.ts';

/** NickName/RemarkName/DisplayName as WeChat sends them → display text: emoji spans → Unicode, HTML entities decoded. */
export function normalizeName(s: string | undefined | null): string {
  if (!s) return '';
  return htmlDecode(emojiSpansToUnicode(s));
}

/** `Sex` code → `male` / `female` / "" (always normalised, also for sync updates). Accepts numbers and strings. */
export function sexFromCode(code: number | string | undefined | null): Sex {
  const n = Number(code);
  return n === 1 ? 'male' : n === 2 ? 'female' : '';
}

/** `Uin` → `uid`: "" when WeChat gives 0 (or nothing). */
export function uidFromUin(uin: number | string | undefined | null): string | number {
  if (uin === undefined || uin === null || uin === '' || Number(uin) === 0) return '';
  return uin;
}

export const UNKNOWN_NICKNAME = '昵称未知';
export const UNKNOWN_GROUP_NAME = '群名未知';
