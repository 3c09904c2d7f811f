/**
 * Media message Contents: image (3) `<msg><img length= hdlength= /><commenturl></commenturl></msg>`, voice (34)
 * `<msg><voicemsg … /></msg>`, emoticon (47) `<msg><emoji …></emoji><gameext …></gameext></msg>`, and the opaque
 * `@<hex>` blob that 2018+ servers send for images, voice and video. All escaped on the wire.
 * Source: fixtures msg3-*, msg34-*, msg43-*, msg47-*, legacy-2014-msg3-image.qwx, webwxsync-emoji47-…qjesus.
 */
import { createHash } from 'node:crypto';
import { attrList, parseXml, wireToXml, xmlToWire, type XmlNode } from './xmlcontent.ts';

export type MediaContentKind = 'img' | 'voicemsg' | 'videomsg' | 'emoji' | 'opaque' | 'empty' | 'other';

export interface MediaContent {
  kind: MediaContentKind;
  /** Attributes of the media element (`img`, `voicemsg`, `videomsg`, `emoji`). */
  attrs: Record<string, string>;
  /** The `@<hex>` blob for kind `opaque`. */
  opaque?: string;
}

const OPAQUE_RE = /^@[0-9a-f]+$/i;

/** Classifies and parses a media Content (group prefix removed). Never throws. */
export function parseMediaContent(content: string): MediaContent {
  const c = content.trim();
  if (c === '') return { kind: 'empty', attrs: {} };
  if (OPAQUE_RE.test(c) || (c.startsWith('@') && !c.includes('&lt;') && !c.includes('<'))) {
    return { kind: 'opaque', attrs: {}, opaque: c };
  }
  const doc = parseXml(wireToXml(c));
  const msg = doc?.msg as XmlNode | undefined;
  if (msg && typeof msg === 'object') {
    for (const k of ['img', 'voicemsg', 'videomsg', 'emoji'] as const) {
      const e = msg[k];
      if (e !== undefined) {
        const node = (Array.isArray(e) ? e[0] : e) as XmlNode | string;
        const a = typeof node === 'object' ? ((node.$ as Record<string, string> | undefined) ?? {}) : {};
        return { kind: k, attrs: a };
      }
    }
  }
  return { kind: 'other', attrs: {} };
}

/** Image Content in the plain form (legacy-2014-msg3-image.qwx): `<msg><img length="…" hdlength="0" /><commenturl></commenturl></msg>`. */
export function buildImageContent(s: { length: number; hdlength?: number }): string {
  return xmlToWire(`<msg><img ${attrList([['length', s.length], ['hdlength', s.hdlength ?? 0]])} /><commenturl></commenturl></msg>`);
}

export interface VoiceSpec {
  voicelength: number;
  length: number;
  bufid: string;
  clientmsgid: string;
  fromusername?: string;
  voiceformat?: number;
}

/** Voice Content (msg34-voice-content.weixinbot, compact). */
export function buildVoiceContent(s: VoiceSpec): string {
  const a = attrList([
    ['endflag', 1], ['cancelflag', 0], ['forwardflag', 0], ['voiceformat', s.voiceformat ?? 4], ['voicelength', s.voicelength],
    ['length', s.length], ['bufid', s.bufid], ['clientmsgid', s.clientmsgid], ['fromusername', s.fromusername ?? ''],
  ]);
  return xmlToWire(`<msg><voicemsg ${a} /></msg>`);
}

export interface EmoticonSpec {
  md5: string;
  len: number;
  cdnurl: string;
  encrypturl?: string;
  aeskey?: string;
  externurl?: string;
  externmd5?: string;
  width?: number;
  height?: number;
  productid?: string;
  fromusername?: string;
  tousername?: string;
  thumburl?: string;
}

/** Emoticon Content, attribute for attribute as in the qjesus webwxsync capture. */
export function buildEmoticonContent(s: EmoticonSpec): string {
  const a = attrList([
    ['fromusername', s.fromusername ?? ''], ['tousername', s.tousername ?? ''], ['type', 2], ['idbuffer', 'media:0_0'],
    ['md5', s.md5], ['len', s.len], ['productid', s.productid ?? ''], ['androidmd5', s.md5], ['androidlen', s.len],
    ['s60v3md5', s.md5], ['s60v3len', s.len], ['s60v5md5', s.md5], ['s60v5len', s.len], ['cdnurl', s.cdnurl],
    ['designerid', ''], ['thumburl', s.thumburl ?? ''], ['encrypturl', s.encrypturl ?? s.cdnurl], ['aeskey', s.aeskey ?? ''],
    ['externurl', s.externurl ?? ''], ['externmd5', s.externmd5 ?? ''], ['width', s.width ?? 0], ['height', s.height ?? 0],
    ['tpurl', ''], ['tpauthkey', ''], ['attachedtext', ''],
  ]);
  return xmlToWire(`<msg><emoji ${a}></emoji><gameext type="0" content="0"></gameext></msg>`);
}

/** Hex length of the opaque blob in the qjesus video capture (1697 characters with the `@`). */
export const OPAQUE_MEDIA_HEX_CHARS = 1696;

/**
 * The opaque `@<hex>` Content 2018+ servers send for image/voice/video; derived deterministically from `seed`
 * (e.g. the MsgId) so the same message always gets the same blob.
 */
export function buildOpaqueMediaContent(seed: string, hexChars: number = OPAQUE_MEDIA_HEX_CHARS): string {
  let out = '';
  let block = seed;
  while (out.length < hexChars) {
    block = createHash('sha256').update(block).digest('hex');
    out += block;
  }
  return `@${out.slice(0, hexChars)}`;
}
