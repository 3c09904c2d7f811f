/**
 * Downloads: webwxgetmsgimg (image/emoticon/video thumbnail), webwxgetvoice, webwxgetvideo (Range → 206),
 * webwxgeticon / webwxgetheadimg (avatars), webwxgetmedia (file host; uploaded files and inbound file messages).
 * Captures: http-webwxgetmsgimg, http-webwxgetvideo, http-webwxgeticon, http-webwxgetheadimg (QJesus 2018).
 * A request without a valid session gets an empty 200 (the real server sends no error document for media).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Path } from '../../wire/paths.ts';
import type { SandboxCore } from '../core.ts';
import { authenticate } from '../auth.ts';
import { qparam } from '../http-util.ts';
import type { Session } from '../sessions.ts';
import { wireRoute, type FaultAnswer } from './common.ts';

const WEEK_S = 604800;

function lastModified(): string {
  return new Date().toUTCString();
}

function emptyAnswer(): FaultAnswer {
  return { contentType: 'text/plain', body: '' };
}

function sendBytes(reply: FastifyReply, type: string, bytes: Buffer, cache = true): FastifyReply {
  reply.code(200).header('content-type', type).header('last-modified', lastModified());
  if (cache) reply.header('cache-control', `max-age=${WEEK_S}`);
  return reply.send(bytes);
}

/** Sends `bytes` honouring a `Range: bytes=…` header (206 + Content-Range), as webwxgetvideo does. */
export function sendRange(req: FastifyRequest, reply: FastifyReply, type: string, bytes: Buffer): FastifyReply {
  const range = req.headers.range;
  reply.header('content-type', type).header('accept-ranges', 'bytes').header('last-modified', 'Thu, 01 Jan 1970 00:00:00 GMT');
  if (!range) return reply.code(200).send(bytes);
  const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  const len = bytes.length;
  let start: number;
  let end: number;
  if (!m || (m[1] === '' && m[2] === '')) return reply.code(416).header('content-range', `bytes */${len}`).send('');
  if (m[1] === '') {
    start = Math.max(0, len - Number(m[2]));
    end = len - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? len - 1 : Math.min(Number(m[2]), len - 1);
  }
  if (start >= len || start > end) return reply.code(416).header('content-range', `bytes */${len}`).send('');
  return reply.code(206).header('content-range', `bytes ${start}-${end}/${len}`).send(bytes.subarray(start, end + 1));
}

/** The session of a media request: cookies (+ skey when given), or a matching webwx_data_ticket parameter. */
function mediaSession(core: SandboxCore, req: FastifyRequest): Session | null {
  const a = authenticate(core, req);
  if (a.ok) return a.session;
  const ticket = qparam(req, 'webwx_data_ticket');
  if (ticket) {
    const t = ticket.replace(/ /g, '+');
    for (const s of core.sessions.values()) if (s.alive && s.dataTicket === t) return s;
  }
  return null;
}

export function registerMediaRoutes(app: FastifyInstance, core: SandboxCore): void {
  const unauth = (reply: FastifyReply) => reply.code(200).header('content-type', 'text/plain').send('');
  const notFound = (reply: FastifyReply) => reply.code(404).header('content-type', 'text/html').send('');

  /** A GET on a media endpoint: answered only for a live session (an empty 200 otherwise, like the real server). */
  const mediaRoute = (endpoint: string, path: string, serve: (req: FastifyRequest, reply: FastifyReply, s: Session) => FastifyReply) =>
    wireRoute(app, core, {
      method: 'GET',
      path,
      endpoint,
      faultAnswer: emptyAnswer,
      handler: (req, reply) => {
        const s = mediaSession(core, req);
        if (!s) return unauth(reply);
        return serve(req, reply, s);
      },
    });
  const byMsg = (endpoint: string, path: string, serve: (req: FastifyRequest, reply: FastifyReply, s: Session, msgId: string) => FastifyReply) =>
    mediaRoute(endpoint, path, (req, reply, s) => serve(req, reply, s, qparam(req, 'msgid') ?? ''));

  byMsg('webwxgetmsgimg', Path.getMsgImg, (req, reply, s, msgId) => {
    const m = s.messages.get(msgId)?.media;
    if (!m) return notFound(reply);
    const slave = qparam(req, 'type') === 'slave';
    const bytes = slave ? (m.thumb ?? m.bytes) : m.kind === 'video' ? (m.thumb ?? m.bytes) : m.bytes;
    return sendBytes(reply, 'image/jpeg', bytes);
  });

  byMsg('webwxgetvoice', Path.getVoice, (_req, reply, s, msgId) => {
    const m = s.messages.get(msgId)?.media;
    if (!m || m.kind !== 'voice') return notFound(reply);
    return sendBytes(reply, 'audio/mpeg', m.bytes);
  });

  byMsg('webwxgetvideo', Path.getVideo, (req, reply, s, msgId) => {
    const m = s.messages.get(msgId)?.media;
    if (!m || m.kind !== 'video') return notFound(reply);
    return sendRange(req, reply, 'video/mp4', m.bytes);
  });

  for (const [endpoint, path] of [['webwxgeticon', Path.getIcon], ['webwxgetheadimg', Path.getHeadImg]] as const) {
    mediaRoute(endpoint, path, (req, reply, s) => {
      const name = qparam(req, 'username') ?? '';
      const id = s.ids.worldId(name);
      if (!id && name !== s.selfName) return notFound(reply);
      return sendBytes(reply, 'image/jpeg', core.avatars.get(id ?? s.user.identity.id));
    });
  }

  mediaRoute('webwxgetmedia', Path.getMedia, (req, reply, s) => {
    const up = s.user.uploads.get(qparam(req, 'mediaid') ?? '');
    if (!up) return notFound(reply);
    reply.header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(up.fileName)}`);
    return sendRange(req, reply, 'application/octet-stream', up.bytes);
  });
}
