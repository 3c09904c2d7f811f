/**
 * Location: MsgType 1 with SubMsgType 48. Content `<label>:<br/>/cgi-bin/mmwebwx-bin/webwxgetpubliclinkimg?url=…&msgid=…&pictype=location`,
 * Url `http://apis.map.qq.com/uri/v1/geocoder?coord=<lat>,<lng>`, OriContent (plain XML)
 * `<?xml version="1.0"?>\n<msg>\n\t<location x= y= scale= label= maptype= poiname= poiid= />\n</msg>\n`.
 * The official client forwards a location as MsgType 48 with Content = OriContent. Source: protocol §6.2; fixture
 * msg1-location-submsgtype48.wwdk.
 */
import { MsgType } from './constants.ts';
import { htmlDecode, htmlEncodeXml } from './content.ts';
import { attrs, attrList, child, parseXml, wireToXml } from './xmlcontent.ts';

export const LOCATION_SUBMSGTYPE = MsgType.LOCATION;

export interface LocationMsg {
  label: string;
  /** Latitude (`x`), as the string the server sends. */
  x: string;
  /** Longitude (`y`). */
  y: string;
  scale: string;
  maptype: string;
  poiname: string;
  poiid: string;
  /** Map link (`Url`). */
  url: string;
  /** Map thumbnail path from Content. */
  imagePath: string;
}

const MAP_URL_RE = /coord=(-?[\d.]+),(-?[\d.]+)/;

/**
 * Parses a location from the message fields (group prefix already removed from `content`). Accepts the MsgType 1 +
 * SubMsgType 48 form and the MsgType 48 form (Content = the location XML). Null when nothing location-like is found.
 */
export function parseLocation(m: { content: string; url?: string; oriContent?: string }): LocationMsg | null {
  const out: LocationMsg = { label: '', x: '', y: '', scale: '', maptype: '', poiname: '', poiid: '', url: m.url ?? '', imagePath: '' };
  let found = false;
  const xmlSource = m.oriContent && m.oriContent.includes('<location') ? m.oriContent : wireToXml(m.content);
  const loc = child(child(parseXml(xmlSource) ?? undefined, 'msg'), 'location');
  if (loc) {
    const a = attrs(loc);
    Object.assign(out, {
      label: a.label ?? '', x: a.x ?? '', y: a.y ?? '', scale: a.scale ?? '', maptype: a.maptype ?? '',
      poiname: a.poiname ?? '', poiid: a.poiid ?? '',
    });
    found = true;
  }
  const i = m.content.indexOf(':<br/>');
  if (i >= 0 && m.content.slice(i + 6).includes('pictype=location')) {
    if (!out.label) out.label = htmlDecode(m.content.slice(0, i));
    out.imagePath = m.content.slice(i + 6);
    found = true;
  }
  const c = MAP_URL_RE.exec(out.url);
  if (c) {
    if (!out.x) out.x = c[1]!;
    if (!out.y) out.y = c[2]!;
    found = true;
  }
  return found ? out : null;
}

export interface LocationSpec {
  label: string;
  lat: number | string;
  lng: number | string;
  msgId: string;
  scale?: number | string;
  poiname?: string;
  poiid?: string;
  /** The opaque `url=` token of the map thumbnail link. */
  imageToken?: string;
}

const coord = (v: number | string): string => (typeof v === 'number' ? v.toFixed(6) : v);

/** The RawMessage fields of a received location (MsgType 1): Content, Url, OriContent, SubMsgType. */
export function buildLocationFields(s: LocationSpec): { Content: string; Url: string; OriContent: string; SubMsgType: number } {
  const x = coord(s.lat);
  const y = coord(s.lng);
  const loc = attrList([
    ['x', x], ['y', y], ['scale', s.scale ?? 16], ['label', s.label], ['maptype', 0], ['poiname', s.poiname ?? '[位置]'],
    ['poiid', s.poiid ?? ''],
  ]);
  return {
    Content: `${htmlEncodeXml(s.label)}:<br/>/cgi-bin/mmwebwx-bin/webwxgetpubliclinkimg?url=${s.imageToken ?? 'xxx'}&msgid=${s.msgId}&pictype=location`,
    Url: `http://apis.map.qq.com/uri/v1/geocoder?coord=${x},${y}`,
    OriContent: `<?xml version="1.0"?>\n<msg>\n\t<location ${loc} />\n</msg>\n`,
    SubMsgType: LOCATION_SUBMSGTYPE,
  };
}
