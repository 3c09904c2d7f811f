/**
 * Session checks as the real server answers them (protocol reference §2.3, §5.1, §10; fixtures
 * webwxinit-ret1100-missing-cookie, synccheck-ret1102-missing-cookie, synccheck-error-sequence):
 * - no wxsid/wxuin cookies → 1100 on JSON endpoints (1 on webwxsync, per moontide), 1102 on synccheck;
 * - unknown sid, wrong uin/skey/Sid in BaseRequest or query, wrong pass_ticket → 1100;
 * - a session that was logged out or replaced by a newer login → 1101.
 */
import type { FastifyRequest } from 'fastify';
import { Ret } from '../wire/constants.ts';
import type { SandboxCore } from './core.ts';
import type { Session } from './sessions.ts';
import { cookie, qparam } from './http-util.ts';

export type AuthResult = { ok: true; session: Session } | { ok: false; ret: number; why: string };

export interface AuthOpts {
  /** The JSON body's BaseRequest, when the endpoint carries one. */
  baseRequest?: unknown;
  /** The endpoint needs a BaseRequest (JSON POSTs). */
  requireBaseRequest?: boolean;
  /** Ret for a request without the session cookies. */
  missingCookieRet?: number;
  /** Check the wxsid/wxuin cookies (default true). */
  cookies?: boolean;
  /** Query names of sid/uin/skey to check when present (synccheck: sid, uin, skey). */
  queryKeys?: boolean;
}

/** Query decoding turns an unencoded `+` into a space; sids and tickets never contain spaces. */
const plus = (v: string): string => v.replace(/ /g, '+');

function fail(ret: number, why: string): AuthResult {
  return { ok: false, ret, why };
}

export function passTicketMatches(s: Session, given: string): boolean {
  if (given === s.passTicket) return true;
  try {
    return given === decodeURIComponent(s.passTicket);
  } catch {
    return false;
  }
}

export function authenticate(core: SandboxCore, req: FastifyRequest, o: AuthOpts = {}): AuthResult {
  const useCookies = o.cookies !== false;
  const cSid = cookie(req, 'wxsid');
  const cUin = cookie(req, 'wxuin');
  const br = o.baseRequest as { Uin?: unknown; Sid?: unknown; Skey?: unknown } | undefined;
  if (o.requireBaseRequest && (!br || typeof br !== 'object')) return fail(Ret.SESSION_NOEXIST, 'no BaseRequest');
  if (useCookies && (!cSid || !cUin)) return fail(o.missingCookieRet ?? Ret.SESSION_NOEXIST, 'missing wxsid/wxuin cookies');
  const qSidRaw = o.queryKeys ? qparam(req, 'sid') : undefined;
  const qSid = qSidRaw === undefined ? undefined : plus(qSidRaw);
  const sid = cSid ?? (typeof br?.Sid === 'string' ? br.Sid : undefined) ?? qSid;
  if (!sid) return fail(Ret.SESSION_NOEXIST, 'no sid');
  const s = core.sessions.get(sid);
  if (!s) return fail(Ret.SESSION_NOEXIST, 'unknown sid');
  if (!s.alive) return fail(Ret.SESSION_INVALID, `session ended (${s.endReason})`);
  if (cUin !== undefined && cUin !== String(s.uin)) return fail(Ret.SESSION_NOEXIST, 'wxuin cookie does not match');
  if (br && typeof br === 'object') {
    if (String(br.Uin) !== String(s.uin)) return fail(Ret.SESSION_NOEXIST, 'BaseRequest.Uin does not match');
    if (br.Sid !== s.sid) return fail(Ret.SESSION_NOEXIST, 'BaseRequest.Sid does not match');
    if (br.Skey !== s.skey) return fail(Ret.SESSION_NOEXIST, 'BaseRequest.Skey does not match');
  }
  if (o.queryKeys) {
    if (qSid !== undefined && qSid !== s.sid) return fail(Ret.SESSION_NOEXIST, 'sid does not match');
    const qUin = qparam(req, 'uin');
    if (qUin !== undefined && qUin !== String(s.uin)) return fail(Ret.SESSION_NOEXIST, 'uin does not match');
  }
  const qSkey = qparam(req, 'skey');
  if (qSkey !== undefined && qSkey !== '' && qSkey !== s.skey) return fail(Ret.SESSION_NOEXIST, 'skey does not match');
  const pt = qparam(req, 'pass_ticket');
  if (pt !== undefined && pt !== '' && !passTicketMatches(s, plus(pt))) return fail(Ret.SESSION_NOEXIST, 'pass_ticket does not match');
  return { ok: true, session: s };
}
