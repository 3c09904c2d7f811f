/**
 * Media upload (shared/spec/wechat-web-protocol.md §7.3): `webwxuploadmedia?f=json` on the file host, multipart in
 * the browser's field order, 512 KiB chunks (`chunks`/`chunk` when more than one), FileMd5 computed by streaming.
 * Input comes from a local file (read chunk by chunk), an http(s) URL (streamed to a temp file with a size cap first)
 * or bytes in memory. The size limit is `mediaSizeMaxBytes`.
 *
 * Memory: a file or in-memory data leaves no garbage Buffers that grow with its size. FileMd5 reads through one buffer; each
 * chunk's multipart body (wire/multipart.ts) wraps one chunk buffer per upload (a view of in-memory data), refilled
 * for chunk i+1 only after chunk i's request was answered and its body fully taken; after any failure that buffer is
 * dropped, never refilled (a later upload or retry gets a new one).
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import mime from 'mime-types';
import { owxError, isOpenwxError } from '../errors.ts';
import { fetchMediaUrl } from '../security/fetch-url.ts';
import { MsgType, type UploadMediaKind } from '../wire/constants.ts';
import { MultipartBody } from '../wire/multipart.ts';
import { Path } from '../wire/paths.ts';
import type { UploadMediaRequest, UploadMediaResponse } from '../wire/types.ts';
import type { MediaType } from '../model/types.ts';
import type { MediaInput } from './interface.ts';
import type { Logger } from './logger.ts';
import type { ClientOptions } from './options.ts';
import type { Session } from './session.ts';
import type { Transport } from './transport-types.ts';
import { readWx } from './wx-response.ts';

/** media_type → the message type code Mojo uses in `"<MediaId>:<code>"`. */
export const MEDIA_CODE: Record<MediaType, number> = {
  image: MsgType.IMAGE,
  emoticon: MsgType.EMOTICON,
  video: MsgType.VIDEO,
  microvideo: MsgType.MICROVIDEO,
  voice: MsgType.VOICE,
  file: 6,
};

export function mediaTypeOfCode(code: number): MediaType | undefined {
  return (Object.entries(MEDIA_CODE) as [MediaType, number][]).find(([, c]) => c === code)?.[0];
}

/** Media ready to upload: its bytes are on disk (`path`) or in memory (`data`). */
export interface PreparedMedia {
  path?: string;
  data?: Buffer;
  /** A temp file we created (deleted by `release`). */
  temp: boolean;
  name: string;
  mime: string;
  ext: string;
  size: number;
  md5: string;
  mtime: number;
  type: MediaType;
}

/** Mojo's rule: gif → emoticon, video/mp4|mpeg → video, image/* → image, else file. */
export function mediaTypeOf(mimeType: string, explicit?: string): MediaType {
  if (explicit && explicit in MEDIA_CODE) return explicit as MediaType;
  if (mimeType === 'image/gif') return 'emoticon';
  if (mimeType === 'video/mp4' || mimeType === 'video/mpeg') return 'video';
  if (mimeType.startsWith('image/')) return 'image';
  return 'file';
}

function uploadKind(t: MediaType): UploadMediaKind {
  return t === 'image' || t === 'emoticon' ? 'pic' : t === 'video' || t === 'microvideo' ? 'video' : 'doc';
}

export interface UploaderDeps {
  transport: Transport;
  session: Session;
  options: ClientOptions;
  logger: Logger;
}

export class Uploader {
  #fileSeq = 0;
  constructor(private readonly d: UploaderDeps) {}

