/**
 * The soak's post_api receiver (soak process, 127.0.0.1): counts every soak message (content `soak:<seq>`) it
 * accepted (answered 2xx), and misbehaves on demand:
 *   ok     200 at once
 *   503    every report answered 503
 *   flaky  a share of the reports answered 503 (`flakyShare`), the rest 200
 *   slow   each answer (200) delayed by a random time in [slowMinMs, slowMaxMs] (beyond post_api_timeout_ms openwx
 *          gives up on it and sends it again: a duplicate, allowed by at-least-once)
 *   down   not listening: connections refused (the port is kept and listened on again afterwards)
 * A report counts as delivered when the receiver answered it 2xx (even if openwx had given up on that attempt).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const SOAK_PREFIX = 'soak:';
const SEQ_RE = new RegExp(`"content":"${SOAK_PREFIX}(\\d+)"`);

export type ReceiverMode = 'ok' | '503' | 'flaky' | 'slow' | 'down';

export interface SoakReceiverOptions {
  flakyShare?: number;
  slowMinMs?: number;
  slowMaxMs?: number;
  /** Time origin of `deliveredAt` (performance.now() of the soak). */
  now: () => number;
  rand?: () => number;
}

export class SoakReceiver {
  readonly #o: Required<SoakReceiverOptions>;
  readonly #server: Server;
  #port = 0;
  #mode: ReceiverMode = 'ok';
  #listening = false;
  #closed = false;
  readonly #slowTimers = new Set<NodeJS.Timeout>();
  /** First acceptance time per seq (NaN = not yet). */
  deliveredAt = new Float64Array(1 << 16).fill(NaN);
  #eventIds: string[] = [];
  delivered = 0;
  /** Soak messages accepted again with the same X-Openwx-Event-Id (a retried report). */
  dupSameEvent = 0;
  /** Soak messages accepted again under another event id (the message was reported twice). */
  dupNewEvent = 0;
  /** Every request, every 2xx, every 503 sent, reports that were not soak messages (events, other messages). */
  readonly counts = { requests: 0, accepted: 0, answered503: 0, slowAnswers: 0, other: 0 };
  lastAcceptAt = 0;

  constructor(o: SoakReceiverOptions) {
    this.#o = { flakyShare: 0.3, slowMinMs: 500, slowMaxMs: 15_000, rand: Math.random, ...o };
    this.#server = createServer((req, res) => this.#handle(req, res));
    this.#server.keepAliveTimeout = 30_000;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}/post_api`;
  }

  get mode(): ReceiverMode {
    return this.#mode;
  }

  async start(): Promise<this> {
    await this.#listen(0);
    this.#port = (this.#server.address() as AddressInfo).port;
    return this;
  }

  /** When the current mode was set (the soak's clock). */
  modeSince = 0;

  async setMode(mode: ReceiverMode): Promise<void> {
    if (this.#closed) return;
    this.#mode = mode;
    this.modeSince = this.#o.now();
    if (mode === 'down' && this.#listening) {
      this.#listening = false;
      await new Promise<void>((resolve) => {
        this.#server.close(() => resolve());
        this.#server.closeAllConnections();
      });
    } else if (mode !== 'down' && !this.#listening) {
      await this.#listen(this.#port);
    }
  }

  async #listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onErr = (e: Error) => reject(e);
      this.#server.once('error', onErr);
      this.#server.listen(port, '127.0.0.1', () => {
        this.#server.off('error', onErr);
        resolve();
      });
    });
    this.#listening = true;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => undefined);
    req.on('end', () => {
      this.counts.requests++;
      const mode = this.#mode;
      if (mode === '503' || (mode === 'flaky' && this.#o.rand() < this.#o.flakyShare)) {
        this.counts.answered503++;
        res.writeHead(503, { 'content-type': 'text/plain', 'content-length': '11' });
        res.end('unavailable');
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      const eventId = String(req.headers['x-openwx-event-id'] ?? '');
      let gone = false;
      res.on('close', () => {
        if (!res.writableFinished) gone = true;
      });
      const accept = () => {
        if (gone || res.destroyed) return; // openwx gave up on this attempt (timeout) and closed the connection
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
        res.end('ok');
        this.#record(body, eventId);
      };
      if (mode === 'slow') {
        this.counts.slowAnswers++;
        const { slowMinMs, slowMaxMs } = this.#o;
        const t = setTimeout(() => {
          this.#slowTimers.delete(t);
          accept();
        }, slowMinMs + this.#o.rand() * (slowMaxMs - slowMinMs));
        this.#slowTimers.add(t);
        return;
      }
      accept();
    });
  }

  #record(body: string, eventId: string): void {
    this.counts.accepted++;
    const m = SEQ_RE.exec(body);
    if (!m) {
      this.counts.other++;
      return;
    }
    const seq = Number(m[1]);
    this.lastAcceptAt = this.#o.now();
    if (seq >= this.deliveredAt.length) {
      let n = this.deliveredAt.length;
      while (n <= seq) n *= 2;
      const grown = new Float64Array(n).fill(NaN);
      grown.set(this.deliveredAt);
      this.deliveredAt = grown;
    }
    if (Number.isNaN(this.deliveredAt[seq]!)) {
      this.deliveredAt[seq] = this.lastAcceptAt;
      this.#eventIds[seq] = eventId;
      this.delivered++;
    } else if (this.#eventIds[seq] === eventId) this.dupSameEvent++;
    else this.dupNewEvent++;
  }

  isDelivered(seq: number): boolean {
    return seq < this.deliveredAt.length && !Number.isNaN(this.deliveredAt[seq]!);
  }

  async stop(): Promise<void> {
    this.#closed = true;
    for (const t of this.#slowTimers) clearTimeout(t);
    this.#slowTimers.clear();
    if (!this.#listening) return;
    this.#listening = false;
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}
