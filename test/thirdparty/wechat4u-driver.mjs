// Child-process driver for wechat4u (npm `wechat4u`, run unmodified). Started by wechat4u.test.ts through
// harness/child.ts with the names preload; talks to the test over the IPC channel:
//   test → driver  {id, cmd, args}             driver → test  {id, ok, result | error}
//   driver → test  {event, data}               (the library's events, made JSON-safe)
// The driver only calls the library's public API (start, sendMsg, getMsgImg, getDoc, stop, contacts, …).
import Wechat from 'wechat4u';

const bot = new Wechat();

function send(msg) {
  if (process.connected) process.send(msg);
}

function errorInfo(err) {
  const r = err && err.response;
  return {
    message: String((err && err.message) || err),
    tips: err && err.tips,
    status: r && r.status,
    data: r && (typeof r.data === 'string' ? r.data.slice(0, 500) : r.data && JSON.stringify(r.data).slice(0, 500)),
    url: r && r.config && r.config.url,
  };
}

function contactSummary(c) {
  return {
    UserName: c.UserName,
    NickName: c.NickName,
    RemarkName: c.RemarkName || '',
    DisplayName: bot.Contact.getDisplayName(c),
    isRoom: bot.Contact.isRoomContact(c),
    isPublic: Boolean(bot.Contact.isPublicContact(c)),
    isSpecial: bot.Contact.isSpContact(c),
    isSelf: Boolean(c.isSelf),
    MemberCount: c.MemberCount || 0,
    Members: Array.isArray(c.MemberList) ? c.MemberList.map((m) => ({ UserName: m.UserName, NickName: m.NickName })) : [],
  };
}

function messageSummary(m) {
  const from = bot.contacts[m.FromUserName];
  return {
    MsgId: m.MsgId,
    MsgType: m.MsgType,
    AppMsgType: m.AppMsgType,
    SubMsgType: m.SubMsgType,
    FromUserName: m.FromUserName,
    ToUserName: m.ToUserName,
    fromDisplayName: from ? bot.Contact.getDisplayName(from) : null,
    Content: m.Content,
    OriginalContent: m.OriginalContent,
    Url: m.Url,
    FileName: m.FileName,
    FileSize: m.FileSize,
    MediaId: m.MediaId,
    StatusNotifyCode: m.StatusNotifyCode,
    StatusNotifyUserName: m.StatusNotifyUserName,
    RecommendInfo: m.RecommendInfo ? { UserName: m.RecommendInfo.UserName, NickName: m.RecommendInfo.NickName, Ticket: m.RecommendInfo.Ticket } : null,
    isSendBySelf: m.isSendBySelf,
    CreateTime: m.CreateTime,
  };
}

bot.on('uuid', (uuid) => send({ event: 'uuid', data: uuid }));
bot.on('user-avatar', (avatar) => send({ event: 'user-avatar', data: String(avatar).slice(0, 40) }));
bot.on('login', () => send({ event: 'login', data: { user: { UserName: bot.user.UserName, NickName: bot.user.NickName } } }));
bot.on('logout', () => send({ event: 'logout', data: null }));
bot.on('error', (err) => send({ event: 'error', data: errorInfo(err) }));
bot.on('contacts-updated', (list) => send({ event: 'contacts-updated', data: { count: list.length, total: Object.keys(bot.contacts).length } }));
bot.on('message', (m) => send({ event: 'message', data: messageSummary(m) }));

function media(res) {
  const buf = Buffer.from(res.data);
  return { type: res.type, length: buf.length, headHex: buf.subarray(0, 8).toString('hex'), text: buf.length < 4096 ? buf.toString('latin1') : null };
}

const commands = {
  start: () => {
    bot.start();
    return null;
  },
  state: () => ({ state: bot.state, user: { UserName: bot.user.UserName, NickName: bot.user.NickName } }),
  contacts: () => Object.values(bot.contacts).map(contactSummary),
  sendText: async ({ to, text }) => bot.sendMsg(text, to),
  sendFile: async ({ to, base64, filename }) => bot.sendMsg({ file: Buffer.from(base64, 'base64'), filename }, to),
  getMsgImg: async ({ msgId }) => media(await bot.getMsgImg(msgId)),
  getVoice: async ({ msgId }) => media(await bot.getVoice(msgId)),
  getVideo: async ({ msgId }) => media(await bot.getVideo(msgId)),
  getDoc: async ({ from, mediaId, fileName }) => media(await bot.getDoc(from, mediaId, fileName)),
  getHeadImg: async ({ userName }) => media(await bot.getHeadImg(bot.contacts[userName].HeadImgUrl)),
  revokeMsg: async ({ msgId, to }) => bot.revokeMsg(msgId, to),
  verifyUser: async ({ userName, ticket }) => bot.verifyUser(userName, ticket),
  updateRemarkName: async ({ userName, remark }) => bot.updateRemarkName(userName, remark),
  opLog: async ({ userName, op, remark }) => bot.opLog(userName, op, remark),
  createChatroom: async ({ topic, members }) => bot.createChatroom(topic, members.map((UserName) => ({ UserName }))),
  updateChatroom: async ({ room, members, fun }) => bot.updateChatroom(room, members, fun),
  updateChatRoomName: async ({ room, name }) => bot.updateChatRoomName(room, name),
  stop: () => {
    bot.stop();
    return null;
  },
};

process.on('message', async (msg) => {
  const { id, cmd, args } = msg;
  try {
    const fn = commands[cmd];
    if (!fn) throw new Error(`unknown command ${cmd}`);
    const result = await fn(args ?? {});
    send({ id, ok: true, result: result === undefined ? null : JSON.parse(JSON.stringify(result)) });
  } catch (err) {
    send({ id, ok: false, error: errorInfo(err) });
  }
});
process.on('disconnect', () => process.exit(0));
send({ event: 'ready', data: { node: process.version } });
