/**
 * The login QR of one account as the API serves it: the bytes of the latest `input_qrcode` event (the file at
 * `qrcodePath()` is the fallback, for a QR shown before this watch listened) and a sequence number that changes
 * with each new QR (the console's stamp). Only while a QR waits to be scanned (`qrcodePath()` not null).
 */
import { readFile } from 'node:fs/promises';
import type { WxClient } from '../client/interface.ts';

export class QrWatch {
  #data: Buffer | null = null;
  #seq = 0;
  readonly #client: WxClient;
  readonly #onQr = (_path: string, base64: string) => {
    this.#data = Buffer.from(base64, 'base64');
    this.#seq++;
  };

  constructor(client: WxClient) {
    this.#client = client;
    client.on('input_qrcode', this.#onQr);
  }

  /** True while a login QR waits to be scanned. */
  get waiting(): boolean {
    return this.#client.qrcodePath() !== null;
  }

  /** Changes with each new QR (0 before the first one this watch saw). */
  get seq(): number {
    return this.#seq;
  }

  /** The image while one waits, else null. */
  async image(): Promise<Buffer | null> {
    const path = this.#client.qrcodePath();
    if (!path) return null;
    return this.#data ?? (await readFile(path).catch(() => null));
  }

  close(): void {
    this.#client.off('input_qrcode', this.#onQr);
  }
}
