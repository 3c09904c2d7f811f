/**
 * The login QR: fetched from the QR host like the official page (`https://login.weixin.qq.com/qrcode/<uuid>`,
 * JPEG), or rendered locally as PNG from the payload URL when that fails; saved in the data folder (mode 0600),
 * printed in the terminal (scannable, plus a plain-text line with the URL), and handed to the caller for
 * `input_qrcode`.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import QRCode from 'qrcode';
import { Path } from '../wire/paths.ts';
import { QR_HOST } from '../wire/hosts.ts';
import type { Logger } from './logger.ts';
import type { Transport } from './transport-types.ts';

export interface QrImage {
  path: string;
  base64: string;
  /** What the QR encodes: `https://login.weixin.qq.com/l/<uuid>`. */
  url: string;
  uuid: string;
}

export interface QrPresenterOptions {
  dataDir: string;
  account: string;
  showInTerminal: boolean;
  /** Where the terminal QR goes (the CLI passes process.stdout). */
  output: Writable | null;
  requestTimeoutMs: number;
}

export function qrPayloadUrl(uuid: string): string {
  return `https://${QR_HOST}${Path.qrPayload}/${uuid}`;
}

export class QrPresenter {
  #current: string | null = null;

  constructor(
    private readonly transport: Transport,
    private readonly o: QrPresenterOptions,
    private readonly logger: Logger,
  ) {}

  /** Path of the QR image waiting to be scanned, if any. */
  get currentPath(): string | null {
    return this.#current;
  }

  async present(uuid: string, signal?: AbortSignal): Promise<QrImage> {
    const url = qrPayloadUrl(uuid);
    let bytes: Buffer | null = null;
    let ext = 'jpg';
    try {
      const res = await this.transport.request({
        name: 'qrcode',
        role: 'login',
        host: QR_HOST,
        path: `${Path.qrcode}/${uuid}`,
        timeoutMs: this.o.requestTimeoutMs,
        ...(signal ? { signal } : {}),
      });
      const type = String(res.headers['content-type'] ?? '');
      const body = await res.buffer();
      if (res.status === 200 && type.startsWith('image/') && body.length > 0) {
        bytes = body;
        ext = type.includes('png') ? 'png' : 'jpg';
      } else {
        this.logger.warn({ status: res.status, type }, 'QR image not served; rendering it locally');
      }
    } catch (err) {
      if (signal?.aborted) throw err;
      this.logger.warn({ err: (err as Error).message }, 'QR image fetch failed; rendering it locally');
    }
    if (!bytes) {
      bytes = await QRCode.toBuffer(url, { type: 'png', margin: 2, scale: 6 });
      ext = 'png';
    }
    this.remove();
    mkdirSync(this.o.dataDir, { recursive: true, mode: 0o700 });
    const path = join(this.o.dataDir, `qrcode-${this.o.account}.${ext}`);
    writeFileSync(path, bytes, { mode: 0o600 });
    this.#current = path;
    if (this.o.showInTerminal && this.o.output) {
      const art = await QRCode.toString(url, { type: 'terminal', small: true });
      this.o.output.write(`${art}\nScan this QR code with WeChat on your phone, or open: ${url}\n(QR image saved at ${path})\n`);
    }
    this.logger.info({ path, url }, 'QR code ready; waiting for a scan');
    return { path, base64: bytes.toString('base64'), url, uuid };
  }

  /** Deletes the QR image (after login or stop, as Mojo does). */
  remove(): void {
    if (this.#current) rmSync(this.#current, { force: true });
    this.#current = null;
  }
}
