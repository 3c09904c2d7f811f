/**
 * Status notify (MsgType 51) Content. With StatusNotifyCode 4 (SYNC_CONV) the server sends
 * `<msg>\n<op id='4'>\n<username>wxid,…,NNN@chatroom,…</username>\n<unreadchatlist>…</unreadchatlist>\n…` (escaped,
 * `<br/>` breaks) and StatusNotifyUserName = comma list of `@`/`@@` ids; other codes carry an empty Content.
 * Source: fixtures webwxsync-statusnotify51-and-text.wechat4u (verbatim), webwxsync-emoji47-…qjesus, msg51-*.
 */
import { attrs, child, parseXml, text, wireToXml, xmlEscape, xmlToWire, type XmlNode } from './xmlcontent.ts';

export interface UnreadChat {
  username: string;
  lastreadtime: string;
}

export interface StatusNotifyContent {
  /** `<op id>`; matches StatusNotifyCode. */
  opId: number;
  /** Plain (wxid / `@chatroom`) names of recent chats. */
  usernames: string[];
  unread: UnreadChat[];
}

/** Parses a MsgType 51 Content; null when empty or not an `<op>` message. */
export function parseStatusNotifyContent(content: string): StatusNotifyContent | null {
  const op = child(child(parseXml(wireToXml(content)) ?? undefined, 'msg'), 'op');
  if (!op) return null;
  const chats = child(op, 'unreadchatlist');
  const list = chats && Array.isArray(chats.chat) ? (chats.chat as XmlNode[]) : [];
  return {
    opId: Number(attrs(op).id) || 0,
    usernames: splitNames(text(op, 'username')),
    unread: list.map((c) => ({ username: text(c, 'username'), lastreadtime: text(c, 'lastreadtime') })),
  };
}

/** Splits a comma list of user names (StatusNotifyUserName, `<username>`), dropping empties. */
export function splitNames(list: string): string[] {
  return list.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** Builds the Content of a SYNC_CONV (code 4) notify, byte-identical in layout to the wechat4u capture. */
export function buildStatusNotifyContent(s: { usernames: string[]; unread?: UnreadChat[]; opId?: number }): string {
  const chats = (s.unread ?? [])
    .map((c) => `<chat>\n<username>${xmlEscape(c.username)}</username>\n<lastreadtime>${xmlEscape(c.lastreadtime)}</lastreadtime>\n</chat>\n`)
    .join('');
  const xml =
    `<msg>\n<op id='${s.opId ?? 4}'>\n<username>${xmlEscape(s.usernames.join(','))}</username>\n` +
    `<unreadchatlist>\n${chats}</unreadchatlist>\n<unreadfunctionlist>\n</unreadfunctionlist>\n</op>\n</msg>`;
  return xmlToWire(xml);
}
