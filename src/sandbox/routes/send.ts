/**
 * Sending: webwxsendmsg, webwxsendmsgimg, webwxsendvideomsg, webwxsendemoticon, webwxsendappmsg, webwxrevokemsg.
 * Captures: http-webwxsendmsg (QJesus 2018, compact JSON), webwxsend*-request.wwdk, webwxrevokemsg-*.
 * Every accepted send is recorded in its user's log for GET /__sandbox/sent; the "echo" friend answers texts through the next sync.
 */
import type { FastifyInstance } from 'fastify';
import { MsgType, Ret } from '../../wire/constants.ts';
import { Path } from '../../wire/paths.ts';
import type { SandboxCore } from '../core.ts';
import type { SandboxUser } from '../user.ts';
import { authenticateJson } from '../auth.ts';
import { jsonBody, sendServerJson } from '../http-util.ts';
import { ENVELOPE, wireMessage } from '../shapes.ts';
import { STYLE } from '../server-json.ts';
import { Session, type StoredMessage } from '../sessions.ts';
import { buildText } from '../inject.ts';
import { deliver } from '../messages.ts';
import { jsonFault, wireRoute } from './common.ts';

const REVOKE_INTRODUCTION = '你可以撤回2分钟内发送的消息（部分旧版本微信不支持这个功能）。';

type Msg = Record<string, unknown>;

