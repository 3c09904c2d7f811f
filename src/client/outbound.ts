/**
 * Sending (shared/spec/wechat-web-protocol.md §7): webwxsendmsg (text), webwxsendmsgimg, webwxsendvideomsg,
 * webwxsendemoticon, webwxsendappmsg (file/voice) and webwxrevokemsg. Every send goes through the account's send
 * queue and resolves with WeChat's Ret, MsgID and LocalID; the sent message (class "send", source "local") is
 * emitted as send_message. Media uploads run inside the queued job; a known `media_id` is reused without upload.
 */
import { owxError, isOpenwxError, type OpenwxError } from '../errors.ts';
import { buildSendFileAppMsgXml } from '../wire/appmsg.ts';
import { MsgType, Ret } from '../wire/constants.ts';
import { isGroupId, localId as newLocalId } from '../wire/ids.ts';
import { Path } from '../wire/paths.ts';
import type { RevokeMsgResponse, SendMsg, SendMsgResponse } from '../wire/types.ts';
import type { MediaType, Message } from '../model/types.ts';
import type { MediaInput, SendResult, UploadedMedia } from './interface.ts';
import type { Logger } from './logger.ts';
import type { ClientOptions } from './options.ts';
import type { SendQueue } from './send-queue.ts';
import type { Session } from './session.ts';
import type { Transport } from './transport-types.ts';
import { MEDIA_CODE, mediaTypeOfCode, type PreparedMedia, type Uploader } from './upload.ts';
import { readJson, retError, baseRet } from './wx-response.ts';

export const SEND_OK_STATUS = '发送成功';
export const SEND_FAIL_STATUS = '发送失败';

/** What the account remembers of an uploaded media for `media_id` reuse. */
interface KnownMedia {
  name: string;
  size: number;
  ext: string;
  mime: string;
}

export type MediaRef = { mediaId: string; name?: string; size?: number; ext?: string };

export interface OutboundDeps {
  transport: Transport;
  session: Session;
  options: ClientOptions;
  logger: Logger;
  queue: SendQueue;
  uploader: Uploader;
  /** Emits send_message for our own sends. */
  onSent(msg: Message): void;
  /** Called with every MsgID we sent, so the echo in webwxsync is not reported twice. */
  remember(msgId: string): void;
  signal(): AbortSignal;
}

const KNOWN_MEDIA_MAX = 500;

export class Outbound {
  readonly #known = new Map<string, KnownMedia>();
  /** MsgID → LocalID of our recent sends: revoke sends the original ClientMsgId, as the official client. */
  readonly #localIds = new Map<string, string>();
  constructor(private readonly d: OutboundDeps) {}

  async sendText(to: string, content: string): Promise<SendResult> {
    if (!to) throw owxError('OWX_ERR_BAD_PARAM', ['empty receiver id']);
    if (typeof content !== 'string' || content.length === 0) throw owxError('OWX_ERR_BAD_PARAM', ['empty content']);
    const lid = newLocalId();
    const msg: SendMsg = {
      Type: MsgType.TEXT, Content: content, FromUserName: this.d.session.selfUserName(), ToUserName: to, LocalID: lid, ClientMsgId: lid,
    };
    return this.#send('webwxsendmsg', Path.sendMsg, [], msg, { format: 'text', content });
  }

  /** Uploads (unless `media` is a known media_id) and sends. */
  async sendMedia(to: string, media: MediaInput | MediaRef): Promise<SendResult> {
    if (!to) throw owxError('OWX_ERR_BAD_PARAM', ['empty receiver id']);
    if ('mediaId' in media && media.mediaId) return this.#sendKnownMedia(to, media);
    const input = media as MediaInput;
    // measure first (fails fast on a missing file / too large) — the upload itself runs in the queue
    const prepared = await this.d.uploader.prepare(input, this.d.signal());
    try {
      return await this.#queueMediaSend(to, prepared, null);
    } finally {
      await this.d.uploader.release(prepared);
    }
  }

  /** Upload only (Openwx upload_media): returns the media description with `"<MediaId>:<code>"`. */
  async uploadMedia(media: MediaInput, to?: string): Promise<UploadedMedia> {
    const prepared = await this.d.uploader.prepare(media, this.d.signal());
    try {
      const target = to || 'filehelper';
      const mediaId = await this.d.queue.enqueue('webwxuploadmedia', () => this.d.uploader.upload(prepared, target, this.d.signal()));
      this.#remember(mediaId, prepared);
      return describeUpload(prepared, mediaId);
    } finally {
      await this.d.uploader.release(prepared);
    }
  }

