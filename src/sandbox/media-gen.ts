/**
 * Small but valid media files for inbound messages and avatars: JPEG (jpeg-js), MP3 (MPEG-1 Layer III frames of
 * silence), MP4 (ftyp + moov/mvhd + mdat), PDF (one empty page with a correct xref table) and a 1×1 GIF (what
 * webwxgetmsgimg returns for emoticons in the capture, under `Content-Type: image/jpeg`).
 */
import jpeg from 'jpeg-js';
import { createHash } from 'node:crypto';

export function solidJpeg(width: number, height: number, rgb: [number, number, number], pattern = true): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const shade = pattern && ((x >> 3) + (y >> 3)) % 2 === 0 ? 0.85 : 1;
      data[i] = Math.round(rgb[0] * shade);
      data[i + 1] = Math.round(rgb[1] * shade);
      data[i + 2] = Math.round(rgb[2] * shade);
      data[i + 3] = 255;
    }
  }
  return Buffer.from(jpeg.encode({ data, width, height }, 80).data);
}

/** A deterministic colour per key (avatars differ per contact). */
export function colourFor(key: string): [number, number, number] {
  const h = createHash('md5').update(key).digest();
  return [64 + (h[0]! % 160), 64 + (h[1]! % 160), 64 + (h[2]! % 160)];
}

/** MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, mono; 417-byte frames of silence. */
export function silentMp3(frames = 40): Buffer {
  const frameLen = Math.floor((144 * 128000) / 44100);
  const out = Buffer.alloc(frameLen * frames);
  for (let f = 0; f < frames; f++) {
    const o = f * frameLen;
    out[o] = 0xff;
    out[o + 1] = 0xfb;
    out[o + 2] = 0x90;
    out[o + 3] = 0xc4;
  }
  return out;
}

function box(type: string, ...payload: Buffer[]): Buffer {
  const body = Buffer.concat(payload);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length + 8, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body]);
}

/** ISO BMFF: ftyp(isom) + moov(mvhd, duration in seconds) + mdat of `mdatBytes` bytes. */
export function minimalMp4(durationS = 3, mdatBytes = 64 * 1024): Buffer {
  const ftyp = box('ftyp', Buffer.from('isom', 'latin1'), Buffer.from([0, 0, 2, 0]), Buffer.from('isomiso2mp41', 'latin1'));
  const mvhd = Buffer.alloc(100);
  mvhd.writeUInt32BE(0, 0); // version + flags
  mvhd.writeUInt32BE(1000, 12); // timescale
  mvhd.writeUInt32BE(durationS * 1000, 16); // duration
  mvhd.writeUInt32BE(0x00010000, 20); // rate 1.0
  mvhd.writeUInt16BE(0x0100, 24); // volume 1.0
  const matrix = [0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000];
  matrix.forEach((v, i) => mvhd.writeUInt32BE(v, 36 + i * 4));
  mvhd.writeUInt32BE(1, 96); // next track id
  const moov = box('moov', box('mvhd', mvhd));
  const mdat = box('mdat', Buffer.alloc(mdatBytes, 0));
  return Buffer.concat([ftyp, moov, mdat]);
}

/** A one-page PDF with a title line and a correct cross-reference table. */
export function minimalPdf(title = 'openwx sandbox'): Buffer {
  const text = title.replace(/[()\\]/g, ' ').replace(/[^\x20-\x7e]/g, '?');
  const stream = `BT /F1 18 Tf 72 720 Td (${text}) Tj ET`;
  const objs = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objs.forEach((o, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'));
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) out += `${String(off).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/** GIF89a, 1×1, one colour. */
export function tinyGif(): Buffer {
  return Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');
}

/** The fixed media set served for inbound messages (generated once per sandbox). */
export interface MediaKit {
  image: Buffer;
  imageThumb: Buffer;
  voice: Buffer;
  video: Buffer;
  videoThumb: Buffer;
  emoticon: Buffer;
  file: Buffer;
}

export function createMediaKit(): MediaKit {
  return {
    image: solidJpeg(320, 240, [80, 160, 220]),
    imageThumb: solidJpeg(120, 90, [80, 160, 220]),
    voice: silentMp3(),
    video: minimalMp4(),
    videoThumb: solidJpeg(160, 90, [40, 40, 40]),
    emoticon: tinyGif(),
    file: minimalPdf(),
  };
}

/** Avatars per key, cached (bounded). */
export class AvatarCache {
  private readonly cache = new Map<string, Buffer>();
  constructor(private readonly max = 2000) {}
  get(key: string): Buffer {
    let b = this.cache.get(key);
    if (!b) {
      b = solidJpeg(64, 64, colourFor(key));
      if (this.cache.size >= this.max) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, b);
    }
    return b;
  }
}

/** JPEG width/height from the SOF marker (for CDNThumbImg sizes of uploads); null for non-JPEG data. */
export function jpegSize(buf: Buffer): { width: number; height: number } | null {
  if (buf.length < 4 || buf[0] !== 0xff || buf[1] !== 0xd8) return null;
  let i = 2;
  while (i + 9 < buf.length) {
    if (buf[i] !== 0xff) return null;
    const marker = buf[i + 1]!;
    const len = buf.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: buf.readUInt16BE(i + 5), width: buf.readUInt16BE(i + 7) };
    }
    i += 2 + len;
  }
  return null;
}
