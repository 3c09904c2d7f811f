/**
 * Downloads the media of an inbound message (shared/spec/wechat-web-protocol.md §9) into the media folder:
 * webwxgetmsgimg (image; emoticon with type=big), webwxgetvoice, webwxgetvideo (Range: bytes=0-), webwxgetmedia
 * on the file host (files). Streams to disk. Sets media_path/mime/size/ext/name/mtime; a failed download keeps the
 * message and records `media_error` (openwx decision; Mojo dropped the message).
 */
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import mime from 'mime-types';
import { owxError, isOpenwxError } from '../errors.ts';
import { splitMediaId, withMediaError, withMediaPath } from '../model/media.ts';
import type { Message } from '../model/types.ts';
import { Path } from '../wire/paths.ts';
import type { RawMessage } from '../wire/types.ts';
import type { Logger } from './logger.ts';
import type { ClientOptions } from './options.ts';
import type { Session } from './session.ts';
import type { Transport, TransportRequest } from './transport-types.ts';
import { expectStatus } from './wx-response.ts';

export interface MediaDownloaderDeps {
  transport: Transport;
  session: Session;
  options: ClientOptions;
  logger: Logger;
  signal(): AbortSignal;
}

/** Magic bytes → extension (WeChat labels GIF emoticons image/jpeg at times). */
function sniff(head: Buffer): string | null {
  if (head.subarray(0, 4).toString('latin1') === 'GIF8') return 'gif';
  if (head[0] === 0x89 && head.subarray(1, 4).toString('latin1') === 'PNG') return 'png';
  if (head[0] === 0xff && head[1] === 0xd8) return 'jpg';
  if (head.subarray(0, 3).toString('latin1') === 'ID3' || (head[0] === 0xff && (head[1]! & 0xe0) === 0xe0)) return 'mp3';
  if (head.subarray(4, 8).toString('latin1') === 'ftyp') return 'mp4';
  return null;
}

const EXT_MIME: Record<string, string> = { gif: 'image/gif', png: 'image/png', jpg: 'image/jpeg', mp3: 'audio/mpeg', mp4: 'video/mp4' };

function stamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** A file name that is safe on every filesystem and not a path (its length is cut by `fitName`). */
function safeName(name: string): string {
  const n = name.replace(/[/\\\0:*?"<>|\x00-\x1f]/g, '_').replace(/^\.+/, '_');
  return n || 'file';
}

/** Extensions longer than this (in UTF-8 bytes) are not kept whole when a name is cut. */
const EXT_KEPT_MAX_BYTES = 32;

/** The longest prefix of `s` of at most `maxBytes` UTF-8 bytes that splits no character. */
function cutBytes(s: string, maxBytes: number): string {
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > maxBytes) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/**
 * `stem + suffix + ext` in at most `maxBytes` UTF-8 bytes (a filesystem's name limit counts bytes: 255 is 85 Chinese
 * characters): the stem is cut, whole characters only; the suffix and a short extension are kept.
 */
export function fitName(name: string, suffix: string, maxBytes: number): string {
  let ext = extname(name);
  if (Buffer.byteLength(ext) > EXT_KEPT_MAX_BYTES || Buffer.byteLength(ext) + Buffer.byteLength(suffix) >= maxBytes) ext = '';
  const stem = name.slice(0, name.length - ext.length);
  const whole = `${stem}${suffix}${ext}`;
  if (Buffer.byteLength(whole) <= maxBytes) return whole;
  const room = Math.max(0, maxBytes - Buffer.byteLength(suffix) - Buffer.byteLength(ext));
  return `${cutBytes(stem, room) || cutBytes('file', room)}${suffix}${ext}`;
}

export class MediaDownloader {
  #seq = 0;
  constructor(private readonly d: MediaDownloaderDeps) {}

  /** Returns the message with its media fields set, or with `media_error` when the download failed. */
  async download(msg: Message, raw: RawMessage): Promise<Message> {
    if (msg.format !== 'media' || !msg.media_type) return msg;
    try {
      const req = this.#request(msg, raw);
      return await this.#fetch(msg, req);
    } catch (err) {
      if (this.d.signal().aborted) throw err;
      const why = isOpenwxError(err) ? err.message : owxError('OWX_ERR_DOWNLOAD_FAILED', [(err as Error).message]).message;
      this.d.logger.warn({ msgId: msg.id, mediaType: msg.media_type, err: why }, 'media download failed; delivering the message without it');
      return withMediaError(msg, why);
    }
  }

  #request(msg: Message, raw: RawMessage): TransportRequest {
    const { session, transport } = this.d;
    const skey = session.skey;
    const signal = this.d.signal();
    const timeoutMs = this.d.options.mediaDownloadTimeoutMs;
    const base = { role: 'page' as const, timeoutMs, signal };
    switch (msg.media_type) {
      case 'image':
        return { ...base, name: 'webwxgetmsgimg', path: Path.getMsgImg, query: [['MsgID', raw.MsgId], ['skey', skey]] };
      case 'emoticon':
        return { ...base, name: 'webwxgetmsgimg', path: Path.getMsgImg, query: [['MsgID', raw.MsgId], ['skey', skey], ['type', 'big']] };
      case 'voice':
        return { ...base, name: 'webwxgetvoice', path: Path.getVoice, query: [['msgid', raw.MsgId], ['skey', skey]] };
      case 'video':
      case 'microvideo':
        return {
          ...base, name: 'webwxgetvideo', path: Path.getVideo, query: [['msgid', raw.MsgId], ['skey', skey]], headers: { range: 'bytes=0-' },
        };
      case 'file': {
        const mediaId = raw.MediaId || splitMediaId(msg.media_id ?? '').id;
        return {
          ...base,
          role: 'file',
          name: 'webwxgetmedia',
          path: Path.getMedia,
          query: [
            ['sender', raw.FromUserName],
            ['mediaid', mediaId],
            ['encryfilename', raw.EncryFileName ?? ''],
            ['fromuser', session.uin],
            ['pass_ticket', session.passTicket || 'undefined'],
            ['webwx_data_ticket', transport.cookie('webwx_data_ticket') ?? ''],
          ],
        };
      }
      default:
        throw owxError('OWX_ERR_DOWNLOAD_FAILED', [`no download for media type ${String(msg.media_type)}`]);
    }
  }

  async #fetch(msg: Message, req: TransportRequest): Promise<Message> {
    const dir = this.d.options.mediaDir;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const res = await this.d.transport.request(req);
    await expectStatus(res, req.name, [206]);
    const type = String(res.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const tmp = join(dir, `.download-${process.pid}-${++this.#seq}.part`);
    let head = Buffer.alloc(0);
    let size = 0;
    // From here on, every way out but success removes the .part file.
    try {
      await pipeline(
        res.stream(),
        new Transform({
          transform(chunk: Buffer, _e, cb) {
            if (head.length < 16) head = Buffer.concat([head, chunk.subarray(0, 16 - head.length)]);
            size += chunk.length;
            cb(null, chunk);
          },
        }),
        createWriteStream(tmp, { mode: 0o600 }),
      );
      if (size === 0) throw owxError('OWX_ERR_DOWNLOAD_FAILED', [`${req.name}: empty answer`]);
      return await this.#store(msg, tmp, dir, head, size, type);
    } catch (err) {
      await rm(tmp, { force: true });
      if (isOpenwxError(err)) throw err;
      throw owxError('OWX_ERR_DOWNLOAD_FAILED', [`${req.name}: ${(err as Error).message}`], { cause: err });
    }
  }

  /** Moves the downloaded `.part` file to its final name and sets the message's media fields. */
  async #store(msg: Message, tmp: string, dir: string, head: Buffer, size: number, type: string): Promise<Message> {
    const sniffed = sniff(head);
    let ext: string;
    let name: string;
    if (msg.media_type === 'file') {
      name = safeName(msg.media_name || `file-${msg.id}`);
      ext = extname(name).slice(1).toLowerCase() || (sniffed ?? (mime.extension(type) || 'dat'));
    } else {
      ext = sniffed ?? (mime.extension(type) || 'dat');
      if (ext === 'jpeg') ext = 'jpg';
      if (ext === 'mpga') ext = 'mp3';
      name = `openwx_media_${stamp()}_${msg.id}.${ext}`;
    }
    const path = await this.#claimPath(dir, name);
    try {
      await rename(tmp, path);
    } catch (err) {
      await rm(path, { force: true });
      throw err;
    }
    const st = await stat(path);
    const mimeType = (sniffed ? EXT_MIME[sniffed] : undefined) ?? (type && type !== 'application/octet-stream' ? type : mime.lookup(ext) || 'application/octet-stream');
    this.d.logger.debug({ msgId: msg.id, path, size }, 'media downloaded');
    return withMediaPath(msg, path, {
      media_mime: mimeType,
      media_size: msg.media_type === 'file' && msg.media_size ? msg.media_size : size,
      media_ext: ext,
      media_name: msg.media_name || name,
      media_mtime: Math.floor(st.mtimeMs / 1000),
    });
  }

  /**
   * Creates (empty, exclusively) and returns `name`, or `name (2).ext`, … when taken (files keep their original
   * names, as Mojo does), each cut to `mediaFileNameMaxBytes`. Created exclusively, so two downloads of one name at
   * once get two files; the caller renames the download over it.
   */
  async #claimPath(dir: string, name: string): Promise<string> {
    const max = this.d.options.mediaFileNameMaxBytes;
    for (let n = 1; ; n++) {
      const candidate = join(dir, fitName(name, n === 1 ? '' : ` (${n})`, max));
      try {
        await (await open(candidate, 'wx', 0o600)).close();
        return candidate;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
  }
}
