/**
 * Protocol numbers of the WeChat web protocol, named. Sources: shared/spec/wechat-web-protocol.md §6.2, §10.
 */

/** `appid` of the web client used by jslogin. */
export const LOGIN_APPID = 'wx782c26e4c19acffb';
/** `appid` of "微信网页版" used in file appmsg XML (plain web mode; desktop mode sends ''). */
export const WEB_APPMSG_APPID = 'wxeb7ec651dd0aefa9';

export const MsgType = {
  TEXT: 1,
  IMAGE: 3,
  VOICE: 34,
  VERIFYMSG: 37,
  POSSIBLEFRIEND_MSG: 40,
  SHARECARD: 42,
  VIDEO: 43,
  EMOTICON: 47,
  LOCATION: 48,
  APP: 49,
  VOIPMSG: 50,
  STATUSNOTIFY: 51,
  VOIPNOTIFY: 52,
  VOIPINVITE: 53,
  MICROVIDEO: 62,
  SYSNOTICE: 9999,
  SYS: 10000,
  RECALLED: 10002,
} as const;
export type MsgTypeValue = (typeof MsgType)[keyof typeof MsgType];

export const AppMsgType = {
  TEXT: 1,
  IMG: 2,
  AUDIO: 3,
  VIDEO: 4,
  URL: 5,
  ATTACH: 6,
  OPEN: 7,
  EMOJI: 8,
  VOICE_REMIND: 9,
  SCAN_GOOD: 10,
  GOOD: 13,
  EMOTION: 15,
  CARD_TICKET: 16,
  REALTIME_SHARE_LOCATION: 17,
  /** A quote (引用): the reply text in `<title>`, the quoted message in `<refermsg>`. */
  REFER: 57,
  TRANSFERS: 2000,
  RED_ENVELOPES: 2001,
  READER_TYPE: 100001,
} as const;

export const StatusNotifyCode = {
  READED: 1,
  ENTER_SESSION: 2,
  INITED: 3,
  SYNC_CONV: 4,
  QUIT_SESSION: 5,
} as const;

/** `window.code` values of the login long-poll. */
export const LoginCode = {
  WAITING: 408,
  SCANNED: 201,
  CANCELLED: 202,
  CONFIRMED: 200,
  EXPIRED: 400,
  SERVER_ERROR: 500,
} as const;

/** BaseResponse.Ret and synccheck retcode values. */
export const Ret = {
  OK: 0,
  PARAM_ERROR: 1,
  SYS: -1,
  LOGIC: -2,
  TICKET_ERROR: -14,
  SESSION_NOEXIST: 1100,
  SESSION_INVALID: 1101,
  COOKIE_INVALID: 1102,
  PARSER_REQUEST: 1200,
  LOGIN_FORBIDDEN: 1203,
  SEND_FAILED: 1204,
  FREQ: 1205,
} as const;

/** Retcodes that mean the session is gone. */
export const LOGOUT_RETCODES: readonly number[] = [Ret.SESSION_NOEXIST, Ret.SESSION_INVALID, Ret.COOKIE_INVALID];

/** synccheck selector values seen in the wild (the official client syncs on any non-zero). */
export const Selector = {
  NONE: 0,
  NEW_MSG: 2,
  PROFILE: 4,
  CONTACT: 6,
  ENTER_LEAVE_CHAT: 7,
} as const;

/** verifyuser Opcode. */
export const VerifyOpcode = {
  ADD_CONTACT: 1,
  SEND_REQUEST: 2,
  VERIFY_OK: 3,
  VERIFY_REJECT: 4,
} as const;

/** Web add scene (ADDSCENE_PF_WEB). */
export const ADDSCENE_PF_WEB = 33;

/** webwxoplog CmdId. */
export const OplogCmd = {
  MODREMARKNAME: 2,
  TOPCONTACT: 3,
} as const;

export const ContactFlag = {
  CONTACT: 1,
  CHATCONTACT: 2,
  CHATROOMCONTACT: 4,
  BLACKLISTCONTACT: 8,
  DOMAINCONTACT: 16,
  HIDECONTACT: 32,
  FAVOURCONTACT: 64,
  THIRDAPPCONTACT: 128,
  SNSBLACKLISTCONTACT: 256,
  NOTIFYCLOSECONTACT: 512,
  TOPCONTACT: 2048,
} as const;

/** VerifyFlag bit of official (public) accounts. */
export const VERIFYFLAG_BIZ = 8;

/** Upload chunk size used by the official client. */
export const UPLOAD_CHUNK_BYTES = 512 * 1024;

/** Contacts per webwxbatchgetcontact call (official client). */
export const BATCH_CONTACT_MAX = 50;

/** Members at which the official client uses invitemember instead of addmember. */
export const INVITE_MEMBER_THRESHOLD = 40;

/** Plain (not encrypted) user names of WeChat's special accounts. */
export const SPECIAL_USERS: readonly string[] = [
  'newsapp', 'fmessage', 'filehelper', 'weibo', 'qqmail', 'tmessage', 'qmessage', 'qqsync', 'floatbottle',
  'lbsapp', 'shakeapp', 'medianote', 'qqfriend', 'readerapp', 'blogapp', 'facebookapp', 'masssendapp',
  'meishiapp', 'feedsapp', 'voip', 'blogappweixin', 'weixin', 'brandsessionholder', 'weixinreminder',
  'wxid_novlwrv3lqwv11', 'gh_22b87fa7cb3c', 'officialaccounts', 'notification_messages', 'wxitil',
  'userexperience_alarm',
];

/** Upload `mediatype` form field. */
export type UploadMediaKind = 'pic' | 'video' | 'doc';
