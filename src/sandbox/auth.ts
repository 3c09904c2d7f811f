/**
 * Session checks. The rule (issue 11): the sandbox refuses a request only where a capture or a documented real
 * answer shows the real server refusing it; every other request shape a working client sent is accepted. The
 * refusals and their evidence are tabulated in docs/sandbox.md ("What the sandbox refuses"):
 * - no wxsid/wxuin cookies → 1100 on JSON endpoints (WeixinBot#174), 1 on webwxsync (moontide comment), 1102 on
 *   synccheck (WeixinBot#140);
 * - a sid that names no session → 1100 (`MMWEBWX_ERR_SESSION_NOEXIST`, the official client's name for 1100);
 * - a session that was logged out or replaced by a newer login → 1101 (WeixinBot#58; official client, Mojo-Weixin).
 * The session is the one the `wxsid` cookie names. BaseRequest fields (Uin/Sid/Skey/DeviceID), the `skey`, `sid`,
 * `uin` and `pass_ticket` query parameters are not compared: clients that worked against the real server sent them
 * missing, empty, stale or in other forms (Mojo-Weixin's webwxsync BaseRequest `{Uin, Sid}`, its empty skey and
 * pass_ticket after a cookie restore; itchat's DeviceID = pass_ticket; itchat-uos without DeviceID; pass_ticket
 * omitted, once or twice encoded), and no capture shows the server refusing any of them.
 */
import type { FastifyRequest } from 'fastify';
import { Ret } from '../wire/constants.ts';
import type { SandboxCore } from './core.ts';
import type { Session } from './sessions.ts';
import { cookie } from './http-util.ts';

export type AuthResult = { ok: true; session: Session } | { ok: false; ret: number; why: string };

export interface AuthOpts {
  /** Ret for a request without the session cookies. */
  missingCookieRet?: number;
  /**
   * The session's sid from elsewhere in the request, used only when the cookies are missing (uploads: itchat before
   * 1.3 posted webwxuploadmedia without its cookie jar, identified by the uploadmediarequest BaseRequest and the
   * `webwx_data_ticket` field).
   */
  fallbackSid?: string;
}

function fail(ret: number, why: string): AuthResult {
  return { ok: false, ret, why };
}

export function authenticate(core: SandboxCore, req: FastifyRequest, o: AuthOpts = {}): AuthResult {
  const cSid = cookie(req, 'wxsid');
  const cUin = cookie(req, 'wxuin');
  let sid = cSid && cUin ? cSid : undefined;
  if (!sid && o.fallbackSid) sid = o.fallbackSid;
  if (!sid) return fail(o.missingCookieRet ?? Ret.SESSION_NOEXIST, 'missing wxsid/wxuin cookies');
  const s = core.sessionBySid(sid);
  if (!s) return fail(Ret.SESSION_NOEXIST, 'unknown sid');
  if (!s.alive) return fail(Ret.SESSION_INVALID, `session ended (${s.endReason})`);
  return { ok: true, session: s };
}

/**
 * A JSON endpoint: the session first, then a body that parses as a JSON object. A body that does not parse gets
 * 1200 (`MMWEBWX_ERR_PARSER_REQUEST`, the official client's name for it; no client that worked sent one).
 */
export function authenticateJson(core: SandboxCore, req: FastifyRequest, body: Record<string, unknown> | null, o: AuthOpts = {}): AuthResult {
  const a = authenticate(core, req, o);
  if (!a.ok) return a;
  if (!body) return fail(Ret.PARSER_REQUEST, 'body is not a JSON object');
  return a;
}
