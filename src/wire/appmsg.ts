/**
 * App messages (MsgType 49): the `<msg><appmsg …>` XML in Content — link (AppMsgType 5), file (6), music (3),
 * transfer (2000) and any other AppMsgType — plus the `<appmsg appid=… sdkver=''>` XML the web client sends with
 * webwxsendappmsg. Builders emit the server's byte layout (fixtures msg49-*); parsers accept every variant.
 * Source: shared/spec/wechat-web-protocol.md §6.2, §7.2.
 */
import { AppMsgType, WEB_APPMSG_APPID } from './constants.ts';
import { attrs, cdata, child, parseXml, text, wireToXml, xmlAttr, xmlEscape, xmlToWire } from './xmlcontent.ts';

export interface AppAttach {
  totallen: number;
  attachid: string;
  emoticonmd5: string;
  fileext: string;
  cdnattachurl: string;
  aeskey: string;
  encryver: string;
  cdnthumburl: string;
}

export interface WcPayInfo {
  paysubtype: string;
  feedesc: string;
  transcationid: string;
  transferid: string;
  invalidtime: string;
  begintransfertime: string;
  effectivedate: string;
  pay_memo: string;
}

export interface AppMsg {
  /** `<type>` (falls back to 0 when absent or not a number). */
  type: number;
  appid: string;
  sdkver: string;
  title: string;
  des: string;
  action: string;
  content: string;
  url: string;
  lowurl: string;
  dataurl: string;
  lowdataurl: string;
  thumburl: string;
  md5: string;
  attach: AppAttach;
  /** `<appinfo><appname>` / `<version>` (outside `<appmsg>`). */
  appname: string;
  appversion: string;
  fromusername: string;
  /** Only for transfers / red packets. */
  wcpay?: WcPayInfo;
  /** Only for quotes (AppMsgType 57): the quoted message. */
  refer?: ReferMsg;
}

/**
 * `<refermsg>` of a quote (AppMsgType 57): the quoted message's MsgType, server MsgId (`svrid`), chat (`fromusr`:
 * the group, or the person in a private chat), sender in a group (`chatusr`), sender's display name and Content.
 * User names here are wxids (the XML is the phone's), not the web session's `@…` ids.
 */
export interface ReferMsg {
  type: number;
  svrid: string;
  fromusr: string;
  chatusr: string;
  displayname: string;
  content: string;
  createtime: string;
}

/** Parses plain appmsg XML: `<msg><appmsg>…</appmsg><appinfo>…</appinfo></msg>` or a bare `<appmsg>` (sent form). */
export function parseAppMsgXml(xml: string): AppMsg | null {
  const doc = parseXml(xml);
  if (!doc) return null;
  const msg = child(doc, 'msg');
  const app = msg ? child(msg, 'appmsg') : child(doc, 'appmsg');
  if (!app) return null;
  const a = attrs(app);
  const att = child(app, 'appattach');
  const info = msg ? child(msg, 'appinfo') : undefined;
  const pay = child(app, 'wcpayinfo');
  const typeNum = Number(text(app, 'type'));
  const out: AppMsg = {
    type: Number.isFinite(typeNum) ? typeNum : 0,
    appid: a.appid ?? '',
    sdkver: a.sdkver ?? '',
    title: text(app, 'title'),
    des: text(app, 'des'),
    action: text(app, 'action'),
    content: text(app, 'content'),
    url: text(app, 'url'),
    lowurl: text(app, 'lowurl'),
    dataurl: text(app, 'dataurl'),
    lowdataurl: text(app, 'lowdataurl'),
    thumburl: text(app, 'thumburl'),
    md5: text(app, 'md5'),
    attach: {
      totallen: Number(text(att, 'totallen')) || 0,
      attachid: text(att, 'attachid'),
      emoticonmd5: text(att, 'emoticonmd5'),
      fileext: text(att, 'fileext'),
      cdnattachurl: text(att, 'cdnattachurl'),
      aeskey: text(att, 'aeskey'),
      encryver: text(att, 'encryver'),
      cdnthumburl: text(att, 'cdnthumburl'),
    },
    appname: text(info, 'appname'),
    appversion: text(info, 'version'),
    fromusername: msg ? text(msg, 'fromusername') : '',
  };
  const refer = child(app, 'refermsg');
  if (refer) {
    const t = Number(text(refer, 'type'));
    out.refer = {
      type: Number.isFinite(t) ? t : 0,
      svrid: text(refer, 'svrid'),
      fromusr: text(refer, 'fromusr'),
      chatusr: text(refer, 'chatusr'),
      displayname: text(refer, 'displayname'),
      content: text(refer, 'content'),
      createtime: text(refer, 'createtime'),
    };
  }
  if (pay) {
    out.wcpay = {
      paysubtype: text(pay, 'paysubtype'),
      feedesc: text(pay, 'feedesc'),
      transcationid: text(pay, 'transcationid'),
      transferid: text(pay, 'transferid'),
      invalidtime: text(pay, 'invalidtime'),
      begintransfertime: text(pay, 'begintransfertime'),
      effectivedate: text(pay, 'effectivedate'),
      pay_memo: text(pay, 'pay_memo'),
    };
  }
  return out;
}

