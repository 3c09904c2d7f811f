/**
 * `media_data` by reference. A media report is stored (outbox, in-memory sink, check_event queue) as its JSON text
 * WITHOUT `media_data` plus a reference to the file (`ReportMedia`: path and size at report time). The base64 is
 * produced only when the report leaves openwx:
 * - POSTs stream it (`streamedBody`): the JSON text with `"media_data":"<MIME base64, line ends JSON-escaped>"`
 *   inserted as the last key, read from the file in bounded steps. The bytes are exactly those of
 *   `JSON.stringify({ ...json, media_data: mimeBase64(file) })`, and the length is known from the file size.
 * - check_event and sinks that take whole bodies get the text once (`readMediaData`).
 * A file that is gone, no longer a regular file, or of another size than at report time is not attached: the report
 * goes without `media_data` (logged at debug), it is never failed or dropped for that.
 */
import { open, stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import { owxError } from '../errors.ts';
import { encodeLines, JSON_NEWLINE, LINE_BYTES, mimeBase64Length, NEWLINE } from '../model/mime-base64.ts';

/** The media file of a report, read into `media_data` only when the report is sent or polled. */
export interface ReportMedia {
  /** Absolute path of the file. */
  path: string;
  /** Its size in bytes when the report was built. */
  size: number;
}

/** File bytes read per step (whole base64 lines: 4096 lines, 228 KiB → 311 KiB of base64). */
export const FILE_STEP_BYTES = LINE_BYTES * 1024 * 4;

/** A POST body produced on demand: `chunks()` may be called more than once (signature pass, then the request). */
export interface StreamedBody {
  length: number;
  chunks(): AsyncGenerator<Buffer>;
}

/** Why the referenced file cannot be attached now, or null when it can. */
export async function mediaProblem(media: ReportMedia): Promise<string | null> {
  try {
    const st = await stat(media.path);
    if (!st.isFile()) return 'not a regular file any more';
    if (st.size !== media.size) return `size changed from ${media.size} to ${st.size} bytes`;
    return null;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? String(err);
  }
}

/** The first `size` bytes of a file in steps of `stepBytes` (the last one shorter); throws if the file is shorter. */
export async function* readSteps(path: string, size: number, stepBytes = FILE_STEP_BYTES): AsyncGenerator<Buffer> {
  const fh = await open(path, 'r');
  try {
    for (let done = 0; done < size; ) {
      const buf = Buffer.allocUnsafe(Math.min(stepBytes, size - done));
      for (let got = 0; got < buf.length; ) {
        const { bytesRead } = await fh.read(buf, got, buf.length - got, done + got);
        if (bytesRead === 0) throw owxError('OWX_ERR_POST_API', [`media file ${path} shrank below ${size} bytes while it was read`]);
        got += bytesRead;
      }
      done += buf.length;
      yield buf;
    }
  } finally {
    await fh.close();
  }
}

/** The MIME base64 of the referenced file, chunk by chunk, with `eol` line ends. */
export async function* mediaBase64Chunks(media: ReportMedia, eol: Buffer): AsyncGenerator<Buffer> {
  for await (const step of readSteps(media.path, media.size)) yield encodeLines(step, eol);
}

/**
 * The POST body of a report with media: null when there is no media, or the file cannot be attached (then the
 * stored JSON text is the body).
 */
export async function streamedBody(body: string, media: ReportMedia | null | undefined, log?: Logger): Promise<StreamedBody | null> {
  if (!media) return null;
  const problem = body.startsWith('{') && body.endsWith('}') ? await mediaProblem(media) : 'the report is not a JSON object';
  if (problem) {
    log?.debug({ path: media.path, problem }, 'media_data not attached: the report is sent without it');
    return null;
  }
  const head = Buffer.from(`${body.slice(0, -1)}${body.length > 2 ? ',' : ''}"media_data":"`, 'utf8');
  const tail = Buffer.from('"}', 'utf8');
  return {
    length: head.length + mimeBase64Length(media.size, JSON_NEWLINE.length) + tail.length,
    async *chunks() {
      yield head;
      yield* mediaBase64Chunks(media, JSON_NEWLINE);
      yield tail;
    },
  };
}

/** The `media_data` text of the referenced file ("\n" line ends), or null when it cannot be attached (logged at debug). */
export async function readMediaData(media: ReportMedia, log?: Logger): Promise<string | null> {
  const problem = await mediaProblem(media);
  if (!problem) {
    try {
      const out = Buffer.allocUnsafe(mimeBase64Length(media.size, NEWLINE.length));
      let pos = 0;
      for await (const c of mediaBase64Chunks(media, NEWLINE)) pos += c.copy(out, pos);
      return out.toString('latin1', 0, pos);
    } catch (err) {
      log?.debug({ path: media.path, err }, 'media_data not attached: the file could not be read');
      return null;
    }
  }
  log?.debug({ path: media.path, problem }, 'media_data not attached');
  return null;
}

/** The report JSON with `media_data` as its last key (as post_api gets it), or unchanged when the file cannot be attached. */
export async function withMediaData<T extends Record<string, unknown>>(json: T, media: ReportMedia, log?: Logger): Promise<T> {
  const data = await readMediaData(media, log);
  return data === null ? json : { ...json, media_data: data };
}
