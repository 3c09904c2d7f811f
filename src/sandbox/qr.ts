/** The login QR image: a real JPEG of the QR code for `https://login.weixin.qq.com/l/<uuid>`. */
import QRCode from 'qrcode';
import jpeg from 'jpeg-js';
import { QR_HOST } from '../wire/hosts.ts';
import { Path } from '../wire/paths.ts';

export function qrPayload(uuid: string): string {
  return `https://${QR_HOST}${Path.qrPayload}/${uuid}`;
}

export function qrJpeg(uuid: string, scale = 8, quietModules = 4): Buffer {
  const qr = QRCode.create(qrPayload(uuid), { errorCorrectionLevel: 'M' });
  const n = qr.modules.size;
  const side = (n + quietModules * 2) * scale;
  const data = Buffer.alloc(side * side * 4, 255);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      if (!qr.modules.get(r, c)) continue;
      for (let y = 0; y < scale; y++) {
        const row = (r + quietModules) * scale + y;
        for (let x = 0; x < scale; x++) {
          const i = (row * side + (c + quietModules) * scale + x) * 4;
          data[i] = data[i + 1] = data[i + 2] = 0;
        }
      }
    }
  }
  return Buffer.from(jpeg.encode({ data, width: side, height: side }, 90).data);
}