/** Parses the wire Content of a MsgType 49 message (group prefix already removed). */
export function parseAppMsg(content: string): AppMsg | null {
  return parseAppMsgXml(wireToXml(content));
}

const el = (tag: string, value: string | number = ''): string => `<${tag}>${xmlEscape(String(value))}</${tag}>`;

export interface LinkAppMsgSpec {
  title: string;
  des?: string;
  url: string;
  thumburl?: string;
  appid?: string;
  appname?: string;
  /** `<appinfo><version>`; 1 in the capture. */
  appversion?: string | number;
  /** Thumbnail CDN fields of `<appattach>` as the phone sends them (optional). */
  cdnthumb?: { url: string; md5?: string; length: number; width: number; height: number; aeskey: string; encryver?: string };
}

/** AppMsgType 5 (link share), in the layout of a real capture (msg49-appmsg5-link.*). Returns wire Content. */
export function buildLinkAppMsgContent(s: LinkAppMsgSpec): string {
  const t = s.cdnthumb;
  const thumb = t
    ? el('cdnthumburl', t.url) + el('cdnthumbmd5', t.md5 ?? '') + el('cdnthumblength', t.length) +
      el('cdnthumbwidth', t.width) + el('cdnthumbheight', t.height) + el('cdnthumbaeskey', t.aeskey) +
      el('aeskey', t.aeskey) + el('encryver', t.encryver ?? '0')
    : '';
  const xml =
    `<msg><appmsg appid="${xmlAttr(s.appid ?? '')}" sdkver="0">${el('title', s.title)}${el('des', s.des ?? '')}` +
    `${el('action', 'view')}${el('type', AppMsgType.URL)}${el('showtype', 0)}${el('mediatagname')}${el('messageaction')}` +
    `${el('content')}${el('url', s.url)}${el('lowurl')}${el('dataurl')}${el('lowdataurl')}` +
    `<appattach>${el('totallen', 0)}${el('attachid')}${el('emoticonmd5')}${el('fileext')}${thumb}</appattach>` +
    `${el('extinfo')}${el('sourceusername')}${el('sourcedisplayname')}${el('commenturl')}${el('thumburl', s.thumburl ?? '')}` +
    `</appmsg>${el('fromusername')}${el('scene', 0)}<appinfo>${el('version', s.appversion ?? 1)}${el('appname', s.appname ?? '')}</appinfo>` +
    `${el('commenturl')}</msg>`;
  return xmlToWire(xml);
}

export interface FileAppMsgSpec {
  title: string;
  totallen: number;
  attachid: string;
  fileext: string;
  /** Sending client's appid; 微信电脑版 `wx6618f1cfc6c132f8` in the capture. */
  appid?: string;
  appname?: string;
  appversion?: string | number;
  cdnattachurl?: string;
  aeskey?: string;
  encryver?: string;
  md5?: string;
}

/** The appid of 微信电脑版 (desktop WeChat), sender of the file capture. */
export const DESKTOP_APPMSG_APPID = 'wx6618f1cfc6c132f8';

