/**
 * Text-like Contents: text (MsgType 1) and system tips (MsgType 10000). The server escapes `< > &`, sends line
 * breaks as `<br/>` and emoji as `<span class="emoji emojiXXXX"></span>`; a mention is `@name` + U+2005.
 * Source: shared/spec/wechat-web-protocol.md §6.1; fixtures msg1-*, msg10000-*.
 */
import { emojiSpansToUnicode, encodeTextContent, htmlDecode, unicodeToEmojiSpans } from './content.ts';

/** Plain text → wire Content (escaped, `<br/>`, emoji spans). */
export function buildTextContent(text: string): string {
  return unicodeToEmojiSpans(encodeTextContent(text));
}

const QQ_FACE_SPAN_RE = /<span class="qqemoji qqemoji(\d+)"><\/span>/g;
const MENTION_SPACE_RE = /(@[^@\s\u2005]*)\u2005/g;

/**
 * Wire Content → plain text: emoji spans → Unicode, QQ-face spans → `[qqemoji<n>]`, `<br/>` → `\n`, HTML entities
 * decoded, `@name` + U+2005 → `@name` + space.
 */
export function parseTextContent(content: string): string {
  const s = emojiSpansToUnicode(content)
    .replace(QQ_FACE_SPAN_RE, (_, n: string) => `[qqemoji${n}]`)
    .replace(/<br\/>/g, '\n');
  return htmlDecode(s).replace(MENTION_SPACE_RE, '$1 ');
}

/** `@name` + U+2005, the way a mention travels inside text. */
export function mentionText(name: string): string {
  return `@${name}\u2005`;
}

/** System tips (MsgType 10000) quoted in the fixtures (msg10000-*), and the usual group-membership tips. */
export const SysText = {
  RED_PACKET: '收到红包，请在手机上查看',
  STRANGER_WARNING: '如果陌生人主动添加你为朋友，请谨慎核实对方身份。',
  friendAdded: (name: string): string => `你已添加了 ${name} ，现在可以开始聊天了。`,
  friendAddedEn: (name: string): string => `You have added ${name} as your WeChat contact. Start chatting!`,
  /** You invited members into a group. */
  youInvited: (names: string[]): string => `你邀请"${names.join('、')}"加入了群聊`,
  /** Someone invited members into a group. */
  invited: (inviter: string, names: string[]): string => `"${inviter}"邀请"${names.join('、')}"加入了群聊`,
  youRemoved: (name: string): string => `你将"${name}"移出了群聊`,
  renamed: (who: string, topic: string): string => `"${who}"修改群名为“${topic}”`,
  youRenamed: (topic: string): string => `你修改群名为“${topic}”`,
} as const;

/** A system tip's wire Content (same encoding as text). */
export function buildSysContent(text: string): string {
  return buildTextContent(text);
}