  get #tmpDir(): string {
    return join(this.d.options.dataDir, 'tmp');
  }

  /** Validates and measures the input (size, MD5, MIME, name) without uploading it. */
  async prepare(input: MediaInput, signal?: AbortSignal): Promise<PreparedMedia> {
    const max = this.d.options.mediaSizeMaxBytes;
    const tooLarge = () => owxError('OWX_ERR_MEDIA_TOO_LARGE', [max]);
    if (input.data) {
      if (input.data.length === 0) throw owxError('OWX_ERR_MEDIA_INVALID', ['empty media data']);
      if (input.data.length > max) throw tooLarge();
      const name = input.name ?? `media.${input.mime ? mime.extension(input.mime) || 'dat' : 'dat'}`;
      const type = input.mime ?? (mime.lookup(name) || 'application/octet-stream');
      return this.#describe({ data: input.data, temp: false, name, mimeType: type, size: input.data.length, md5: md5(input.data), mtime: Date.now() }, input.type);
    }
    if (input.path) {
      let st;
      try {
        st = await stat(input.path);
      } catch {
        throw owxError('OWX_ERR_MEDIA_INVALID', [`no such file: ${input.path}`]);
      }
      if (!st.isFile()) throw owxError('OWX_ERR_MEDIA_INVALID', [`not a file: ${input.path}`]);
      if (st.size === 0) throw owxError('OWX_ERR_MEDIA_INVALID', [`empty file: ${input.path}`]);
      if (st.size > max) throw tooLarge();
      const name = input.name ?? basename(input.path);
      const type = input.mime ?? (mime.lookup(name) || 'application/octet-stream');
      const hash = await md5File(input.path, st.size);
      return this.#describe({ path: input.path, temp: false, name, mimeType: type, size: st.size, md5: hash, mtime: st.mtimeMs }, input.type);
    }
    if (input.url) {
      const { options, logger } = this.d;
      const fetched = await fetchMediaUrl(input.url, {
        maxBytes: max,
        timeoutMs: options.mediaDownloadTimeoutMs,
        maxRedirections: options.mediaUrlMaxRedirections,
        allowPrivate: options.allowPrivateMediaUrls,
        logger,
        ...(signal ? { signal } : {}),
      });
      await mkdir(this.#tmpDir, { recursive: true, mode: 0o700 });
      const tmp = join(this.#tmpDir, `upload-${process.pid}-${Date.now()}-${++this.#fileSeq}`);
      const hash = createHash('md5');
      let size = 0;
      try {
        await pipeline(
          fetched.stream,
          new Transform({
            transform(chunk: Buffer, _enc, cb) {
              hash.update(chunk);
              size += chunk.length;
              cb(null, chunk);
            },
          }),
          createWriteStream(tmp, { mode: 0o600 }),
        );
      } catch (err) {
        await rm(tmp, { force: true });
        if (isOpenwxError(err)) throw err;
        // The fetched stream fails with OWX_ERR_MEDIA_URL_FAILED itself; what is left is the temp file.
        throw owxError('OWX_ERR_DOWNLOAD_FAILED', [`cannot write the temp file: ${(err as Error).message}`], { cause: err });
      }
      if (size === 0) {
        await rm(tmp, { force: true });
        throw owxError('OWX_ERR_MEDIA_INVALID', [`empty download: ${input.url}`]);
      }
      const type = input.mime ?? fetched.mime ?? (mime.lookup(fetched.name) || 'application/octet-stream');
      let name = input.name ?? (fetched.name || 'media');
      if (!extname(name)) name += `.${mime.extension(type) || 'dat'}`;
      return this.#describe({ path: tmp, temp: true, name, mimeType: type, size, md5: hash.digest('hex'), mtime: Date.now() }, input.type);
    }
    throw owxError('OWX_ERR_MEDIA_INVALID', ['no media: give a path, a URL or data']);
  }

  #describe(
    m: { path?: string; data?: Buffer; temp: boolean; name: string; mimeType: string; size: number; md5: string; mtime: number },
    explicitType?: string,
  ): PreparedMedia {
    const ext = (extname(m.name).slice(1) || mime.extension(m.mimeType) || 'dat').toLowerCase();
    const out: PreparedMedia = {
      temp: m.temp, name: m.name, mime: m.mimeType, ext, size: m.size, md5: m.md5, mtime: Math.floor(m.mtime),
      type: mediaTypeOf(m.mimeType, explicitType),
    };
    if (m.path) out.path = m.path;
    if (m.data) out.data = m.data;
    return out;
  }

  async release(m: PreparedMedia): Promise<void> {
    if (m.temp && m.path) await rm(m.path, { force: true });
  }

  /**
   * Uploads in `uploadChunkBytes` parts; returns WeChat's MediaId (`@crypt_…`). Each part's multipart body is built
   * around the chunk's bytes without copying them: a subarray of in-memory data, or a file read into one buffer per
   * upload that is refilled only after the previous part's request was answered and took every byte.
   */
  async upload(m: PreparedMedia, toUserName: string, signal?: AbortSignal): Promise<string> {
    const { transport, session, options, logger } = this.d;
    const chunkBytes = options.uploadChunkBytes;
    const chunks = Math.max(1, Math.ceil(m.size / chunkBytes));
    if (!m.path && !m.data) throw owxError('OWX_ERR_UPLOAD_FAILED', [`no bytes to upload for ${m.name}: neither a path nor data`]);
    const source = m.path ? await FileChunks.open(m.path, m.size, chunkBytes) : new MemoryChunks(m.data!, chunkBytes);
    const fileId = `WU_FILE_${this.#fileSeq++}`;
    const clientMediaId = Date.now();
    const dataTicket = transport.cookie('webwx_data_ticket') ?? '';
    let passTicket = session.passTicket;
    try {
      passTicket = decodeURIComponent(session.passTicket);
    } catch {
      /* keep as is */
    }
    let mediaId = '';
    try {
      for (let i = 0; i < chunks; i++) {
        const req: UploadMediaRequest = {
          UploadType: 2,
          BaseRequest: session.baseRequest(),
          ClientMediaId: clientMediaId,
          TotalLen: m.size,
          StartPos: 0,
          DataLen: m.size,
          MediaType: 4,
          FromUserName: session.selfUserName(),
          ToUserName: toUserName,
          FileMd5: m.md5,
        };
        // The browser's field order (captures http-webwxuploadmedia*.qjesus).
        const fields: [string, string][] = [
          ['id', fileId],
          ['name', m.name],
          ['type', m.mime],
          ['lastModifiedDate', new Date(m.mtime).toString()],
          ['size', String(m.size)],
        ];
        if (chunks > 1) fields.push(['chunks', String(chunks)], ['chunk', String(i)]);
        fields.push(
          ['mediatype', uploadKind(m.type)],
          ['uploadmediarequest', JSON.stringify(req)],
          ['webwx_data_ticket', dataTicket],
          ['pass_ticket', passTicket],
        );
        const data = await source.chunk(i, `chunk ${i + 1}/${chunks}`);
        const body = new MultipartBody(fields, { field: 'filename', filename: m.name, type: m.mime, data });
        let answer: UploadMediaResponse;
        try {
          const res = await transport.request({
            name: 'webwxuploadmedia',
            role: 'file',
            path: Path.uploadMedia,
            method: 'POST',
            query: [['f', 'json']],
            body,
            timeoutMs: options.uploadTimeoutMs,
            ...(signal ? { signal } : {}),
          });
          answer = await readWx<UploadMediaResponse>(res, 'webwxuploadmedia');
        } catch (err) {
          // An error, a timeout or an abort may leave the body half written: its buffer is never filled again.
          source.discard();
          if (isOpenwxError(err, 'OWX_ERR_WX_RATE_LIMITED') || isOpenwxError(err, 'OWX_ERR_SYNC_LOGOUT')) throw err;
          throw owxError('OWX_ERR_UPLOAD_FAILED', [`chunk ${i + 1}/${chunks}: ${(err as Error).message}`], { cause: err, ret: (err as { ret?: number }).ret });
        }
        // Answered before the body was all taken (a server that did not read it): the buffer may still be in use.
        if (!body.drained) source.discard();
        if (answer.MediaId) mediaId = answer.MediaId;
        logger.debug({ chunk: i + 1, chunks }, 'uploaded media chunk');
      }
    } finally {
      await source.close();
    }
    if (!mediaId) throw owxError('OWX_ERR_UPLOAD_FAILED', ['WeChat returned no MediaId']);
    return mediaId;
  }
}

