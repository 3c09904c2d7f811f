/**
 * webwxinit, webwxstatusnotify, webwxgetcontact (paged by `seq`), webwxbatchgetcontact (≤ 50 per call).
 * Captures: http-webwxinit, http-webwxstatusnotify, http-webwxgetcontact, http-webwxbatchgetcontact (QJesus 2018).
 */
import type { FastifyInstance } from 'fastify';
import { BATCH_CONTACT_MAX, MsgType, Ret, StatusNotifyCode } from '../../wire/constants.ts';
import { Path } from '../../wire/paths.ts';
import { buildStatusNotifyContent } from '../../wire/notifymsg.ts';
import type { SandboxCore } from '../core.ts';
import type { SandboxUser } from '../user.ts';
import { authenticate, authenticateJson } from '../auth.ts';
import { jsonBody, qparam, sendServerJson } from '../http-util.ts';
import { ENVELOPE, WireView, wireMessage } from '../shapes.ts';
import { STYLE } from '../server-json.ts';
import { Session } from '../sessions.ts';
import { jsonFault, wireRoute } from './common.ts';
import type { Group } from '../world.ts';

/** Recent chats of a fresh login: filehelper, a few friends, unsaved groups first, then saved ones (bounded). */
function recentChats(u: SandboxUser): { people: string[]; groups: Group[] } {
  const people = ['filehelper'].filter((id) => u.world.people.has(id));
  for (const p of u.world.people.values()) {
    if (people.length >= 6) break;
    if (u.world.isFriend(p) && p.kind !== 'special' && p.kind !== 'public') people.push(p.id);
  }
  const groups = [...u.world.groups.values()];
  const unsaved = groups.filter((g) => g.spec.saved === false);
  const saved = groups.filter((g) => g.spec.saved !== false).slice(0, Math.max(3, 60 - unsaved.length));
  return { people, groups: [...unsaved, ...saved] };
}

function mpSubscribeList(u: SandboxUser, view: WireView): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const p of u.world.people.values()) {
    if (p.kind !== 'public' || !u.world.isFriend(p) || out.length >= 3) continue;
    out.push({
      UserName: view.session.ids.user(p.id),
      MPArticleCount: 1,
      MPArticleList: [
        {
          Title: `${p.nickName}：今日推荐`,
          Digest: '沙盒里的公众号文章摘要。',
          Cover: 'http://mmbiz.qpic.cn/mmbiz_jpg/sandbox/0?wx_fmt=jpeg',
          Url: `http://mp.weixin.qq.com/s?__biz=sandbox&mid=1&idx=1&sn=${p.id}#rd`,
        },
      ],
      Time: Math.floor(Date.now() / 1000) - 600,
      NickName: p.nickName,
    });
  }
  return out;
}

/** The StatusNotifyCode 4 (sync conversations) message the real server sends after init. */
function syncConvMessage(u: SandboxUser, s: Session): Record<string, unknown> {
  const recent = recentChats(u);
  const wxids = [...recent.people, ...recent.groups.map((g) => g.spec.id)];
  const names = [...recent.people.map((id) => s.ids.user(id)), ...recent.groups.map((g) => s.ids.group(g.spec.id))];
  const content = buildStatusNotifyContent({
    usernames: wxids,
    unread: [{ username: 'MomentsUnreadMsgStatus', lastreadtime: String(Math.floor(Date.now() / 1000) - 3600) }],
  });
  return wireMessage({
    MsgId: Session.newMsgId(),
    FromUserName: s.selfName,
    ToUserName: s.selfName,
    MsgType: MsgType.STATUSNOTIFY,
    Content: content,
    StatusNotifyCode: StatusNotifyCode.SYNC_CONV,
    StatusNotifyUserName: names.join(','),
  });
}

