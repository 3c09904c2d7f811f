/**
 * Checks on request bodies before they are parsed (docs/security.md, "Request limits"): UTF-8 validity of JSON and
 * urlencoded bodies (raw bytes and percent-escapes) and the nesting depth of JSON. Each returns the reason a body is
 * refused, or null; the API answers the reason as HTTP 400.
 */
import { isUtf8 } from 'node:buffer';

/** Null when every `%XX` escape of `s` (stray `%` signs aside, kept literally) decodes to valid UTF-8. */
export function percentEscapesRefusal(s: string): string | null {
  if (!s.includes('%')) return null;
  try {
    decodeURIComponent(s.replace(/%(?![0-9a-fA-F]{2})/g, '%25'));
    return null;
  } catch {
    return 'a percent-escape does not decode to valid UTF-8';
  }
}

/** A urlencoded body: valid UTF-8 bytes, and valid UTF-8 once percent-decoded. */
export function formBodyRefusal(body: Buffer): string | null {
  if (!isUtf8(body)) return 'the form body is not valid UTF-8';
  return percentEscapesRefusal(body.toString('latin1'));
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;

/** A JSON body: valid UTF-8, arrays/objects nested at most `depthMax` deep (a linear scan, no recursion). */
export function jsonBodyRefusal(body: Buffer, depthMax: number): string | null {
  if (!isUtf8(body)) return 'the JSON body is not valid UTF-8';
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > depthMax) return `JSON nested deeper than ${depthMax} levels`;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) depth--;
  }
  return null;
}
