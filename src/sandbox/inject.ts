/**
 * Inbound message bodies per injectable type: every Content is built by the wire codecs in src/wire (msgcontent,
 * mediamsg, appmsg, card, verifymsg, sysmsg, location), so the sandbox and the client share one encoding. This file
 * only chooses the fields of the AddMsgList entry and the bytes downloadable for it.
 */
import { createHash } from 'node:crypto';
import { AppMsgType, MsgType } from '../wire/constants.ts';
import { buildSysContent, buildTextContent } from '../wire/msgcontent.ts';
import { buildEmoticonContent, buildOpaqueMediaContent } from '../wire/mediamsg.ts';
import { buildFileAppMsgContent, buildLinkAppMsgContent, buildReferAppMsgContent, buildTransferAppMsgContent, DESKTOP_APPMSG_APPID, type ReferMsg } from '../wire/appmsg.ts';
import { buildCardContent } from '../wire/card.ts';
import { buildVerifyContent } from '../wire/verifymsg.ts';
import { buildRevokeContent, revokeReplaceText } from '../wire/sysmsg.ts';
import { buildLocationFields } from '../wire/location.ts';
import type { RawMessageSpec } from '../wire/rawmessage.ts';
import type { MediaKit } from './media-gen.ts';
import type { StoredMessage } from './sessions.ts';
import type { PersonSpec } from './world.ts';

export const INJECT_TYPES = [
  'text', 'image', 'voice', 'video', 'emoticon', 'file', 'link', 'card', 'system', 'revoke', 'transfer', 'friend_request', 'location',
  'quote',
] as const;
export type InjectType = (typeof INJECT_TYPES)[number];

export type Fields = Partial<Omit<RawMessageSpec, 'MsgId' | 'FromUserName' | 'ToUserName'>> & { MsgType: number };

export interface BuiltMessage {
  fields: Fields;
  media?: StoredMessage['media'];
  /** A file's MediaId: its bytes are downloadable through webwxgetmedia. */
  fileMedia?: { mediaId: string; bytes: Buffer; fileName: string };
}

