/** A local post_api receiver on port 0 that records every POST and answers as the test says. */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  json: any;
}

/** Reads a whole request body as UTF-8 text and, when it parses, as JSON (undefined otherwise). */
export function readBody(req: IncomingMessage, done: (b: { body: string; json: any }) => void): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      json = undefined;
    }
    done({ body, json });
  });
}

/** Closes a server at once: drops its open (kept-alive) connections, then waits until it is closed. */
export async function closeServer(s: Server | null): Promise<void> {
  if (!s) return;
  s.closeAllConnections();
  await new Promise<void>((resolve) => s.close(() => resolve()));
}

export type Answer = { status?: number; json?: unknown; text?: string; contentType?: string; hang?: boolean };

export class Receiver extends EventEmitter<{ post: [Received]; request: [Received] }> {
  readonly received: Received[] = [];
  answer: (r: Received) => Answer = () => ({ status: 200, text: 'ok', contentType: 'text/plain' });
  #server: Server | null = null;
  url = '';

  async start(port = 0): Promise<this> {
    this.#server = createServer((req, res) => {
      readBody(req, ({ body, json }) => {
        const r: Received = { headers: req.headers, body, json };
        this.emit('request', r);
        const a = this.answer(r);
        if (a.hang) return;
        const status = a.status ?? 200;
        if (status >= 200 && status < 300) {
          this.received.push(r);
          this.emit('post', r);
        }
        const payload = a.json !== undefined ? JSON.stringify(a.json) : (a.text ?? '');
        res.writeHead(status, { 'content-type': a.contentType ?? (a.json !== undefined ? 'application/json' : 'text/plain') });
        res.end(payload);
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/post_api`;
    return this;
  }

  get port(): number {
    return (this.#server!.address() as AddressInfo).port;
  }

  /** Resolves when at least n posts (2xx-answered) were received, or rejects after the deadline. */
  waitFor(n: number, deadlineMs = 20_000): Promise<Received[]> {
    if (this.received.length >= n) return Promise.resolve(this.received);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.off('post', on);
        reject(new Error(`receiver: ${this.received.length}/${n} posts after ${deadlineMs} ms`));
      }, deadlineMs);
      const on = () => {
        if (this.received.length >= n) {
          clearTimeout(t);
          this.off('post', on);
          resolve(this.received);
        }
      };
      this.on('post', on);
    });
  }

  async stop(): Promise<void> {
    const s = this.#server;
    this.#server = null;
    await closeServer(s);
  }
}
