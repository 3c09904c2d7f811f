/**
 * multipart/form-data (RFC 7578) of one upload request: text fields in the given order, then one file part. The
 * bytes are those of undici's FormData (= a browser's) for the same entries: names escaped (`"` CR LF → %22 %0D %0A)
 * after their line breaks became CRLF, values with CRLF line breaks, the filename escaped, the file part's
 * Content-Type following the Blob rule (printable ASCII lower-cased, anything else → application/octet-stream),
 * and the closing delimiter followed by CRLF. The boundary is WebKit's (`----WebKitFormBoundary` + 16 characters),
 * as in the captures of the official client.
 *
 * The body is three pieces: head (the fields and the file part's header), the caller's file bytes (not copied) and
 * the tail, with the exact total `length`, so a sender can give the file part from a buffer it reuses. It can be
 * iterated again (a redirect re-sends it); `drained` tells whether a consumer asked for more after the last piece,
 * i.e. took every byte.
 */
import { randomBytes } from 'node:crypto';

export interface MultipartFile {
  /** The form field name (`filename` in webwxuploadmedia). */
  field: string;
  /** The file name in `filename="…"`; empty = no filename parameter (as FormData does for a nameless File). */
  filename: string;
  /** The MIME type of the part; see the Blob rule above. */
  type: string;
  data: Uint8Array;
}

/** WebKit's boundary alphabet (64 entries: "AB" repeated at the end, as in WebKit's FormDataBuilder). */
const BOUNDARY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789AB';
/** RFC 2046 boundary characters (without space, so no trailing-space question), 1–70 of them. */
const BOUNDARY_RE = /^[0-9A-Za-z'()+_,\-./:=?]{1,70}$/;

export function newBoundary(): string {
  const r = randomBytes(16);
  let s = '----WebKitFormBoundary';
  for (const b of r) s += BOUNDARY_ALPHABET[b & 63];
  return s;
}

const crlf = (s: string) => s.replace(/\r?\n|\r/g, '\r\n');
const escapeName = (s: string) => s.replace(/\n/g, '%0A').replace(/\r/g, '%0D').replace(/"/g, '%22');
/** The type a Blob keeps: printable ASCII lower-cased, anything else dropped (so no header can be injected). */
const blobType = (t: string) => (/^[\x20-\x7e]*$/.test(t) ? t.toLowerCase() : '');

export class MultipartBody implements Iterable<Uint8Array> {
  readonly boundary: string;
  /** `multipart/form-data; boundary=…` */
  readonly contentType: string;
  /** Exact byte length of the whole body. */
  readonly length: number;
  readonly #pieces: readonly Uint8Array[];
  #drained = false;

  constructor(fields: readonly (readonly [string, string])[], file: MultipartFile, boundary: string = newBoundary()) {
    if (!BOUNDARY_RE.test(boundary)) throw new RangeError(`multipart boundary must be 1-70 RFC 2046 characters: ${JSON.stringify(boundary)}`);
    this.boundary = boundary;
    this.contentType = `multipart/form-data; boundary=${boundary}`;
    const prefix = `--${boundary}\r\nContent-Disposition: form-data; name="`;
    let head = '';
    for (const [name, value] of fields) head += `${prefix}${escapeName(crlf(name))}"\r\n\r\n${crlf(value)}\r\n`;
    head += `${prefix}${escapeName(crlf(file.field))}"${file.filename ? `; filename="${escapeName(file.filename)}"` : ''}\r\n`;
    head += `Content-Type: ${blobType(file.type) || 'application/octet-stream'}\r\n\r\n`;
    const headBytes = Buffer.from(head, 'utf8');
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1');
    this.#pieces = [headBytes, file.data, tail];
    this.length = headBytes.length + file.data.byteLength + tail.length;
  }

  /** True once an iteration went past the last piece: the consumer took (wrote) every byte. */
  get drained(): boolean {
    return this.#drained;
  }

  *[Symbol.iterator](): Iterator<Uint8Array> {
    for (const p of this.#pieces) if (p.byteLength > 0) yield p;
    this.#drained = true;
  }
}
