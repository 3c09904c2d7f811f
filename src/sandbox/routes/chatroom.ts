/**
 * Contact and chatroom operations: webwxcreatechatroom, webwxupdatechatroom (addmember, invitemember, delmember,
 * modtopic, quitchatroom), webwxoplog (remark CmdId 2, pin CmdId 3), webwxverifyuser (Opcode 2 request, 3 accept).
 * Each change reaches the client as ModContactList/DelContactList (+ the usual system tip) in the next sync.
 * Fixtures: webwxcreatechatroom-*, webwxupdatechatroom-*, webwxoplog-remark-request, webwxverifyuser-*.
 */
import type { FastifyInstance } from 'fastify';
import { OplogCmd, Ret, VerifyOpcode } from '../../wire/constants.ts';
import { Path } from '../../wire/paths.ts';
import { SysText } from '../../wire/msgcontent.ts';
import type { SandboxCore } from '../core.ts';
import { authenticateJson } from '../auth.ts';
import { jsonBody, qparam, sendServerJson } from '../http-util.ts';
import { ENVELOPE, WireView } from '../shapes.ts';
import { STYLE } from '../server-json.ts';
import type { Session } from '../sessions.ts';
import { createGroup, friendAdded, groupChanged, personChanged } from '../world-events.ts';
import { jsonFault, wireRoute } from './common.ts';

const OK = { Ret: 0, ErrMsg: '' };

function names(list: unknown): string[] {
  if (typeof list !== 'string') return [];
  return list.split(',').map((x) => x.trim()).filter(Boolean);
}