interface SendSpec {
  path: string;
  endpoint: string;
  types: readonly number[];
  /** Validates the Msg beyond the common checks; returns the MediaId used, or an error. */
  check: (u: SandboxUser, m: Msg) => { mediaId?: string; error?: undefined } | { error: true };
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/**
 * LocalID / ClientMsgId as the server's string: the official client posts strings, wechat4u posts JSON numbers
 * (`Math.ceil(Date.now() * 1e3)`, 16 digits); a number is answered as its decimal digits, not dropped.
 */
function idStr(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
  return '';
}

/** `<attachid>@crypt_…</attachid>` from a posted appmsg (plain or entity-escaped). */
function attachId(content: string): string | undefined {
  return /<attachid>([^<]*)<\/attachid>/.exec(content)?.[1] ?? /&lt;attachid&gt;(.*?)&lt;\/attachid&gt;/.exec(content)?.[1];
}

const SENDS: SendSpec[] = [
  { path: Path.sendMsg, endpoint: 'webwxsendmsg', types: [MsgType.TEXT, MsgType.SHARECARD, MsgType.LOCATION], check: (_c, m) => (typeof m['Content'] === 'string' ? {} : { error: true as const }) },
  { path: Path.sendMsgImg, endpoint: 'webwxsendmsgimg', types: [MsgType.IMAGE], check: (u, m) => (u.uploads.has(str(m['MediaId'])) ? { mediaId: str(m['MediaId']) } : { error: true }) },
  { path: Path.sendVideoMsg, endpoint: 'webwxsendvideomsg', types: [MsgType.VIDEO, MsgType.MICROVIDEO], check: (u, m) => (u.uploads.has(str(m['MediaId'])) ? { mediaId: str(m['MediaId']) } : { error: true }) },
  {
    path: Path.sendEmoticon,
    endpoint: 'webwxsendemoticon',
    types: [MsgType.EMOTICON],
    check: (u, m) => {
      const id = str(m['MediaId']);
      if (id) return u.uploads.has(id) ? { mediaId: id } : { error: true };
      return str(m['EMoticonMd5']) ? {} : { error: true };
    },
  },
  {
    path: Path.sendAppMsg,
    endpoint: 'webwxsendappmsg',
    types: [6, MsgType.APP, 5],
    check: (u, m) => {
      const content = str(m['Content']);
      if (!content) return { error: true };
      const id = attachId(content);
      if (m['Type'] === 6 || /<type>6<\/type>|&lt;type&gt;6&lt;\/type&gt;/.test(content)) return id && u.uploads.has(id) ? { mediaId: id } : { error: true };
      return id ? { mediaId: id } : {};
    },
  },
];

function mediaFor(u: SandboxUser, type: number, mediaId: string | undefined): StoredMessage['media'] | undefined {
  const up = mediaId ? u.uploads.get(mediaId) : undefined;
  if (!up) return undefined;
  if (type === MsgType.IMAGE) return { kind: 'image', bytes: up.bytes, thumb: up.bytes };
  if (type === MsgType.VIDEO || type === MsgType.MICROVIDEO) return { kind: 'video', bytes: up.bytes, thumb: u.core.media.videoThumb };
  if (type === MsgType.EMOTICON) return { kind: 'emoticon', bytes: up.bytes, thumb: up.bytes };
  return { kind: 'file', bytes: up.bytes, fileName: up.fileName };
}

export function registerSendRoutes(app: FastifyInstance, core: SandboxCore): void {
  for (const spec of SENDS) {
    wireRoute(app, core, {
      method: 'POST',
      path: spec.path,
      endpoint: spec.endpoint,
      faultAnswer: jsonFault(spec.endpoint, STYLE.small),
      handler: (req, reply) => {
        const fail = (ret: number) => sendServerJson(reply, ENVELOPE[spec.endpoint]!(ret), STYLE.small);
        const body = jsonBody(req);
        const a = authenticateJson(core, req, body);
        if (!a.ok) return fail(a.ret);
        const s = a.session;
        const u = s.user;
        const m = body?.['Msg'] as Msg | undefined;
        if (!m || typeof m !== 'object') return fail(Ret.PARAM_ERROR);
        const type = Number(m['Type']);
        const to = str(m['ToUserName']);
        const toId = s.ids.worldId(to);
        const toPerson = toId ? u.world.people.get(toId) : undefined;
        const toGroup = toId ? u.world.groups.get(toId) : undefined;
        const from = str(m['FromUserName']);
        if (from !== s.selfName || !spec.types.includes(type)) return fail(Ret.PARAM_ERROR);
        if (!toPerson && !(toGroup && toGroup.memberSet.has(u.world.self.id))) return fail(Ret.PARAM_ERROR);
        const checked = spec.check(u, m);
        if ('error' in checked) return fail(Ret.PARAM_ERROR);
        const msgId = Session.newMsgId();
        const localId = idStr(m['LocalID']) || idStr(m['ClientMsgId']);
        const content = str(m['Content']);
        u.sent.push({
          MsgID: msgId,
          LocalID: localId,
          Type: type,
          FromUserName: from,
          ToUserName: to,
          Content: content,
          ...(checked.mediaId ? { MediaId: checked.mediaId } : {}),
          endpoint: spec.endpoint,
          toNickName: toGroup ? toGroup.spec.topic : (toPerson?.remarkName || toPerson?.nickName) ?? '',
          createTime: Math.floor(Date.now() / 1000),
        });
        const media = mediaFor(u, type, checked.mediaId);
        const wire = wireMessage({ MsgId: msgId, FromUserName: from, ToUserName: to, MsgType: type, Content: content, MediaId: checked.mediaId ?? '' });
        s.storeMessage(media ? { wire, media } : { wire });
        if (toPerson?.behavior === 'echo' && type === MsgType.TEXT && content !== '') {
          core.later(0, () => {
            if (s.alive) deliver(u, s, { from: to, to: s.selfName, prefix: null }, buildText(content));
          });
        }
        return sendServerJson(reply, { BaseResponse: { Ret: 0, ErrMsg: '' }, MsgID: msgId, LocalID: localId }, STYLE.small);
      },
    });
  }

  wireRoute(app, core, {
    method: 'POST',
    path: Path.revokeMsg,
    endpoint: 'webwxrevokemsg',
    faultAnswer: jsonFault('webwxrevokemsg', STYLE.small),
    handler: (req, reply) => {
      const body = jsonBody(req);
      const a = authenticateJson(core, req, body);
      if (!a.ok) return sendServerJson(reply, ENVELOPE['webwxrevokemsg']!(a.ret), STYLE.small);
      const svr = str(body?.['SvrMsgId']);
      const rec = a.session.user.sent.find((r) => r.MsgID === svr && r.FromUserName === a.session.selfName);
      if (!rec || rec.ToUserName !== str(body?.['ToUserName'])) {
        return sendServerJson(reply, ENVELOPE['webwxrevokemsg']!(Ret.PARAM_ERROR), STYLE.small);
      }
      rec.revoked = true;
      rec.revokeClientMsgId = str(body?.['ClientMsgId']);
      return sendServerJson(reply, { BaseResponse: { Ret: 0, ErrMsg: '' }, Introduction: REVOKE_INTRODUCTION, SysWording: '' }, STYLE.small);
    },
  });
}
