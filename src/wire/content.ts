/**
 * Message content encodings: HTML entities, `<br/>` line breaks, emoji spans and the group `@sender:<br/>` prefix.
 * Source: shared/spec/wechat-web-protocol.md §6.1.
 */
import { GROUP_SENDER_RE } from './ids.ts';

/** The official client's htmlDecode: `&lt; &gt; &#39; &quot; &amp;`. */
export function htmlDecode(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
}

/** How the server escapes XML payloads inside Content: `<` and `>` (and `&`), quotes left raw. */
export function htmlEncodeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Text content: the server escapes `<`, `>`, `&` and turns newlines into `<br/>`. */
export function encodeTextContent(s: string): string {
  return htmlEncodeXml(s).replace(/\r?\n/g, '<br/>');
}

export function decodeTextContent(s: string): string {
  return htmlDecode(s.replace(/<br\/>/g, '\n'));
}

const EMOJI_SPAN_RE = /<span class="emoji emoji([0-9a-f]+)"><\/span>/gi;

/** Splits a span id such as `1f1e81f1f3` into code points (each 4 or 5 hex digits). */
export function emojiIdToString(id: string): string {
  const cps: number[] = [];
  let rest = id.toLowerCase();
  while (rest.length > 0) {
    const five = rest.length >= 5 ? parseInt(rest.slice(0, 5), 16) : NaN;
    if (rest.length >= 5 && rest.startsWith('1') && five >= 0x1f000 && five <= 0x1ffff) {
      cps.push(five);
      rest = rest.slice(5);
    } else {
      cps.push(parseInt(rest.slice(0, 4), 16));
      rest = rest.slice(4);
    }
  }
  return String.fromCodePoint(...cps.filter((c) => Number.isFinite(c)));
}

/** `<span class="emoji emoji1f600"></span>` → 😀 */
export function emojiSpansToUnicode(s: string): string {
  return s.replace(EMOJI_SPAN_RE, (_, id: string) => emojiIdToString(id));
}

const EMOJI_CHAR_RE = /\p{Extended_Pictographic}(?:\uFE0F|\u200D\p{Extended_Pictographic})*/gu;

/** 😀 → `<span class="emoji emoji1f600"></span>` (what the server sends for emoji in names and text). */
export function unicodeToEmojiSpans(s: string): string {
  return s.replace(EMOJI_CHAR_RE, (m) => {
    const id = [...m]
      .map((c) => c.codePointAt(0)!)
      .filter((cp) => cp !== 0xfe0f && cp !== 0x200d)
      .map((cp) => cp.toString(16))
      .join('');
    return `<span class="emoji emoji${id}"></span>`;
  });
}

/** Splits `@sender:<br/>rest` of a group message. */
export function splitGroupContent(content: string): { sender: string | null; content: string } {
  const m = GROUP_SENDER_RE.exec(content);
  if (!m) return { sender: null, content };
  return { sender: m[1]!, content: content.slice(m[0].length) };
}

export function joinGroupContent(sender: string, content: string): string {
  return `${sender}:<br/>${content}`;
}
