/**
 * Turns the `media_*` parameters of a send/consult/upload request into what the client takes: a media_id reuse,
 * bytes (multipart file or base64 `media_data`), a local file, or an http(s) URL. Unusable input is rejected at
 * once (Mojo hung on a bad URL and answered `invaild media_path` for a bad file) so no request waits on it.
 * Local files are confined to the configured media folders.
 */
import { basename } from 'node:path';
import type { MediaInput } from '../client/interface.ts';
import { owxError } from '../errors.ts';
import { resolveMediaPath } from '../security/media-path.ts';
import type { UploadedFile } from './context.ts';

export type MediaRef = { mediaId: string; name?: string; size?: number; ext?: string };
export type MediaSpec = MediaInput | MediaRef;

export function isMediaRef(m: MediaSpec): m is MediaRef {
  return 'mediaId' in m;
}

export interface MediaParams {
  media_id?: string | undefined;
  media_path?: string | undefined;
  media_data?: string | undefined;
  media_name?: string | undefined;
  media_mime?: string | undefined;
  media_type?: string | undefined;
  media_ext?: string | undefined;
  media_size?: string | undefined;
}

const BASE64 = /^[A-Za-z0-9+/\r\n]*={0,2}[\r\n]*$/;

/** The media of a request, or null when it names none. Throws OWX_ERR_MEDIA_INVALID for unusable input. */
export async function mediaFromParams(
  p: MediaParams,
  files: Record<string, UploadedFile>,
  mediaDirs: readonly string[],
): Promise<MediaSpec | null> {
  const common = {
    ...(p.media_name ? { name: p.media_name } : {}),
    ...(p.media_mime ? { mime: p.media_mime } : {}),
    ...(p.media_type ? { type: p.media_type } : {}),
  };
  if (p.media_id) {
    const size = p.media_size !== undefined && /^\d+$/.test(p.media_size) ? Number(p.media_size) : undefined;
    return {
      mediaId: p.media_id,
      ...(p.media_name ? { name: p.media_name } : {}),
      ...(size !== undefined ? { size } : {}),
      ...(p.media_ext ? { ext: p.media_ext } : {}),
    };
  }
  const file = files.media_data;
  if (file) {
    if (file.data.length === 0) throw owxError('OWX_ERR_MEDIA_INVALID', ['media_data is empty']);
    return { data: file.data, name: p.media_name || file.filename || 'media', ...(file.mimetype && !p.media_mime ? { mime: file.mimetype } : {}), ...common };
  }
  if (p.media_data) {
    if (!BASE64.test(p.media_data)) throw owxError('OWX_ERR_MEDIA_INVALID', ['media_data is not base64']);
    const data = Buffer.from(p.media_data, 'base64');
    if (data.length === 0) throw owxError('OWX_ERR_MEDIA_INVALID', ['media_data is empty']);
    return { data, name: p.media_name || 'media', ...common };
  }
  if (p.media_path !== undefined) {
    const path = p.media_path.trim();
    if (/^https?:\/\//i.test(path)) {
      let u: URL;
      try {
        u = new URL(path);
      } catch {
        throw owxError('OWX_ERR_MEDIA_INVALID', [`media_path is not a valid URL: ${path}`]);
      }
      return { url: u.href, ...common };
    }
    if (path === '') throw owxError('OWX_ERR_MEDIA_INVALID', ['media_path is empty']);
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) throw owxError('OWX_ERR_MEDIA_INVALID', [`media_path must be a file path or an http(s) URL: ${path}`]);
    // A local file must be inside one of the configured media folders (src/security/media-path.ts).
    const real = await resolveMediaPath(path, mediaDirs);
    return { path: real, name: p.media_name || basename(path), ...common };
  }
  return null;
}
