/**
 * Friend request (MsgType 37, From `fmessage`): Content `<msg fromusername=… encryptusername=… fromnickname=…
 * content=… ticket=… opcode="2" …><brandlist …></brandlist></msg>` (escaped) and the RecommendInfo object.
 * Source: fixtures msg37-*; protocol §6.2.
 */
import type { RecommendInfo } from './types.ts';
import { attrs, attrList, child, parseXml, wireToXml, xmlToWire } from './xmlcontent.ts';

export interface VerifyMsg {
  fromusername: string;
  encryptusername: string;
  fromnickname: string;
  /** The verification text the requester typed. */
  content: string;
  ticket: string;
  opcode: string;
  scene: string;
  sex: string;
  alias: string;
  country: string;
  province: string;
  city: string;
  sign: string;
  bigheadimgurl: string;
  smallheadimgurl: string;
  chatroomusername: string;
  sourceusername: string;
  sourcenickname: string;
}

const KEYS: (keyof VerifyMsg)[] = [
  'fromusername', 'encryptusername', 'fromnickname', 'content', 'ticket', 'opcode', 'scene', 'sex', 'alias', 'country',
  'province', 'city', 'sign', 'bigheadimgurl', 'smallheadimgurl', 'chatroomusername', 'sourceusername', 'sourcenickname',
];

/** Parses the wire Content of a MsgType 37 message; null when it is not a `<msg>` element. */
export function parseVerifyContent(content: string): VerifyMsg | null {
  const msg = child(parseXml(wireToXml(content)) ?? undefined, 'msg');
  if (!msg) return null;
  const a = attrs(msg);
  const out = {} as VerifyMsg;
  for (const k of KEYS) out[k] = a[k] ?? '';
  return out;
}

export interface VerifySpec {
  fromusername: string;
  encryptusername: string;
  fromnickname: string;
  content: string;
  ticket: string;
  shortpy?: string;
  scene?: string | number;
  country?: string;
  province?: string;
  city?: string;
  sign?: string;
  percard?: string | number;
  sex?: string | number;
  alias?: string;
  albumbgimgid?: string;
  snsflag?: string | number;
  snsbgimgid?: string;
  snsbgobjectid?: string;
  bigheadimgurl?: string;
  smallheadimgurl?: string;
  opcode?: string | number;
  chatroomusername?: string;
  brandlistVer?: string | number;
}

/** Builds the wire Content of a friend request, attribute for attribute as in msg37-…wechaty-web (a real capture). */
export function buildVerifyContent(s: VerifySpec): string {
  const head = attrList([
    ['fromusername', s.fromusername], ['encryptusername', s.encryptusername], ['fromnickname', s.fromnickname],
    ['content', s.content],
  ]);
  const tail = attrList([
    ['shortpy', s.shortpy ?? ''], ['imagestatus', '3'], ['scene', s.scene ?? 14], ['country', s.country ?? ''],
    ['province', s.province ?? ''], ['city', s.city ?? ''], ['sign', s.sign ?? ''], ['percard', s.percard ?? 0],
    ['sex', s.sex ?? 0], ['alias', s.alias ?? ''], ['weibo', ''], ['weibonickname', ''], ['albumflag', '0'],
    ['albumstyle', '0'], ['albumbgimgid', s.albumbgimgid ?? ''], ['snsflag', s.snsflag ?? 1],
    ['snsbgimgid', s.snsbgimgid ?? ''], ['snsbgobjectid', s.snsbgobjectid ?? '0'], ['mhash', ''], ['mfullhash', ''],
    ['bigheadimgurl', s.bigheadimgurl ?? ''], ['smallheadimgurl', s.smallheadimgurl ?? ''], ['ticket', s.ticket],
    ['opcode', s.opcode ?? 2], ['googlecontact', ''], ['qrticket', ''], ['chatroomusername', s.chatroomusername ?? ''],
    ['sourceusername', ''], ['sourcenickname', ''],
  ]);
  const brand = `<brandlist count="0" ver="${s.brandlistVer ?? 670564024}"></brandlist>`;
  return xmlToWire(`<msg ${head}  ${tail}>${brand}</msg>`);
}

/** An all-empty RecommendInfo, exactly as the server sends it on every non-37/42 message. */
export function emptyRecommendInfo(): RecommendInfo {
  return {
    UserName: '', NickName: '', QQNum: 0, Province: '', City: '', Content: '', Signature: '', Alias: '', Scene: 0,
    VerifyFlag: 0, AttrStatus: 0, Sex: 0, Ticket: '', OpCode: 0,
  };
}

/** RecommendInfo with the server's key order; unspecified keys default to empty/0. */
export function buildRecommendInfo(r: Partial<RecommendInfo>): RecommendInfo {
  return { ...emptyRecommendInfo(), ...r };
}
