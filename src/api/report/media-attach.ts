/**
 * Media attaching: a media report carries `media_data` by reference. The report is stored without it, plus the
 * file's path and size (`ReportMedia`); the sink streams the MIME base64 into the POST body and the check_event
 * queue reads it when a poller takes the item (src/delivery/media-body.ts), so no report holds the file or its
 * base64 in memory. Only a host's own sink without `mediaByReference` gets the whole body with `media_data` in it.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { withMediaData } from '../../delivery/media-body.ts';
import type { Delivery, ReportMedia } from '../../delivery/sink.ts';
import type { Message } from '../../model/types.ts';
import type { PostJson } from './report-json.ts';

/** Largest media file sent as `media_data` by default. */
export const MEDIA_DATA_MAX_BYTES = 20 * 1024 * 1024;

export interface MediaAttachOptions {
  /** `post_media_data`: off removes `media_data` from every report. */
  postMediaData: boolean;
  /** Largest media file sent as `media_data`. */
  mediaDataMaxBytes?: number | undefined;
  logger: Logger;
}

/**
 * The file a media report carries as `media_data`, when `post_media_data` is on and the file is a regular file of
 * at most `mediaDataMaxBytes`: a reference (path, size now), read only when the report is sent or polled. Removes
 * `media_data` from `json` when it is off, or when it is attached by reference (added back as the last key).
 */
export async function mediaOf(json: PostJson, m: Message, o: MediaAttachOptions): Promise<ReportMedia | null> {
  if (!o.postMediaData) {
    delete json.media_data;
    return null;
  }
  if (json.format !== 'media' || typeof json.media_data === 'string' || !m.media_path) return null;
  const max = o.mediaDataMaxBytes ?? MEDIA_DATA_MAX_BYTES;
  try {
    const path = resolve(m.media_path);
    const st = await stat(path);
    if (!st.isFile() || st.size > max) return null;
    delete json.media_data; // added as the last key when the report is sent
    return { path, size: st.size };
  } catch (err) {
    o.logger.debug({ err, path: m.media_path }, 'media_data not attached');
    return null;
  }
}

/** The JSON text handed to the sink: without media_data, unless the sink takes whole bodies only (a host's own). */
export async function sinkBody(json: PostJson, media: ReportMedia | null, sink: Delivery | null, logger: Logger): Promise<string | null> {
  if (!sink) return null;
  if (!media || sink.mediaByReference) return JSON.stringify(json);
  return JSON.stringify(await withMediaData(json, media, logger));
}
