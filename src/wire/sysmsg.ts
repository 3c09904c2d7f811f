/**
 * Revoke notice (MsgType 10002): Content `<sysmsg type="revokemsg"><revokemsg><session>…</session><oldmsgid>…</oldmsgid>
 * <msgid>…</msgid><replacemsg><![CDATA[…]]></replacemsg></revokemsg></sysmsg>` (escaped; the server indents it with
 * `<br/>` + tabs). Source: fixtures msg10002-*; protocol §6.2.
 */
import { attrs, cdata, child, parseXml, text, wireToXml, xmlEscape, xmlToWire } from './xmlcontent.ts';

export interface RevokeMsg {
  /** `<n>@chatroom` or the peer's wxid. */
  session: string;
  oldmsgid: string;
  /** MsgId of the revoked message. */
  msgid: string;
  /** e.g. `"xx" 撤回了一条消息` or `你撤回了一条消息`. */
  replacemsg: string;
}

/** Parses a revoke Content (wire form, group prefix removed). Null unless it is `<sysmsg type="revokemsg">`. */
export function parseRevokeContent(content: string): RevokeMsg | null {
  return parseRevokeXml(wireToXml(content));
}

export function parseRevokeXml(xml: string): RevokeMsg | null {
  const sys = child(parseXml(xml) ?? undefined, 'sysmsg');
  if (!sys || attrs(sys).type !== 'revokemsg') return null;
  const r = child(sys, 'revokemsg');
  if (!r) return null;
  return { session: text(r, 'session'), oldmsgid: text(r, 'oldmsgid'), msgid: text(r, 'msgid'), replacemsg: text(r, 'replacemsg') };
}

/** Builds the wire Content of a revoke notice, indented like msg10002-revoke.wwdk (`<br/>\t…`, trailing `<br/>`). */
export function buildRevokeContent(r: RevokeMsg): string {
  const xml =
    `<sysmsg type="revokemsg">\n\t<revokemsg>\n\t\t<session>${xmlEscape(r.session)}</session>\n` +
    `\t\t<oldmsgid>${xmlEscape(r.oldmsgid)}</oldmsgid>\n\t\t<msgid>${xmlEscape(r.msgid)}</msgid>\n` +
    `\t\t<replacemsg>${cdata(r.replacemsg)}</replacemsg>\n\t</revokemsg>\n</sysmsg>\n`;
  return xmlToWire(xml);
}

/** Replace text the server puts into a revoke notice: `"<name>" 撤回了一条消息`, or `你撤回了一条消息` for own messages. */
export function revokeReplaceText(name: string | null): string {
  return name === null ? SELF_REVOKE_TEXT : `"${name}" 撤回了一条消息`;
}

export const SELF_REVOKE_TEXT = '你撤回了一条消息';