/** The bytes of one upload, chunk by chunk. */
interface ChunkSource {
  /** Chunk `i`'s bytes; valid until the next call. */
  chunk(i: number, what: string): Promise<Buffer>;
  /** The last chunk's bytes may still be referenced by a request that did not end cleanly: never refill them. */
  discard(): void;
  close(): Promise<void>;
}

/** In-memory data: each chunk is a view of it, nothing is copied. */
class MemoryChunks implements ChunkSource {
  constructor(
    private readonly data: Buffer,
    private readonly chunkBytes: number,
  ) {}

  async chunk(i: number): Promise<Buffer> {
    return this.data.subarray(i * this.chunkBytes, Math.min(this.data.length, (i + 1) * this.chunkBytes));
  }

  discard(): void {}

  async close(): Promise<void> {}
}

/** A file read chunk by chunk into one buffer (a new one only after `discard`). */
class FileChunks implements ChunkSource {
  #buf: Buffer | undefined;

  private constructor(
    private readonly fh: FileHandle,
    private readonly path: string,
    private readonly size: number,
    private readonly chunkBytes: number,
  ) {}

  static async open(path: string, size: number, chunkBytes: number): Promise<FileChunks> {
    const fh = await openForReading(path, 'OWX_ERR_UPLOAD_FAILED');
    try {
      const st = await fh.stat();
      if (st.size !== size) throw owxError('OWX_ERR_UPLOAD_FAILED', [`${path} changed since it was measured (${size} → ${st.size} bytes)`]);
    } catch (err) {
      await fh.close().catch(() => undefined);
      if (isOpenwxError(err)) throw err;
      throw owxError('OWX_ERR_UPLOAD_FAILED', [`cannot read ${path}: ${(err as Error).message}`], { cause: err });
    }
    return new FileChunks(fh, path, size, chunkBytes);
  }