export function registerChatroomRoutes(app: FastifyInstance, core: SandboxCore): void {
  const session = (req: Parameters<typeof authenticateJson>[1], body: Record<string, unknown> | null) =>
    authenticateJson(core, req, body);
  /** World ids of friends named by wire UserNames; null if any is not a friend. */
  const friendIds = (s: Session, list: string[]): string[] | null => {
    const out: string[] = [];
    for (const n of list) {
      const id = s.ids.worldId(n);
      const p = id ? s.user.world.people.get(id) : undefined;
      if (!p || !s.user.world.isFriend(p)) return null;
      out.push(p.id);
    }
    return out;
  };

  wireRoute(app, core, {
    method: 'POST',
    path: Path.createChatroom,
    endpoint: 'webwxcreatechatroom',
    faultAnswer: jsonFault('webwxcreatechatroom', STYLE.createChatroom),
    handler: (req, reply) => {
      const body = jsonBody(req);
      const fail = (ret: number) => sendServerJson(reply, ENVELOPE['webwxcreatechatroom']!(ret), STYLE.createChatroom);
      const a = session(req, body);
      if (!a.ok) return fail(a.ret);
      const s = a.session;
      const u = s.user;
      const list = Array.isArray(body?.['MemberList']) ? (body['MemberList'] as { UserName?: unknown }[]) : [];
      const ids = friendIds(s, list.map((m) => (typeof m?.UserName === 'string' ? m.UserName : '')));
      if (!ids || ids.length < 2) return fail(Ret.PARAM_ERROR);
      const topic = typeof body?.['Topic'] === 'string' ? body['Topic'] : '';
      const self = u.world.self.id;
      const g = createGroup(u, { topic, owner: self, members: [self, ...ids], saved: false }, SysText.youInvited(ids.map((id) => u.world.displayName(id))));
      const view = new WireView(u.world, s);
      return sendServerJson(
        reply,
        {
          BaseResponse: { Ret: 0, ErrMsg: 'Everything is OK' },
          Topic: topic,
          PYInitial: '',
          QuanPin: '',
          MemberCount: g.spec.members.length,
          MemberList: ids.map((id) => view.member(id, g)),
          ChatRoomName: s.ids.group(g.spec.id),
          BlackList: '',
        },
        STYLE.createChatroom,
      );
    },
  });

  wireRoute(app, core, {
    method: 'POST',
    path: Path.updateChatroom,
    endpoint: 'webwxupdatechatroom',
    faultAnswer: jsonFault('webwxupdatechatroom', STYLE.updateChatroom),
    handler: (req, reply) => {
      const body = jsonBody(req);
      const fail = (ret: number) => sendServerJson(reply, ENVELOPE['webwxupdatechatroom']!(ret), STYLE.updateChatroom);
      const a = session(req, body);
      if (!a.ok) return fail(a.ret);
      const s = a.session;
      const u = s.user;
      const gid = s.ids.worldId(typeof body?.['ChatRoomName'] === 'string' ? body['ChatRoomName'] : '');
      const g = gid ? u.world.groups.get(gid) : undefined;
      const self = u.world.self.id;
      if (!g || !g.memberSet.has(self)) return fail(Ret.PARAM_ERROR);
      const view = new WireView(u.world, s);
      const done = (members: string[]) =>
        sendServerJson(reply, { BaseResponse: OK, MemberCount: members.length, MemberList: members.map((id) => view.member(id, g)) }, STYLE.updateChatroom);
      const fun = qparam(req, 'fun') ?? '';
      switch (fun) {
        case 'addmember':
        case 'invitemember': {
          const ids = friendIds(s, names(body?.[fun === 'addmember' ? 'AddMemberList' : 'InviteMemberList']));
          if (!ids || ids.length === 0) return fail(Ret.PARAM_ERROR);
          const fresh = ids.filter((id) => !g.memberSet.has(id));
          for (const id of fresh) u.world.addMember(g, id);
          groupChanged(u, g, fresh.length ? SysText.youInvited(fresh.map((id) => u.world.displayName(id))) : undefined);
          return done(fresh);
        }
        case 'delmember': {
          if (g.spec.owner !== self) return fail(Ret.PARAM_ERROR);
          const ids = names(body?.['DelMemberList']).map((n) => s.ids.worldId(n));
          if (ids.length === 0 || ids.some((id) => !id || !g.memberSet.has(id) || id === self)) return fail(Ret.PARAM_ERROR);
          for (const id of ids as string[]) u.world.removeMember(g, id);
          groupChanged(u, g, SysText.youRemoved((ids as string[]).map((id) => u.world.displayName(id)).join('、')));
          return done([]);
        }
        case 'modtopic': {
          const topic = body?.['NewTopic'];
          if (typeof topic !== 'string') return fail(Ret.PARAM_ERROR);
          g.spec.topic = topic;
          delete g.spec.topicPinyin;
          groupChanged(u, g, SysText.youRenamed(topic));
          return done([]);
        }
        case 'quitchatroom': {
          u.world.removeMember(g, self);
          s.pushDel(s.ids.group(g.spec.id));
          return done([]);
        }
        default:
          return fail(Ret.PARAM_ERROR);
      }
    },
  });

  wireRoute(app, core, {
    method: 'POST',
    path: Path.oplog,
    endpoint: 'webwxoplog',
    faultAnswer: jsonFault('webwxoplog', STYLE.small),
    handler: (req, reply) => {
      const body = jsonBody(req);
      const fail = (ret: number) => sendServerJson(reply, ENVELOPE['webwxoplog']!(ret), STYLE.small);
      const a = session(req, body);
      if (!a.ok) return fail(a.ret);
      const s = a.session;
      const u = s.user;
      const id = s.ids.worldId(typeof body?.['UserName'] === 'string' ? body['UserName'] : '');
      const p = id ? u.world.people.get(id) : undefined;
      const g = id ? u.world.groups.get(id) : undefined;
      const cmd = Number(body?.['CmdId']);
      if (cmd === OplogCmd.MODREMARKNAME) {
        if (!p || !u.world.isFriend(p) || typeof body?.['RemarkName'] !== 'string') return fail(Ret.PARAM_ERROR);
        const remark = body['RemarkName'] as string;
        if (remark) p.remarkName = remark;
        else delete p.remarkName;
        delete p.remarkPinyin;
        personChanged(u, p);
      } else if (cmd === OplogCmd.TOPCONTACT) {
        const on = Number(body?.['OP']) === 1;
        if (p && u.world.isFriend(p)) {
          p.pinned = on;
          personChanged(u, p);
        } else if (g) {
          g.spec.pinned = on;
          groupChanged(u, g);
        } else return fail(Ret.PARAM_ERROR);
      } else return fail(Ret.PARAM_ERROR);
      return sendServerJson(reply, { BaseResponse: OK }, STYLE.small);
    },
  });

  wireRoute(app, core, {
    method: 'POST',
    path: Path.verifyUser,
    endpoint: 'webwxverifyuser',
    faultAnswer: jsonFault('webwxverifyuser', STYLE.small),
    handler: (req, reply) => {
      const body = jsonBody(req);
      const fail = (ret: number) => sendServerJson(reply, ENVELOPE['webwxverifyuser']!(ret), STYLE.small);
      const a = session(req, body);
      if (!a.ok) return fail(a.ret);
      const s = a.session;
      const u = s.user;
      const op = Number(body?.['Opcode']);
      const list = Array.isArray(body?.['VerifyUserList']) ? (body['VerifyUserList'] as { Value?: unknown; VerifyUserTicket?: unknown }[]) : [];
      if (list.length === 0) return fail(Ret.PARAM_ERROR);
      const people = [];
      for (const item of list) {
        const id = s.ids.worldId(typeof item?.Value === 'string' ? item.Value : '');
        const p = id ? u.world.people.get(id) : undefined;
        if (!p) return fail(Ret.PARAM_ERROR);
        if (op === VerifyOpcode.VERIFY_OK) {
          const ticket = typeof item.VerifyUserTicket === 'string' ? item.VerifyUserTicket : '';
          if (u.friendTickets.get(ticket) !== p.id) return fail(Ret.PARAM_ERROR);
        } else if (op !== VerifyOpcode.SEND_REQUEST && op !== VerifyOpcode.ADD_CONTACT) return fail(Ret.PARAM_ERROR);
        people.push(p);
      }
      for (const p of people) {
        if (op === VerifyOpcode.VERIFY_OK) {
          for (const [t, pid] of u.friendTickets) if (pid === p.id) u.friendTickets.delete(t);
          if (!u.world.isFriend(p)) friendAdded(u, p);
        } else if (!u.world.isFriend(p) && p.acceptsFriendRequests !== false) {
          core.later(0, () => friendAdded(u, p));
        }
      }
      return sendServerJson(reply, { BaseResponse: OK }, STYLE.small);
    },
  });
}