  async revoke(msgId: string, toUserName: string, clientMsgId?: string): Promise<boolean> {
    // accept Mojo's "<MsgID>:<ToUserName>" form too
    let svr = msgId;
    let to = toUserName;
    const colon = msgId.indexOf(':');
    if (colon > 0) {
      svr = msgId.slice(0, colon);
      to ||= msgId.slice(colon + 1);
    }
    if (!svr || !to) throw owxError('OWX_ERR_BAD_PARAM', ['revoke needs the message id and its receiver']);
    const { transport, session } = this.d;
    const res = await transport.request({
      name: 'webwxrevokemsg',
      role: 'page',
      path: Path.revokeMsg,
      method: 'POST',
      query: session.passTicketParam(),
      json: { BaseRequest: session.baseRequest(), SvrMsgId: svr, ToUserName: to, ClientMsgId: this.#localIds.get(svr) ?? clientMsgId ?? newLocalId() },
      signal: this.d.signal(),
    });
    const body = await readJson<RevokeMsgResponse>(res, 'webwxrevokemsg');
    const ret = baseRet(body);
    if (ret !== Ret.OK) {
      this.d.logger.warn({ ret, msgId: svr }, 'revoke refused by WeChat');
      return false;
    }
    return true;
  }

  async #sendKnownMedia(to: string, ref: MediaRef): Promise<SendResult> {
    const colon = ref.mediaId.lastIndexOf(':');
    const rawId = colon > 0 ? ref.mediaId.slice(0, colon) : ref.mediaId;
    const code = colon > 0 ? Number(ref.mediaId.slice(colon + 1)) : NaN;
    const type = mediaTypeOfCode(code) ?? 'file';
    const known = this.#known.get(rawId);
    const name = ref.name ?? known?.name ?? `media.${ref.ext ?? known?.ext ?? 'dat'}`;
    const m: PreparedMedia = {
      temp: false, name, mime: known?.mime ?? 'application/octet-stream', ext: ref.ext ?? known?.ext ?? (name.split('.').pop() || 'dat'),
      size: ref.size ?? known?.size ?? 0, md5: '', mtime: Date.now(), type,
    };
    return this.#queueMediaSend(to, m, rawId);
  }

