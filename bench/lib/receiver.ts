/**
 * The post_api receiver of the benchmarks (runner process): a bare node:http server that answers 200 at once,
 * counts reports and, for benchmark messages (content `bench:<seq>`), records the latency from injection
 * (`injectedAt[seq]`, performance.now() of the runner) to receipt. Optionally keeps the raw bodies (the baseline
 * replays them).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { closeServer } from '../../test/helpers/receiver.ts';

export const CONTENT_PREFIX = 'bench:';

/**
 * A bare post_api receiver on loopback: every POST answered 200 `ok` at once, then its body handed to `onBody`.
 * The benchmarks' receivers count and time what arrives on top of it.
 */
export async function listenOkReceiver(onBody: (text: string, req: IncomingMessage) => void): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
      res.end('ok');
      onBody(Buffer.concat(chunks).toString('utf8'), req);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/post_api` };
}

export class BenchReceiver {
  #server: Server | null = null;
  url = '';
  /** All POSTs answered. */
  posts = 0;
  /** Benchmark messages received (first time). */
  got = 0;
  duplicates = 0;
  injectedAt = new Float64Array(0);
  latencies: number[] = [];
  seen = new Uint8Array(0);
  keepBodies = false;
  bodies: string[] = [];
  #target = 0;
  #onDone: (() => void) | null = null;
  firstAt = 0;
  lastAt = 0;

  async start(): Promise<this> {
    const { server, url } = await listenOkReceiver((text) => {
      this.posts++;
      this.#record(text);
    });
    this.#server = server;
    this.url = url;
    return this;
  }

  /** Prepares for a run of `n` messages; `done()` resolves once all arrived. */
  reset(n: number): void {
    this.got = 0;
    this.duplicates = 0;
    this.posts = 0;
    this.injectedAt = new Float64Array(n);
    this.seen = new Uint8Array(n);
    this.latencies = [];
    this.bodies = [];
    this.#target = n;
    this.firstAt = 0;
    this.lastAt = 0;
  }

  done(deadlineMs: number): Promise<void> {
    if (this.got >= this.#target) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.#onDone = null;
        reject(new Error(`receiver: ${this.got}/${this.#target} messages after ${deadlineMs} ms`));
      }, deadlineMs);
      this.#onDone = () => {
        clearTimeout(t);
        this.#onDone = null;
        resolve();
      };
    });
  }

  #record(body: string): void {
    const i = body.indexOf(`"${CONTENT_PREFIX}`);
    if (i < 0) return;
    const seq = parseInt(body.slice(i + 1 + CONTENT_PREFIX.length), 10);
    if (!(seq >= 0 && seq < this.#target)) return;
    if (this.seen[seq]) {
      this.duplicates++;
      return;
    }
    const now = performance.now();
    this.seen[seq] = 1;
    this.got++;
    if (this.firstAt === 0) this.firstAt = now;
    this.lastAt = now;
    this.latencies.push(now - this.injectedAt[seq]!);
    if (this.keepBodies) this.bodies.push(body);
    if (this.got >= this.#target) this.#onDone?.();
  }

  async stop(): Promise<void> {
    const s = this.#server;
    this.#server = null;
    await closeServer(s);
  }
}