  async chunk(i: number, what: string): Promise<Buffer> {
    const start = i * this.chunkBytes;
    const n = Math.min(this.chunkBytes, this.size - start);
    const buf = (this.#buf ??= Buffer.allocUnsafeSlow(Math.min(this.chunkBytes, this.size)));
    let filled = 0;
    try {
      while (filled < n) {
        const { bytesRead } = await this.fh.read(buf, filled, n - filled, start + filled);
        if (bytesRead === 0) throw owxError('OWX_ERR_UPLOAD_FAILED', [`${what}: ${this.path} is shorter than the ${this.size} bytes measured`]);
        filled += bytesRead;
      }
    } catch (err) {
      if (isOpenwxError(err)) throw err;
      throw owxError('OWX_ERR_UPLOAD_FAILED', [`${what}: cannot read ${this.path}: ${(err as Error).message}`], { cause: err });
    }
    return buf.subarray(0, n);
  }

  discard(): void {
    this.#buf = undefined;
  }

  async close(): Promise<void> {
    await this.fh.close().catch(() => undefined);
  }
}

function md5(b: Buffer): string {
  return createHash('md5').update(b).digest('hex');
}

/** Bytes read per step by `md5File`, into one buffer (`hash.update` copies what it needs before the next read). */
const MD5_READ_BYTES = 256 * 1024;

/** Opens `path` for reading; a failure is the openwx error `code` saying why. */
async function openForReading(path: string, code: 'OWX_ERR_UPLOAD_FAILED' | 'OWX_ERR_MEDIA_INVALID'): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (err) {
    throw owxError(code, [`cannot read ${path}: ${(err as Error).message}`], { cause: err });
  }
}

/** The file's MD5, read through one buffer of at most `MD5_READ_BYTES` (no garbage that grows with the file). */
async function md5File(path: string, size: number): Promise<string> {
  const h = createHash('md5');
  const fh = await openForReading(path, 'OWX_ERR_MEDIA_INVALID');
  try {
    const buf = Buffer.allocUnsafeSlow(Math.max(1, Math.min(MD5_READ_BYTES, size)));
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      h.update(buf.subarray(0, bytesRead));
    }
  } catch (err) {
    throw owxError('OWX_ERR_MEDIA_INVALID', [`cannot read ${path}: ${(err as Error).message}`], { cause: err });
  } finally {
    await fh.close().catch(() => undefined);
  }
  return h.digest('hex');
}
