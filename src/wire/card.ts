/**
 * Share card (MsgType 42): Content `<?xml version="1.0"?>\n<msg bigheadimgurl=… username=… nickname=…  shortpy=… />\n`
 * (escaped), with the carded contact also in RecommendInfo. Source: fixtures msg42-*; protocol §6.2.
 */
import { attrs, attrList, child, parseXml, wireToXml, xmlToWire } from './xmlcontent.ts';

export interface ShareCard {
  username: string;
  nickname: string;
  alias: string;
  province: string;
  city: string;
  sign: string;
  /** Raw `sex` attribute: "1" male, "2" female, "0" unknown. */
  sex: string;
  bigheadimgurl: string;
  smallheadimgurl: string;
  certflag: string;
  regionCode: string;
  antispamticket: string;
}

/** Parses a card Content (wire form, group prefix removed); null when it holds no `<msg>` element. */
export function parseCardContent(content: string): ShareCard | null {
  const msg = child(parseXml(wireToXml(content)) ?? undefined, 'msg');
  if (!msg) return null;
  const a = attrs(msg);
  return {
    username: a.username ?? '',
    nickname: a.nickname ?? '',
    alias: a.alias ?? '',
    province: a.province ?? '',
    city: a.city ?? '',
    sign: a.sign ?? '',
    sex: a.sex ?? '',
    bigheadimgurl: a.bigheadimgurl ?? '',
    smallheadimgurl: a.smallheadimgurl ?? '',
    certflag: a.certflag ?? '',
    regionCode: a.regionCode ?? '',
    antispamticket: a.antispamticket ?? '',
  };
}

export type CardSpec = Partial<ShareCard> & { username: string; nickname: string };

/** Builds the wire Content of a personal card (layout of msg42-card-group.wwdk, incl. the double space). */
export function buildCardContent(c: CardSpec): string {
  const head = attrList([
    ['bigheadimgurl', c.bigheadimgurl ?? ''], ['smallheadimgurl', c.smallheadimgurl ?? ''],
    ['username', c.username], ['nickname', c.nickname],
  ]);
  const tail: [string, string][] = [
    ['shortpy', ''], ['alias', c.alias ?? ''], ['imagestatus', '3'], ['scene', '17'], ['province', c.province ?? ''],
    ['city', c.city ?? ''], ['sign', c.sign ?? ''], ['sex', c.sex ?? '0'], ['certflag', c.certflag ?? '0'],
    ['certinfo', ''], ['brandIconUrl', ''], ['brandHomeUrl', ''], ['brandSubscriptConfigUrl', ''], ['brandFlags', '0'],
    ['regionCode', c.regionCode ?? ''],
  ];
  if (c.antispamticket) tail.push(['antispamticket', c.antispamticket]);
  return xmlToWire(`<?xml version="1.0"?>\n<msg ${head}  ${attrList(tail)} />\n`);
}
