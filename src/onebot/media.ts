/**
 * Media a OneBot app sends or uploads: a URL (fetched by the client, with its address rules), a local path (must be
 * inside the media folders, as for the Openwx API), base64 bytes, or a file id of an upload or a received message.
 */
import { basename } from 'node:path';
import { readFile } from 'node:fs/promises';
import type { MediaInput } from '../client/interface.ts';
import { resolveMediaPath } from '../security/media-path.ts';
import { fail } from './action-error.ts';
import type { Bot, FileEntry } from './bot.ts';

const BASE64 = /^[A-Za-z0-9+/\r\n]*={0,2}\s*$/;

export function fromBase64(s: string, what: string): Buffer {
  if (!BASE64.test(s)) fail('bad_param', `${what}: not base64`);
  const b = Buffer.from(s, 'base64');
  if (b.length === 0) fail('bad_param', `${what}: empty`);
  return b;
}

export async function localPath(bot: Bot, p: string): Promise<string> {
  try {
    return await resolveMediaPath(p, bot.shared.mediaDirs);
  } catch (e) {
    return fail('bad_param', (e as Error).message);
  }
}

/** A file entry from a URL, a local path or base64 (upload_file; v11 `file` of a media segment). */
export async function fileEntry(bot: Bot, src: { url?: string; path?: string; data?: string }, name?: string): Promise<FileEntry> {
  if (src.url !== undefined) {
    let u: URL;
    try {
      u = new URL(src.url);
    } catch {
      return fail('bad_param', 'url: not a URL');
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') fail('bad_param', 'url: expected http(s)');
    const n = name || basename(u.pathname) || 'file';
    return { name: n, media: { url: u.href, name: n } };
  }
  if (src.path !== undefined) {
    const real = await localPath(bot, src.path);
    const n = name || basename(real);
    return { name: n, media: { path: real, name: n } };
  }
  if (src.data !== undefined) {
    const n = name || 'file';
    return { name: n, media: { data: fromBase64(src.data, 'data'), name: n } };
  }
  return fail('bad_param', 'expected url, path or data');
}

/** The bytes of a file entry (get_file type data). */
export async function fileBytes(f: FileEntry): Promise<Buffer> {
  const m: MediaInput = f.media;
  if (m.data) return m.data;
  if (m.path) {
    try {
      return await readFile(m.path);
    } catch (e) {
      return fail('not_found', `the file is gone: ${(e as NodeJS.ErrnoException).code ?? 'unreadable'}`);
    }
  }
  return fail('unsupported_param', 'this file is a URL: ask for type url');
}
