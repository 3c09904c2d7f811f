/**
 * Mojo-Weixin's object resolution (reference §1.3): a route names its target with a fixed key set — friends by
 * `id, account, displayname, markname`, groups by `id, displayname` — and the first object whose every *given*
 * key is string-equal wins. Keys not sent are ignored; no key at all means "object not found". Search routes
 * match on any attribute; an unknown attribute simply matches nothing (Mojo answered HTTP 500).
 */
import type { Query, WxClient } from '../client/interface.ts';
import type { Friend, Group, Member } from '../model/types.ts';
import { owxError } from '../errors.ts';

export const FRIEND_KEYS = ['id', 'account', 'displayname', 'markname'] as const;
export const GROUP_KEYS = ['id', 'displayname'] as const;

/** Parameters that are never search attributes (routing, JSONP, auth, Mojo's `member` list of a group). */
const NOT_ATTRIBUTES = new Set(['client', 'datatype', 'callback', 'access_token', 'member', '_check_remote']);

/** The given keys among `keys`, or null when none is given. */
export function pickQuery(params: Record<string, unknown>, keys: readonly string[]): Query | null {
  const q: Query = {};
  let any = false;
  for (const k of keys) {
    const v = params[k];
    if (typeof v === 'string') {
      q[k] = v;
      any = true;
    }
  }
  return any ? q : null;
}

/** Every parameter as a search attribute, minus the reserved ones. Null when nothing is left. */
export function searchQuery(params: Record<string, string>): Query | null {
  return pickQuery(params, Object.keys(params).filter((k) => !NOT_ATTRIBUTES.has(k)));
}

/** Mojo's `is_group_id`. */
export function isGroupId(id: string): boolean {
  return id.startsWith('@@') || id.endsWith('@chatroom');
}

function notFound(): Error {
  return owxError('OWX_ERR_NOT_FOUND', [], { details: { id: null } });
}

export function findFriend(client: WxClient, params: Record<string, unknown>): Friend {
  const q = pickQuery(params, FRIEND_KEYS);
  const f = q ? client.searchFriends(q)[0] : undefined;
  if (!f) throw notFound();
  return f;
}

export function findGroup(client: WxClient, params: Record<string, unknown>): Group {
  const q = pickQuery(params, GROUP_KEYS);
  const g = q ? client.searchGroups(q)[0] : undefined;
  if (!g) throw notFound();
  return g;
}

/** A member of a known group, by group id + member id. */
export function findMember(client: WxClient, groupId: string, memberId: string): { group: Group; member: Member } {
  const group = client.group(groupId);
  if (!group) throw owxError('OWX_ERR_NAMED_NOT_FOUND', ['group']);
  const member = client.member(groupId, memberId);
  if (!member) throw notFound();
  return { group, member };
}

/**
 * A comma-separated id list from `plural` or `singular` (both spellings are accepted, as Mojo's docs and code
 * disagree). Whitespace around ids is dropped; an empty list is Mojo's code 200 `<what> id empty`.
 */
export function idList(params: Record<string, string | undefined>, plural: string, singular: string, what: string): string[] {
  const raw = [params[plural], params[singular]].filter((v): v is string => v !== undefined).join(',');
  const ids = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (ids.length === 0) throw owxError('OWX_ERR_ID_LIST_EMPTY', [what]);
  return [...new Set(ids)];
}
