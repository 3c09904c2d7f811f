/**
 * The wire form of XML payloads inside a message `Content` (appmsg, card, verify, revoke, status notify, media).
 * The server HTML-escapes the XML (`&lt;msg&gt;…`, attribute quotes left raw) and turns line breaks into `<br/>`;
 * emoji inside texts travel as raw `<span class="emoji emojiXXXX"></span>` tags.
 * Source: shared/spec/wechat-web-protocol.md §6.1; fixtures msg*.json / webwxsync-*.json.
 */
import { XMLParser } from 'fast-xml-parser';
import { emojiSpansToUnicode, htmlDecode, htmlEncodeXml, unicodeToEmojiSpans } from './content.ts';

/** A parsed element: child elements by tag, attributes under `$`, text as a string. */
export type XmlNode = { [tag: string]: XmlValue } & { $?: Record<string, string> };
export type XmlValue = string | XmlNode | XmlValue[];

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  attributesGroupName: '$',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  isArray: (name) => name === 'chat',
});

/** Wire Content (escaped, `<br/>` breaks, raw emoji spans) → plain XML text. */
export function wireToXml(content: string): string {
  return htmlDecode(emojiSpansToUnicode(content).replace(/<br\/>/g, '\n'));
}

/** Plain XML text → wire Content: escape `& < >`, newlines → `<br/>`, emoji → spans (quotes stay raw). */
export function xmlToWire(xml: string): string {
  return unicodeToEmojiSpans(htmlEncodeXml(xml).replace(/\r?\n/g, '<br/>'));
}

/** Parses XML leniently; `null` when the text holds no element at all. Never throws. */
export function parseXml(xml: string): XmlNode | null {
  if (!/<[A-Za-z]/.test(xml)) return null;
  try {
    const doc = parser.parse(xml) as XmlNode;
    return doc && typeof doc === 'object' && Object.keys(doc).length > 0 ? doc : null;
  } catch {
    return null;
  }
}

/** Parses the wire Content of an XML payload. */
export function parseWireXml(content: string): XmlNode | null {
  return parseXml(wireToXml(content));
}

/** Child element (the first when repeated). */
export function child(node: XmlValue | undefined, tag: string): XmlNode | undefined {
  if (!node || typeof node === 'string') return undefined;
  const n = Array.isArray(node) ? node[0] : node;
  if (!n || typeof n === 'string' || Array.isArray(n)) return undefined;
  const c = n[tag];
  if (c === undefined) return undefined;
  const first = Array.isArray(c) ? c[0] : c;
  if (typeof first === 'string') return { '#text': first } as XmlNode;
  return first as XmlNode | undefined;
}

/** Text of a child element ("" when absent); CDATA is merged into the text. */
export function text(node: XmlValue | undefined, tag: string): string {
  if (!node || typeof node === 'string') return '';
  const n = Array.isArray(node) ? node[0] : node;
  if (!n || typeof n === 'string' || Array.isArray(n)) return '';
  const c = n[tag];
  const first = Array.isArray(c) ? c[0] : c;
  if (first === undefined) return '';
  if (typeof first === 'string') return first;
  const t = (first as XmlNode)['#text'];
  return typeof t === 'string' ? t : '';
}

/** Attributes of an element ({} when none). */
export function attrs(node: XmlNode | undefined): Record<string, string> {
  return (node?.$ as Record<string, string> | undefined) ?? {};
}

/** Escapes an XML attribute value (double-quoted). */
export function xmlAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Escapes XML element text. */
export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** `<![CDATA[…]]>`, splitting a `]]>` inside the text. */
export function cdata(s: string): string {
  return `<![CDATA[${s.replace(/]]>/g, ']]]]><![CDATA[>')}]]>`;
}

/** `name="value"` pairs in the given order, joined by one space. */
export function attrList(pairs: [string, string | number][]): string {
  return pairs.map(([k, v]) => `${k}="${xmlAttr(String(v))}"`).join(' ');
}
