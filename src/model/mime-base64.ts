/**
 * MIME-style base64 (76-character lines, each ending in a line end), as Perl's `encode_base64`: the `media_data`
 * of post_api reports. ONE line splitter (`encodeLines`) for every user: the string (`mimeBase64`), the chunks of
 * an in-memory buffer (`mimeBase64Chunks`) and the chunks of a file streamed into a POST body
 * (src/delivery/media-body.ts), which uses the JSON-escaped line end `\n` (backslash, n) inside the JSON string.
 */

/** Input bytes per base64 line (57 bytes → 76 characters). */
export const LINE_BYTES = 57;
const LINE_CHARS = 76;
/** Lines encoded per step of an in-memory buffer: bounds the temporary base64 text to ~77 KiB. */
const LINES_PER_STEP = 1024;

export const NEWLINE = Buffer.from('\n');
/** The line end as it appears inside a JSON string (`JSON.stringify('\n')` escapes it as backslash-n). */
export const JSON_NEWLINE = Buffer.from('\\n');

/** Bytes of the MIME base64 of `n` input bytes with line ends of `eolBytes` bytes. */
export function mimeBase64Length(n: number, eolBytes: number): number {
  return Math.ceil(n / 3) * 4 + Math.ceil(n / LINE_BYTES) * eolBytes;
}

/**
 * Encodes one step: whole 57-byte lines, except that the last step of the input may end with a shorter line.
 * Lines never span two steps, so a step must be a multiple of 57 bytes unless it is the last one.
 */
export function encodeLines(step: Uint8Array, eol: Buffer): Buffer {
  const src = Buffer.from(step.buffer, step.byteOffset, step.length);
  const b64 = Buffer.from(src.toString('base64'), 'latin1');
  const out = Buffer.allocUnsafe(mimeBase64Length(step.length, eol.length));
  let pos = 0;
  for (let j = 0; j < b64.length; j += LINE_CHARS) {
    pos += b64.copy(out, pos, j, Math.min(b64.length, j + LINE_CHARS));
    pos += eol.copy(out, pos);
  }
  return out;
}

/** The MIME base64 of an in-memory buffer, a step of lines at a time. */
export function* mimeBase64Chunks(data: Uint8Array, eol: Buffer = NEWLINE): Generator<Buffer> {
  const step = LINE_BYTES * LINES_PER_STEP;
  for (let i = 0; i < data.length; i += step) yield encodeLines(data.subarray(i, Math.min(data.length, i + step)), eol);
}

/** Collects chunks of a known total size into one string (the chunks, not the whole text twice, are held). */
export function chunksToString(chunks: Iterable<Buffer>, length: number): string {
  const out = Buffer.allocUnsafe(length);
  let pos = 0;
  for (const c of chunks) pos += c.copy(out, pos);
  return out.toString('latin1', 0, pos);
}

/**
 * MIME base64 with "\n" line ends. Written into one Buffer of the exact output size, then turned into the string
 * once: a 20 MiB input costs the output twice (Buffer + string), not the base64 text, a line-split copy and a
 * regex match per line.
 */
export function mimeBase64(data: Uint8Array): string {
  return chunksToString(mimeBase64Chunks(data), mimeBase64Length(data.length, NEWLINE.length));
}
