/**
 * Endpoint paths of the web protocol. The client builds URLs from these; the sandbox routes on them.
 * Source: shared/spec/wechat-web-protocol.md §1–§9.
 */
export const CGI = '/cgi-bin/mmwebwx-bin';

export const Path = {
  jslogin: '/jslogin',
  qrcode: '/qrcode', // + '/<uuid>'
  qrPayload: '/l', // + '/<uuid>' (the URL the QR encodes)
  login: `${CGI}/login`,
  pushLoginUrl: `${CGI}/webwxpushloginurl`,
  newLoginPage: `${CGI}/webwxnewloginpage`,
  init: `${CGI}/webwxinit`,
  statusNotify: `${CGI}/webwxstatusnotify`,
  getContact: `${CGI}/webwxgetcontact`,
  batchGetContact: `${CGI}/webwxbatchgetcontact`,
  syncCheck: `${CGI}/synccheck`,
  sync: `${CGI}/webwxsync`,
  sendMsg: `${CGI}/webwxsendmsg`,
  sendMsgImg: `${CGI}/webwxsendmsgimg`,
  sendVideoMsg: `${CGI}/webwxsendvideomsg`,
  sendEmoticon: `${CGI}/webwxsendemoticon`,
  sendAppMsg: `${CGI}/webwxsendappmsg`,
  revokeMsg: `${CGI}/webwxrevokemsg`,
  getMsgImg: `${CGI}/webwxgetmsgimg`,
  getVoice: `${CGI}/webwxgetvoice`,
  getVideo: `${CGI}/webwxgetvideo`,
  getIcon: `${CGI}/webwxgeticon`,
  getHeadImg: `${CGI}/webwxgetheadimg`,
  createChatroom: `${CGI}/webwxcreatechatroom`,
  updateChatroom: `${CGI}/webwxupdatechatroom`,
  oplog: `${CGI}/webwxoplog`,
  verifyUser: `${CGI}/webwxverifyuser`,
  logout: `${CGI}/webwxlogout`,
  uploadMedia: `${CGI}/webwxuploadmedia`,
  checkUpload: `${CGI}/webwxcheckupload`,
  getMedia: `${CGI}/webwxgetmedia`,
} as const;
export type PathName = keyof typeof Path;

/** Which host of the family serves an endpoint. */
export type HostRole = 'login' | 'page' | 'file' | 'push';

export const PATH_HOST: Record<PathName, HostRole> = {
  jslogin: 'login',
  qrcode: 'login',
  qrPayload: 'login',
  login: 'login',
  pushLoginUrl: 'page',
  newLoginPage: 'page',
  init: 'page',
  statusNotify: 'page',
  getContact: 'page',
  batchGetContact: 'page',
  syncCheck: 'push',
  sync: 'page',
  sendMsg: 'page',
  sendMsgImg: 'page',
  sendVideoMsg: 'page',
  sendEmoticon: 'page',
  sendAppMsg: 'page',
  revokeMsg: 'page',
  getMsgImg: 'page',
  getVoice: 'page',
  getVideo: 'page',
  getIcon: 'page',
  getHeadImg: 'page',
  createChatroom: 'page',
  updateChatroom: 'page',
  oplog: 'page',
  verifyUser: 'page',
  logout: 'page',
  uploadMedia: 'file',
  checkUpload: 'page',
  getMedia: 'file',
};
