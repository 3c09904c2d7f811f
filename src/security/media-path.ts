/**
 * Confinement of local media paths: a `media_path` (API) or `media` (post_api reply) that names a local file must
 * resolve, after following every symlink, to a regular file inside one of the configured media folders.
 */
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { owxError } from '../errors.ts';

export function isHttpUrl(s: string): boolean {
  return /^https?:\/\//i.test(s);
}

function inside(dir: string, p: string): boolean {
  const rel = relative(dir, p);
  return rel === '' ? false : !rel.startsWith('..') && !isAbsolute(rel) && !rel.split(sep).includes('..');
}

/**
 * Returns the real path of `p` if it is a regular file inside one of `allowedDirs`; throws OWX_ERR_MEDIA_INVALID
 * otherwise (with a message that does not reveal whether an outside file exists).
 */
export async function resolveMediaPath(p: string, allowedDirs: readonly string[]): Promise<string> {
  if (typeof p !== 'string' || p.length === 0 || p.includes('\0')) {
    throw owxError('OWX_ERR_MEDIA_INVALID', ['empty or malformed media_path']);
  }
  if (allowedDirs.length === 0) throw owxError('OWX_ERR_MEDIA_INVALID', ['local files are disabled (no media folders configured)']);
  const outside = () => owxError('OWX_ERR_MEDIA_INVALID', [`media_path is not a file inside the media folders: ${p}`]);
  const roots: string[] = [];
  for (const d of allowedDirs) {
    try {
      roots.push(await realpath(resolve(d)));
    } catch {
      /* a configured folder that does not exist allows nothing */
    }
  }
  let real: string;
  try {
    real = await realpath(resolve(roots[0] ?? '.', p));
  } catch {
    throw outside();
  }
  if (!roots.some((r) => inside(r, real))) throw outside();
  const st = await stat(real).catch(() => null);
  if (!st?.isFile()) throw outside();
  return real;
}