  #queueMediaSend(to: string, m: PreparedMedia, existingMediaId: string | null): Promise<SendResult> {
    const lid = newLocalId();
    let mediaId = existingMediaId;
    const build = async (): Promise<{ name: string; path: string; query: [string, string][]; msg: SendMsg }> => {
      if (!mediaId) {
        mediaId = await this.d.uploader.upload(m, to, this.d.signal());
        this.#remember(mediaId, m);
      }
      const base = { FromUserName: this.d.session.selfUserName(), ToUserName: to, LocalID: lid, ClientMsgId: lid };
      switch (m.type) {
        case 'image':
          return { name: 'webwxsendmsgimg', path: Path.sendMsgImg, query: [['fun', 'async'], ['f', 'json']], msg: { Type: MsgType.IMAGE, MediaId: mediaId, Content: '', ...base } };
        case 'video':
        case 'microvideo':
          return { name: 'webwxsendvideomsg', path: Path.sendVideoMsg, query: [['fun', 'async'], ['f', 'json']], msg: { Type: MEDIA_CODE[m.type], MediaId: mediaId, Content: '', ...base } };
        case 'emoticon':
          return { name: 'webwxsendemoticon', path: Path.sendEmoticon, query: [['fun', 'sys']], msg: { Type: MsgType.EMOTICON, EmojiFlag: 2, MediaId: mediaId, ...base } };
        default: {
          const desktop = this.d.options.desktopMode;
          const content = buildSendFileAppMsgXml({ name: m.name, size: m.size, mediaId, ext: m.ext, desktop });
          const q: [string, string][] = [['fun', 'async'], ['f', 'json']];
          if (desktop) q.push(['mod', 'desktop']);
          return { name: 'webwxsendappmsg', path: Path.sendAppMsg, query: q, msg: { Type: 6, Content: content, ...base } };
        }
      }
    };
    const mediaType: MediaType = m.type === 'voice' ? 'file' : m.type;
    return this.#run(`send ${mediaType}`, async () => {
      const b = await build();
      const r = await this.#post(b.name, b.path, b.query, b.msg);
      return { ...r, mediaId: `${mediaId}:${MEDIA_CODE[mediaType]}` };
    }, (r) => ({
      format: 'media',
      content: `[${MEDIA_LABEL[mediaType]}]`,
      media_type: mediaType,
      media_code: MEDIA_CODE[mediaType],
      media_id: r?.mediaId ?? (mediaId ? `${mediaId}:${MEDIA_CODE[mediaType]}` : ''),
      media_name: m.name,
      media_size: m.size,
      media_mime: m.mime,
      media_ext: m.ext,
      media_mtime: Math.floor(m.mtime / 1000),
      ...(m.path && !m.temp ? { media_path: m.path } : {}),
    }), to, lid);
  }

  #send(name: string, path: string, query: [string, string][], msg: SendMsg, fields: Partial<Message>): Promise<SendResult> {
    return this.#run(name, () => this.#post(name, path, query, msg), () => fields, msg.ToUserName, msg.LocalID);
  }

  /** One queued send: resolves with the server's answer; failures resolve with code/status and `error`. */
  async #run(
    name: string,
    job: () => Promise<{ ret: number; msgId: string; localId: string; mediaId?: string }>,
    fields: (r: { mediaId?: string } | null) => Partial<Message>,
    to: string,
    lid: string,
  ): Promise<SendResult> {
    let r: { ret: number; msgId: string; localId: string; mediaId?: string } | null = null;
    let error: OpenwxError | null = null;
    try {
      r = await this.d.queue.enqueue(name, job);
    } catch (err) {
      // Stopped, or no longer this controller's to act for (a cluster's lease): nothing was sent, nothing to report.
      if (isOpenwxError(err, 'OWX_ERR_STOPPED') || isOpenwxError(err, 'OWX_ERR_LEASE_LOST')) throw err;
      error = isOpenwxError(err) ? err : owxError('OWX_ERR_SEND_FAILED', [(err as Error).message], { cause: err });
      this.d.logger.warn({ send: name, code: error.code, ret: error.ret }, `send failed: ${error.message}`);
    }
    const code = r ? r.ret : error?.ret ?? -1;
    const ok = code === 0;
    const msgId = r?.msgId ?? '';
    const message: Message = {
      id: ok ? `${msgId}:${to}` : lid,
      type: isGroupId(to) ? 'group_message' : 'friend_message',
      class: 'send',
      format: 'text',
      time: Math.floor(Date.now() / 1000),
      content: '',
      sender_id: this.d.session.selfUserName(),
      ...(isGroupId(to) ? { group_id: to } : { receiver_id: to }),
      source: 'local',
      local_id: r?.localId || lid,
      code,
      msg: ok ? SEND_OK_STATUS : SEND_FAIL_STATUS,
      ...(error ? { info: error.message } : {}),
      ...fields(r),
    };
    if (ok) {
      this.#localIds.set(msgId, r?.localId || lid);
      if (this.#localIds.size > KNOWN_MEDIA_MAX * 4) this.#localIds.delete(this.#localIds.keys().next().value!);
      this.d.remember(msgId);
      this.d.onSent(message);
    }
    const result: SendResult = {
      code,
      status: ok ? SEND_OK_STATUS : error?.message ?? SEND_FAIL_STATUS,
      msgId,
      localId: r?.localId || lid,
      toUserName: to,
      message,
    };
    if (r?.mediaId) result.mediaId = r.mediaId;
    if (error) result.error = error;
    return result;
  }

  async #post(name: string, path: string, query: [string, string][], msg: SendMsg) {
    const { transport, session } = this.d;
    const res = await transport.request({
      name,
      role: 'page',
      path,
      method: 'POST',
      query: [...query, ['lang', this.d.options.lang], ...session.passTicketParam()],
      json: { BaseRequest: session.baseRequest(), Msg: msg, Scene: 0 },
      signal: this.d.signal(),
    });
    const body = await readJson<SendMsgResponse>(res, name);
    const ret = baseRet(body);
    if (ret === undefined) throw owxError('OWX_ERR_WX_BAD_RESPONSE', [name, 'no BaseResponse.Ret']);
    if (ret === Ret.FREQ) throw retError(ret, String(body.BaseResponse?.ErrMsg ?? ''), name);
    if (ret !== Ret.OK) throw retError(ret, String(body.BaseResponse?.ErrMsg ?? ''), name);
    return { ret, msgId: String(body.MsgID ?? ''), localId: String(body.LocalID ?? msg.LocalID) };
  }

  #remember(mediaId: string, m: PreparedMedia): void {
    this.#known.set(mediaId, { name: m.name, size: m.size, ext: m.ext, mime: m.mime });
    if (this.#known.size > KNOWN_MEDIA_MAX) this.#known.delete(this.#known.keys().next().value!);
  }
}

const MEDIA_LABEL: Record<MediaType, string> = {
  image: '图片', voice: '语音', video: '视频', microvideo: '小视频', emoticon: '表情', file: '文件',
};

function describeUpload(m: PreparedMedia, mediaId: string): UploadedMedia {
  const t = m.type === 'voice' ? 'file' : m.type;
  return {
    media_id: `${mediaId}:${MEDIA_CODE[t]}`,
    media_code: MEDIA_CODE[t],
    media_type: t,
    media_path: m.path && !m.temp ? m.path : '',
    media_name: m.name,
    media_size: m.size,
    media_mime: m.mime,
    media_mtime: Math.floor(m.mtime / 1000),
    media_ext: m.ext,
  };
}