/** AppMsgType 6 (file), in the layout of msg49-appmsg6-file-group.wwdk (incl. its trailing `&lt;br/&gt;<br/>`). */
export function buildFileAppMsgContent(s: FileAppMsgSpec): string {
  const xml =
    `<msg><appmsg appid="${xmlAttr(s.appid ?? DESKTOP_APPMSG_APPID)}" sdkver="0">${el('title', s.title)}${el('des')}` +
    `${el('action', 'view')}${el('type', AppMsgType.ATTACH)}${el('showtype', 0)}${el('content')}${el('url')}` +
    `${el('dataurl')}${el('lowurl')}${el('lowdataurl')}<recorditem>${cdata('')}</recorditem>${el('thumburl')}` +
    `${el('messageaction')}${el('extinfo')}${el('sourceusername')}${el('sourcedisplayname')}${el('commenturl')}` +
    `<appattach>${el('totallen', s.totallen)}${el('attachid', s.attachid)}${el('emoticonmd5')}${el('fileext', s.fileext)}` +
    `${el('cdnattachurl', s.cdnattachurl ?? '')}${el('aeskey', s.aeskey ?? '')}${el('encryver', s.encryver ?? '1')}</appattach>` +
    `${el('md5', s.md5 ?? '')}</appmsg>${el('fromusername')}${el('scene', 0)}` +
    `<appinfo>${el('version', s.appversion ?? 7)}${el('appname', s.appname ?? '微信电脑版')}</appinfo>${el('commenturl')}</msg><br/>\n`;
  return xmlToWire(xml);
}

export interface MusicAppMsgSpec {
  title: string;
  des?: string;
  url?: string;
  dataurl: string;
  lowdataurl?: string;
  thumburl?: string;
  appid?: string;
  appname?: string;
  appversion?: string | number;
}

/** AppMsgType 3 (music share); element order of msg49-appmsg3-music-content.weixinbot (compact, as on the wire). */
export function buildMusicAppMsgContent(s: MusicAppMsgSpec): string {
  const xml =
    `<msg><appmsg appid="${xmlAttr(s.appid ?? '')}" sdkver="0">${el('title', s.title)}${el('des', s.des ?? '')}` +
    `${el('action')}${el('type', AppMsgType.AUDIO)}${el('showtype', 0)}${el('mediatagname')}${el('messageext')}` +
    `${el('messageaction')}${el('content')}${el('contentattr', 0)}${el('url', s.url ?? '')}${el('lowurl')}` +
    `${el('dataurl', s.dataurl)}${el('lowdataurl', s.lowdataurl ?? s.dataurl)}` +
    `<appattach>${el('totallen', 0)}${el('attachid')}${el('emoticonmd5')}${el('fileext')}</appattach>` +
    `${el('extinfo')}${el('sourceusername')}${el('sourcedisplayname')}${el('commenturl')}${el('thumburl', s.thumburl ?? '')}` +
    `${el('md5')}</appmsg>${el('fromusername')}${el('scene', 0)}` +
    `<appinfo>${el('version', s.appversion ?? 29)}${el('appname', s.appname ?? '')}</appinfo>${el('commenturl')}</msg>`;
  return xmlToWire(xml);
}

export interface TransferAppMsgSpec {
  /** e.g. `X向你转账0.10元。如需收钱，请点此升级至最新版本` */
  des: string;
  /** e.g. `￥0.10` */
  feedesc: string;
  title?: string;
  url?: string;
  paysubtype?: string | number;
  transcationid?: string;
  transferid?: string;
  invalidtime?: string | number;
  begintransfertime?: string | number;
  effectivedate?: string | number;
  pay_memo?: string;
}

const UPGRADE_URL =
  'https://support.weixin.qq.com/cgi-bin/mmsupport-bin/readtemplate?t=page/common_page__upgrade&text=text001&btn_text=btn_text_0';

/** AppMsgType 2000 (transfer), in the layout of msg49-appmsg2000-transfer-content.mojo-weixin (CDATA, `<br/>` lines). */
export function buildTransferAppMsgContent(s: TransferAppMsgSpec): string {
  const c = (tag: string, v: string | number = ''): string => `<${tag}>${cdata(String(v))}</${tag}>`;
  const url = s.url ?? UPGRADE_URL;
  const lines = [
    '<msg>', '<appmsg appid="" sdkver="">', c('title', s.title ?? '微信转账'), c('des', s.des), '<action></action>',
    `<type>${AppMsgType.TRANSFERS}</type>`, c('content'), c('url', url), c('thumburl', url), '<lowurl></lowurl>',
    '<extinfo>', '</extinfo>', '<wcpayinfo>', `<paysubtype>${xmlEscape(String(s.paysubtype ?? 1))}</paysubtype>`,
    c('feedesc', s.feedesc), c('transcationid', s.transcationid ?? ''), c('transferid', s.transferid ?? ''),
    c('invalidtime', s.invalidtime ?? ''), c('begintransfertime', s.begintransfertime ?? ''),
    c('effectivedate', s.effectivedate ?? 1), c('pay_memo', s.pay_memo ?? ''), '', '</wcpayinfo>', '</appmsg>', '</msg>',
  ];
  return xmlToWire(lines.join('\n'));
}

