/**
 * File host upload: webwxuploadmedia?f=json (multipart, optionally in `chunks`/`chunk` parts of 512 KiB, with the
 * uploadmediarequest JSON) and webwxcheckupload. Captures: http-webwxuploadmedia*.qjesus, webwxuploadmedia-*.
 * Chunks are reassembled by index; the final part answers the MediaId, intermediate ones MediaId "".
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Ret } from '../../wire/constants.ts';
import { Path } from '../../wire/paths.ts';
import type { SandboxCore } from '../core.ts';
import { authenticate, authenticateJson } from '../auth.ts';
import { jsonBody, originOf, sendServerJson } from '../http-util.ts';
import { ENVELOPE } from '../shapes.ts';
import { STYLE } from '../server-json.ts';
import { encryFileName, newMediaId } from '../inject.ts';
import { jpegSize } from '../media-gen.ts';
import { jsonFault, wireRoute } from './common.ts';

interface PartialUpload {
  parts: (Buffer | undefined)[];
  received: number;
  bytes: number;
  createdAt: number;
}

const PARTIAL_TTL_MS = 10 * 60_000;

function cors(req: FastifyRequest, reply: FastifyReply, core: SandboxCore): void {
  const o = originOf(req);
  const origin = typeof req.headers.origin === 'string' ? req.headers.origin : o.realName ? `${o.proto}://${core.opts.pageHost}` : `${o.proto}://${o.host}`;
  reply.header('access-control-allow-origin', origin);
  reply.header('access-control-allow-credentials', 'true');
}

export function registerUploadRoutes(app: FastifyInstance, core: SandboxCore): void {
  const partials = new Map<string, PartialUpload>();

  app.options(Path.uploadMedia, (req, reply) => {
    cors(req, reply, core);
    reply.header('access-control-allow-methods', 'POST, OPTIONS');
    reply.header('access-control-allow-headers', String(req.headers['access-control-request-headers'] ?? 'content-type'));
    return reply.code(200).send('');
  });

  wireRoute(app, core, {
    method: 'POST',
    path: Path.uploadMedia,
    endpoint: 'webwxuploadmedia',
    faultAnswer: jsonFault('webwxuploadmedia', STYLE.upload),
    handler: async (req, reply) => {
      cors(req, reply, core);
      const fail = (ret: number) => sendServerJson(reply, ENVELOPE['webwxuploadmedia']!(ret), STYLE.upload);
      if (!req.isMultipart()) return fail(Ret.PARAM_ERROR);
      const fields: Record<string, string> = {};
      let file: Buffer | undefined;
      let fileName = '';
      try {
        for await (const part of req.parts()) {
          if (part.type === 'file') {
            file = await part.toBuffer();
            fileName = part.filename;
          } else fields[part.fieldname] = String(part.value);
        }
      } catch {
        return fail(Ret.PARAM_ERROR);
      }
      let umr: Record<string, unknown> | null = null;
      try {
        umr = JSON.parse(fields['uploadmediarequest'] ?? '') as Record<string, unknown>;
      } catch {
        umr = null;
      }
      if (!umr || typeof umr !== 'object' || !file) return fail(Ret.PARAM_ERROR);
      // The session: the cookies; without them (itchat before 1.3 posted the upload outside its cookie jar) the
      // uploadmediarequest BaseRequest.Sid or the session whose webwx_data_ticket the form carries.
      const br = umr['BaseRequest'] as { Sid?: unknown } | undefined;
      const ticket = (fields['webwx_data_ticket'] ?? '').replace(/ /g, '+');
      const byTicket = ticket ? [...core.sessions.values()].find((x) => x.dataTicket === ticket)?.sid : undefined;
      const a = authenticate(core, req, { fallbackSid: typeof br?.Sid === 'string' && br.Sid ? br.Sid : byTicket });
      if (!a.ok) return fail(a.ret);
      const s = a.session;
      const chunks = fields['chunks'] !== undefined ? Number(fields['chunks']) : 1;
      const chunk = fields['chunk'] !== undefined ? Number(fields['chunk']) : 0;
      if (!Number.isInteger(chunks) || chunks < 1 || !Number.isInteger(chunk) || chunk < 0 || chunk >= chunks) return fail(Ret.PARAM_ERROR);
      const name = fields['name'] || fileName;
      const key = `${s.sid}|${String(umr['ClientMediaId'] ?? '')}|${fields['id'] ?? ''}|${name}`;
      const now = Date.now();
      for (const [k, p] of partials) if (now - p.createdAt > PARTIAL_TTL_MS) partials.delete(k);
      let p = partials.get(key);
      if (!p || p.parts.length !== chunks) {
        p = { parts: new Array<Buffer | undefined>(chunks).fill(undefined), received: 0, bytes: 0, createdAt: now };
        partials.set(key, p);
      }
      if (p.parts[chunk] === undefined) {
        p.received++;
        p.bytes += file.length;
      }
      p.parts[chunk] = file;
      if (p.received < chunks) {
        return sendServerJson(reply, { BaseResponse: { Ret: 0, ErrMsg: '' }, MediaId: '', StartPos: p.bytes, CDNThumbImgHeight: 0, CDNThumbImgWidth: 0, EncryFileName: '' }, STYLE.upload);
      }
      partials.delete(key);
      const bytes = Buffer.concat(p.parts as Buffer[]);
      const total = Number(umr['TotalLen']);
      if (Number.isFinite(total) && total > 0 && total !== bytes.length) return fail(Ret.PARAM_ERROR);
      const mediaId = newMediaId();
      const mediaType = fields['mediatype'] ?? 'doc';
      s.user.uploads.set(mediaId, { mediaId, bytes, fileName: name, mime: fields['type'] ?? 'application/octet-stream', mediaType });
      const size = mediaType === 'pic' ? jpegSize(bytes) : null;
      const scale = size ? 100 / Math.max(size.width, size.height, 1) : 0;
      return sendServerJson(
        reply,
        {
          BaseResponse: { Ret: 0, ErrMsg: '' },
          MediaId: mediaId,
          StartPos: bytes.length,
          CDNThumbImgHeight: size ? Math.round(size.height * scale) : 0,
          CDNThumbImgWidth: size ? Math.round(size.width * scale) : 0,
          EncryFileName: encryFileName(name),
        },
        STYLE.upload,
      );
    },
  });

  wireRoute(app, core, {
    method: 'POST',
    path: Path.checkUpload,
    endpoint: 'webwxcheckupload',
    faultAnswer: jsonFault('webwxcheckupload', STYLE.small),
    handler: (req, reply) => {
      const body = jsonBody(req);
      const a = authenticateJson(core, req, body);
      if (!a.ok) return sendServerJson(reply, ENVELOPE['webwxcheckupload']!(a.ret), STYLE.small);
      const name = typeof body?.['FileName'] === 'string' ? body['FileName'] : '';
      // MediaId "" = not on the server yet: the client uploads it.
      return sendServerJson(reply, { BaseResponse: { Ret: 0, ErrMsg: '' }, MediaId: '', AESKey: '', Signature: '', EncryFileName: encryFileName(name) }, STYLE.small);
    },
  });
}