/** `IMG_1854.JPG` → `IMG%5F1854%2EJPG` (EncryFileName: everything but letters and digits percent-encoded). */
export function encryFileName(name: string): string {
  return encodeURIComponent(name).replace(/[-_.!~*'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function newMediaId(): string {
  const h = createHash('sha256').update(`${Date.now()}:${Math.random()}`).digest('hex');
  return `@crypt_${h.slice(0, 8)}_${h.slice(8)}${createHash('sha256').update(h).digest('hex')}`;
}

export interface BuildContext {
  msgId: string;
  content?: string;
  title?: string;
  url?: string;
  fileName?: string;
  media: MediaKit;
  /** Who the message is from (for card/revoke/transfer wording). */
  senderNick: string;
}

export function buildText(text: string): BuiltMessage {
  return { fields: { MsgType: MsgType.TEXT, Content: buildTextContent(text) } };
}

export function buildSystem(text: string): BuiltMessage {
  return { fields: { MsgType: MsgType.SYS, Content: buildSysContent(text) } };
}

export function buildImage(c: BuildContext): BuiltMessage {
  return {
    fields: { MsgType: MsgType.IMAGE, Content: buildOpaqueMediaContent(c.msgId), ImgHeight: 240, ImgWidth: 320 },
    media: { kind: 'image', bytes: c.media.image, thumb: c.media.imageThumb },
  };
}

export function buildVoice(c: BuildContext): BuiltMessage {
  const ms = Number(c.content) > 0 ? Math.round(Number(c.content)) : 3215;
  return {
    fields: { MsgType: MsgType.VOICE, Content: buildOpaqueMediaContent(c.msgId), VoiceLength: ms },
    media: { kind: 'voice', bytes: c.media.voice },
  };
}

export function buildVideo(c: BuildContext): BuiltMessage {
  return {
    fields: { MsgType: MsgType.VIDEO, Content: buildOpaqueMediaContent(c.msgId), PlayLength: 3, ImgHeight: 90, ImgWidth: 160 },
    media: { kind: 'video', bytes: c.media.video, thumb: c.media.videoThumb },
  };
}

export function buildEmoticon(c: BuildContext): BuiltMessage {
  const bytes = c.media.emoticon;
  const md5 = createHash('md5').update(bytes).digest('hex');
  return {
    fields: {
      MsgType: MsgType.EMOTICON,
      Content: buildEmoticonContent({ md5, len: bytes.length, cdnurl: `http://emoji.qpic.cn/wx_emoji/${md5}/`, width: 80, height: 80 }),
      ImgHeight: 80,
      ImgWidth: 80,
    },
    media: { kind: 'emoticon', bytes, thumb: bytes },
  };
}

export function buildFile(c: BuildContext): BuiltMessage {
  const fileName = c.fileName || c.content || '季度报告.pdf';
  const bytes = c.media.file;
  const mediaId = newMediaId();
  const ext = fileName.includes('.') ? fileName.slice(fileName.lastIndexOf('.') + 1) : '';
  return {
    fields: {
      MsgType: MsgType.APP,
      AppMsgType: AppMsgType.ATTACH,
      Content: buildFileAppMsgContent({
        title: fileName,
        totallen: bytes.length,
        attachid: `@cdn_${mediaId.slice(7, 23)}_1`,
        fileext: ext,
        md5: createHash('md5').update(bytes).digest('hex'),
      }),
      FileName: fileName,
      FileSize: String(bytes.length),
      MediaId: mediaId,
      EncryFileName: encryFileName(fileName),
      AppInfo: { AppID: DESKTOP_APPMSG_APPID, Type: 0 },
    },
    media: { kind: 'file', bytes, fileName },
    fileMedia: { mediaId, bytes, fileName },
  };
}

export function buildLink(c: BuildContext): BuiltMessage {
  const url = c.url || (c.content && /^https?:\/\//.test(c.content) ? c.content : 'https://mp.weixin.qq.com/s/openwx-sandbox');
  const title = c.title || (c.content && !/^https?:\/\//.test(c.content) ? c.content : '沙盒里的一篇好文章');
  return {
    fields: {
      MsgType: MsgType.APP,
      AppMsgType: AppMsgType.URL,
      Content: buildLinkAppMsgContent({ title, des: '点击阅读全文', url, thumburl: 'http://mmbiz.qpic.cn/mmbiz_jpg/sandbox/0' }),
      FileName: title,
      FileSize: '0',
      Url: url,
    },
  };
}

export function buildTransfer(c: BuildContext): BuiltMessage {
  const amount = c.content && /^\d+(\.\d+)?$/.test(c.content) ? Number(c.content).toFixed(2) : '0.10';
  const now = Math.floor(Date.now() / 1000);
  return {
    fields: {
      MsgType: MsgType.APP,
      AppMsgType: AppMsgType.TRANSFERS,
      Content: buildTransferAppMsgContent({
        des: `${c.senderNick}向你转账${amount}元。如需收钱，请点此升级至最新版本`,
        feedesc: `￥${amount}`,
        transcationid: `1000050201${c.msgId}`,
        transferid: `10000502012${c.msgId.slice(0, 18)}`,
        invalidtime: now + 86400,
        begintransfertime: now,
      }),
      FileName: '微信转账',
      FileSize: '0',
      Url: 'https://support.weixin.qq.com/cgi-bin/mmsupport-bin/readtemplate?t=page/common_page__upgrade&text=text001&btn_text=btn_text_0',
    },
  };
}

/** A personal card of `p` (`userName` = the card person's id in this session). */
export function buildCard(p: PersonSpec, userName: string): BuiltMessage {
  return {
    fields: {
      MsgType: MsgType.SHARECARD,
      Content: buildCardContent({ username: p.id, nickname: p.nickName, province: p.province ?? '', city: p.city ?? '', sex: String(p.sex ?? 0) }),
      RecommendInfo: { UserName: userName, NickName: p.nickName, Province: p.province ?? '', City: p.city ?? '', Scene: 17, AttrStatus: 32, Sex: p.sex ?? 0 },
    },
  };
}

export function buildFriendRequest(p: PersonSpec, userName: string, text: string, ticket: string): BuiltMessage {
  return {
    fields: {
      MsgType: MsgType.VERIFYMSG,
      Content: buildVerifyContent({
        fromusername: p.id,
        encryptusername: `v1_${createHash('sha256').update(p.id).digest('hex').slice(0, 48)}@stranger`,
        fromnickname: p.nickName,
        content: text,
        ticket,
        sex: p.sex ?? 0,
        province: p.province ?? '',
        city: p.city ?? '',
        sign: p.signature ?? '',
      }),
      RecommendInfo: {
        UserName: userName,
        NickName: p.nickName,
        Province: p.province ?? '',
        City: p.city ?? '',
        Content: text,
        Signature: p.signature ?? '',
        Scene: 14,
        AttrStatus: 233251,
        Sex: p.sex ?? 0,
        Ticket: ticket,
        OpCode: 2,
      },
    },
  };
}

/** The revoke notice for `revokedMsgId` in chat `sessionId` (wxid or `<n>@chatroom`); `nick` null = revoked by self. */
export function buildRevoke(sessionId: string, revokedMsgId: string, nick: string | null): BuiltMessage {
  return {
    fields: {
      MsgType: MsgType.RECALLED,
      Content: buildRevokeContent({
        session: sessionId,
        oldmsgid: String(1000000000 + (Number(revokedMsgId.slice(-9)) % 999999999)),
        msgid: revokedMsgId,
        replacemsg: revokeReplaceText(nick),
      }),
    },
  };
}

export function buildLocation(c: BuildContext): BuiltMessage {
  const label = c.content || c.title || '深圳市南山区科技园';
  const f = buildLocationFields({ label, lat: 22.540503, lng: 113.934528, msgId: c.msgId, poiname: label });
  return { fields: { MsgType: MsgType.TEXT, ...f } };
}

/** A quote (AppMsgType 57): `text` replying to the quoted message `refer`, sent by the person `fromWxid`. */
export function buildQuote(text: string, refer: ReferMsg, fromWxid: string): BuiltMessage {
  return {
    fields: {
      MsgType: MsgType.APP,
      AppMsgType: AppMsgType.REFER,
      Content: buildReferAppMsgContent({ title: text, refer, fromusername: fromWxid }),
      FileName: text,
      FileSize: '0',
      Url: '',
    },
  };
}