export interface GenericAppMsgSpec {
  type: number;
  title: string;
  des?: string;
  url?: string;
  thumburl?: string;
  appid?: string;
  appname?: string;
}

/** Any other AppMsgType (mini program 33, quote 57, …): the common element skeleton. Returns wire Content. */
export function buildGenericAppMsgContent(s: GenericAppMsgSpec): string {
  const xml =
    `<msg><appmsg appid="${xmlAttr(s.appid ?? '')}" sdkver="0">${el('title', s.title)}${el('des', s.des ?? '')}` +
    `${el('action', 'view')}${el('type', s.type)}${el('showtype', 0)}${el('content')}${el('url', s.url ?? '')}` +
    `${el('lowurl')}${el('dataurl')}${el('lowdataurl')}` +
    `<appattach>${el('totallen', 0)}${el('attachid')}${el('emoticonmd5')}${el('fileext')}</appattach>` +
    `${el('extinfo')}${el('sourceusername')}${el('sourcedisplayname')}${el('commenturl')}${el('thumburl', s.thumburl ?? '')}` +
    `</appmsg>${el('fromusername')}${el('scene', 0)}<appinfo>${el('version', 1)}${el('appname', s.appname ?? '')}</appinfo>` +
    `${el('commenturl')}</msg>`;
  return xmlToWire(xml);
}

export interface ReferAppMsgSpec {
  /** The reply text. */
  title: string;
  refer: ReferMsg;
  /** The quoting user's wxid (`<fromusername>`). */
  fromusername: string;
}

/**
 * AppMsgType 57 (a quote). No capture of one is in the fixtures: the element order follows the quote XML public
 * WeChat tools build and parse (wechaty's refermsg fields: type, svrid, fromusr, chatusr, displayname, content).
 */
export function buildReferAppMsgContent(s: ReferAppMsgSpec): string {
  const r = s.refer;
  const xml =
    `<msg><appmsg appid="" sdkver="0">${el('title', s.title)}${el('des')}${el('action')}${el('type', AppMsgType.REFER)}` +
    `${el('showtype', 0)}${el('soundtype', 0)}${el('mediatagname')}${el('messageext')}${el('messageaction')}${el('content')}` +
    `${el('contentattr', 0)}${el('url')}${el('lowurl')}${el('dataurl')}${el('lowdataurl')}${el('songalbumurl')}${el('songlyric')}` +
    `<appattach>${el('totallen', 0)}${el('attachid')}${el('emoticonmd5')}${el('fileext')}${el('aeskey')}</appattach>` +
    `${el('extinfo')}${el('sourceusername')}${el('sourcedisplayname')}${el('thumburl')}${el('md5')}${el('statextstr')}` +
    `<refermsg>${el('type', r.type)}${el('svrid', r.svrid)}${el('fromusr', r.fromusr)}${el('chatusr', r.chatusr)}` +
    `${el('displayname', r.displayname)}${el('content', r.content)}${el('createtime', r.createtime)}</refermsg>` +
    `</appmsg>${el('fromusername', s.fromusername)}${el('scene', 0)}<appinfo>${el('version', 1)}${el('appname')}</appinfo>` +
    `${el('commenturl')}</msg>`;
  return xmlToWire(xml);
}

export interface SendFileAppMsgSpec {
  name: string;
  size: number;
  mediaId: string;
  ext: string;
  /** UOS desktop mode sends appid ''; plain web mode `wxeb7ec651dd0aefa9`. */
  desktop?: boolean;
}

/**
 * The plain (unescaped) `Msg.Content` the web client posts to webwxsendappmsg for a file
 * (webwxsendappmsg-file-request.wwdk; single-quoted attributes).
 */
export function buildSendFileAppMsgXml(s: SendFileAppMsgSpec): string {
  const appid = s.desktop ? '' : WEB_APPMSG_APPID;
  return (
    `<appmsg appid='${appid}' sdkver=''>${el('title', s.name)}<des></des><action></action><type>${AppMsgType.ATTACH}</type>` +
    `<content></content><url></url><lowurl></lowurl><appattach>${el('totallen', s.size)}${el('attachid', s.mediaId)}` +
    `${el('fileext', s.ext)}</appattach><extinfo></extinfo></appmsg>`
  );
}