export function registerContactRoutes(app: FastifyInstance, core: SandboxCore): void {
  wireRoute(app, core, {
    method: 'POST',
    path: Path.init,
    endpoint: 'webwxinit',
    faultAnswer: jsonFault('webwxinit', STYLE.init),
    handler: (req, reply) => {
      const body = jsonBody(req);
      const a = authenticateJson(core, req, body);
      if (!a.ok) return sendServerJson(reply, ENVELOPE['webwxinit']!(a.ret), STYLE.init);
      const s = a.session;
      const u = s.user;
      const view = new WireView(u.world, s);
      const recent = recentChats(u);
      const contacts = [
        ...recent.people.map((id) => view.contact(u.world.people.get(id)!)),
        ...recent.groups.map((g) => view.group(g, 'init')),
      ];
      const chatSet = ['filehelper', 'weixin', ...contacts.map((c) => c['UserName'] as string)];
      const mp = mpSubscribeList(u, view);
      const out = {
        BaseResponse: { Ret: 0, ErrMsg: '' },
        Count: contacts.length,
        ContactList: contacts,
        SyncKey: s.syncKey(s.ackedPosition),
        User: view.user(),
        ChatSet: `${chatSet.join(',')},`,
        SKey: s.skey,
        ClientVersion: 385876258,
        SystemTime: Math.floor(Date.now() / 1000),
        GrayScale: 1,
        InviteStartCount: 40,
        MPSubscribeMsgCount: mp.length,
        MPSubscribeMsgList: mp,
        ClickReportInterval: 600000,
      };
      if (!s.initialized) {
        s.initialized = true;
        s.pushMessage({ wire: syncConvMessage(u, s) });
      }
      return sendServerJson(reply, out, STYLE.init);
    },
  });

  wireRoute(app, core, {
    method: 'POST',
    path: Path.statusNotify,
    endpoint: 'webwxstatusnotify',
    faultAnswer: jsonFault('webwxstatusnotify', STYLE.small),
    handler: (req, reply) => {
      const body = jsonBody(req);
      const a = authenticateJson(core, req, body);
      if (!a.ok) return sendServerJson(reply, ENVELOPE['webwxstatusnotify']!(a.ret), STYLE.small);
      return sendServerJson(reply, { BaseResponse: { Ret: 0, ErrMsg: '' }, MsgID: Session.newMsgId() }, STYLE.small);
    },
  });

  // The official client GETs; POST (parameters in the query, body ignored) is answered the same, as the real server
  // did for clients that POST it: wechat4u's recorded test/nock.js (`.post('/cgi-bin/mmwebwx-bin/webwxgetcontact')`)
  // and weixinbot 0.6.1 (npm, fetchContact posts `{}`).
  wireRoute(app, core, {
    method: ['GET', 'POST'],
    path: Path.getContact,
    endpoint: 'webwxgetcontact',
    faultAnswer: jsonFault('webwxgetcontact', STYLE.getContact),
    handler: (req, reply) => {
      const a = authenticate(core, req);
      if (!a.ok) return sendServerJson(reply, ENVELOPE['webwxgetcontact']!(a.ret), STYLE.getContact);
      const u = a.session.user;
      const view = new WireView(u.world, a.session);
      const seqRaw = qparam(req, 'seq') ?? '0';
      const start = /^\d+$/.test(seqRaw) ? Number(seqRaw) : NaN;
      if (!Number.isFinite(start)) return sendServerJson(reply, ENVELOPE['webwxgetcontact']!(Ret.PARAM_ERROR), STYLE.getContact);
      const size = core.opts.contactPageSize;
      const list: Record<string, unknown>[] = [];
      let index = 0;
      let next = 0;
      const take = (make: () => Record<string, unknown>): boolean => {
        if (index >= start && list.length < size) list.push(make());
        else if (index >= start) {
          next = index;
          return false;
        }
        index++;
        return true;
      };
      let more = true;
      for (const p of u.world.people.values()) {
        if (!u.world.isFriend(p)) continue;
        if (!(more = take(() => view.contact(p)))) break;
      }
      if (more) {
        for (const g of u.world.groups.values()) {
          if (g.spec.saved === false) continue;
          if (!(more = take(() => view.group(g, 'getcontact')))) break;
        }
      }
      const out = { BaseResponse: { Ret: 0, ErrMsg: '' }, Seq: next, MemberCount: list.length, MemberList: list };
      return sendServerJson(reply, out, STYLE.getContact);
    },
  });

  wireRoute(app, core, {
    method: 'POST',
    path: Path.batchGetContact,
    endpoint: 'webwxbatchgetcontact',
    faultAnswer: jsonFault('webwxbatchgetcontact', STYLE.batchGetContact),
    handler: (req, reply) => {
      const body = jsonBody(req);
      const a = authenticateJson(core, req, body);
      if (!a.ok) return sendServerJson(reply, ENVELOPE['webwxbatchgetcontact']!(a.ret), STYLE.batchGetContact);
      const list = body?.['List'];
      if (!Array.isArray(list)) return sendServerJson(reply, ENVELOPE['webwxbatchgetcontact']!(Ret.PARAM_ERROR), STYLE.batchGetContact);
      // More than 50: the real server answers the first 50 (WeixinBot#191: "Count max 50; over 50 only 50 are returned").
      const items = list.slice(0, BATCH_CONTACT_MAX);
      const s = a.session;
      const u = s.user;
      const view = new WireView(u.world, s);
      const out: Record<string, unknown>[] = [];
      for (const it of items as { UserName?: unknown; EncryChatRoomId?: unknown; ChatRoomId?: unknown }[]) {
        const name = typeof it?.UserName === 'string' ? it.UserName : '';
        const id = s.ids.worldId(name);
        if (!id) continue;
        const g = u.world.groups.get(id);
        if (g) {
          out.push(view.group(g, 'batch'));
          continue;
        }
        if (!u.world.people.has(id)) continue;
        const room = typeof it.EncryChatRoomId === 'string' && it.EncryChatRoomId ? it.EncryChatRoomId : '';
        const roomId = room ? s.ids.worldId(room) : undefined;
        const rg = roomId ? u.world.groups.get(roomId) : undefined;
        out.push(rg ? view.memberContact(id, rg) : view.contact(u.world.people.get(id)!));
      }
      return sendServerJson(reply, { BaseResponse: { Ret: 0, ErrMsg: '' }, Count: out.length, ContactList: out }, STYLE.batchGetContact);
    },
  });
}
