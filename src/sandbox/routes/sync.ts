/**
 * synccheck (push host long poll) and webwxsync. Captures: http-synccheck, http-webwxsync (QJesus 2018),
 * synccheck-error-sequence.weixinbot-issue58, synccheck-ret1102-missing-cookie.weixinbot-issue140.
 * synccheck answers at once when events are queued after the presented synckey and wakes the moment one is
 * pushed (event-driven); a dropped session answers retcode 1101, missing cookies 1102, wrong keys/host 1100.
 */
import type { FastifyInstance } from 'fastify';
import { Ret, Selector } from '../../wire/constants.ts';
import { Path } from '../../wire/paths.ts';
import { encodeSyncCheck } from '../../wire/jsvars.ts';
import { parseSyncKey } from '../../wire/synckey.ts';
import type { SyncKey } from '../../wire/types.ts';
import type { SandboxCore } from '../core.ts';
import { authenticate, authenticateJson } from '../auth.ts';
import { jsonBody, originOf, qparam, sendServerJson, setCookieHeader, waitUntil } from '../http-util.ts';
import { ENVELOPE, WireView, emptyProfile } from '../shapes.ts';
import { STYLE } from '../server-json.ts';
import { jsonFault, wireRoute } from './common.ts';

const HOUR = 3600_000;

export function registerSyncRoutes(app: FastifyInstance, core: SandboxCore): void {
  const check = (retcode: number, selector = 0) => encodeSyncCheck({ retcode, selector });

  wireRoute(app, core, {
    method: 'GET',
    path: Path.syncCheck,
    endpoint: 'synccheck',
    faultAnswer: (ret) => ({ contentType: 'text/javascript', body: check(ret) }),
    handler: async (req, reply) => {
      reply.header('access-control-allow-origin', '*');
      const send = (body: string) => reply.code(200).header('content-type', 'text/javascript').send(body);
      const a = authenticate(core, req, { missingCookieRet: Ret.COOKIE_INVALID });
      if (!a.ok) return send(check(a.ret));
      const s = a.session;
      const o = originOf(req);
      if (o.realName && o.hostname !== s.family.push) return send(check(Ret.SESSION_NOEXIST));
      let key: SyncKey | null = null;
      try {
        key = parseSyncKey(qparam(req, 'synckey') ?? '');
      } catch {
        key = null;
      }
      const pos = s.positionOf(key);
      if (pos === null) return send(check(Ret.SESSION_NOEXIST));
      s.ack(pos);
      const ready = () => core.closing || !s.alive || s.hasPendingAfter(pos);
      await waitUntil(reply, core.opts.longPollMs, (w) => s.onChange(w), ready);
      if (!s.alive) return send(check(Ret.SESSION_INVALID));
      const pending = s.pendingAfter(pos);
      if (pending.length === 0) return send(check(0, Selector.NONE));
      return send(check(0, pending.some((e) => e.kind === 'msg') ? Selector.NEW_MSG : Selector.PROFILE));
    },
  });

  wireRoute(app, core, {
    method: 'POST',
    path: Path.sync,
    endpoint: 'webwxsync',
    faultAnswer: jsonFault('webwxsync', STYLE.sync),
    handler: (req, reply) => {
      const body = jsonBody(req);
      const a = authenticateJson(core, req, body, { missingCookieRet: Ret.PARAM_ERROR });
      if (!a.ok) return sendServerJson(reply, ENVELOPE['webwxsync']!(a.ret), STYLE.sync);
      const s = a.session;
      const view = new WireView(s.user.world, s);
      const pos = s.positionOf(body?.['SyncKey'] as SyncKey | undefined) ?? s.ackedPosition;
      s.ack(pos);
      const events = s.pendingAfter(pos).slice(0, core.opts.maxSyncMessages);
      const add: Record<string, unknown>[] = [];
      const mods = new Map<string, Record<string, unknown>>();
      const dels: { UserName: string; ContactFlag: number }[] = [];
      for (const e of events) {
        if (e.kind === 'msg') {
          const m = s.messages.get(e.msgId);
          if (m) add.push(m.wire);
        } else if (e.kind === 'mod') {
          const c = view.modContact(e.worldId);
          mods.delete(e.worldId);
          if (c) mods.set(e.worldId, c);
        } else {
          dels.push({ UserName: e.userName, ContactFlag: 0 });
        }
      }
      const next = events.length > 0 ? events[events.length - 1]!.seq : pos;
      s.markSynced();
      const syncKey = s.syncKey(next);
      const out = {
        BaseResponse: { Ret: 0, ErrMsg: '' },
        AddMsgCount: add.length,
        AddMsgList: add,
        ModContactCount: mods.size,
        ModContactList: [...mods.values()],
        DelContactCount: dels.length,
        DelContactList: dels,
        ModChatRoomMemberCount: 0,
        ModChatRoomMemberList: [],
        Profile: emptyProfile(),
        ContinueFlag: s.hasPendingAfter(next) ? 1 : 0,
        SyncKey: syncKey,
        SKey: '',
        SyncCheckKey: syncKey,
      };
      const o = originOf(req);
      const k1000 = syncKey.List.find((i) => i.Key === 1000)?.Val ?? s.loadTime;
      reply.header('set-cookie', [
        setCookieHeader(o, { name: 'wxloadtime', value: `${s.loadTime}_expired`, scope: 'page', maxAgeMs: 12 * HOUR }, core.cookieDates),
        setCookieHeader(o, { name: 'wxpluginkey', value: String(k1000), scope: 'page', maxAgeMs: 12 * HOUR }, core.cookieDates),
        setCookieHeader(o, { name: 'wxuin', value: String(s.uin), scope: 'page', maxAgeMs: 84 * HOUR }, core.cookieDates),
        setCookieHeader(o, { name: 'wxsid', value: s.sid, scope: 'page', maxAgeMs: 12 * HOUR }, core.cookieDates),
        setCookieHeader(o, { name: 'webwx_data_ticket', value: s.dataTicket, scope: 'parent', maxAgeMs: 12 * HOUR }, core.cookieDates),
      ]);
      return sendServerJson(reply, out, STYLE.sync);
    },
  });
}
