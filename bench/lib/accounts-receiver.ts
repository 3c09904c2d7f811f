/**
 * The post_api receiver of the accounts benchmark (runner process): a bare node:http server that answers 200 at
 * once to every report of every account. For benchmark messages (content `acct:<seq>`) it records the latency from
 * the injection (`injectedAt[seq]`, performance.now() of the runner, taken before the control API request) and
 * checks the report came from the account the message was injected for: the `client=NAME` the Controller merges
 * into each account's post_api URL (`expected[seq]`). Counts posts, first receipts, duplicates and misrouted ones.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { closeServer } from '../../test/helpers/receiver.ts';

export const ACCT_PREFIX = 'acct:';

export class AccountsReceiver {
  #server: Server | null = null;
  url = '';
  posts = 0;
  got = 0;
  duplicates = 0;
  /** Reports of a benchmark message whose client= was not the account it was injected for. */
  misrouted = 0;
  /** Reports per client= (every post, not only benchmark messages). */
  readonly byClient = new Map<string, number>();
  injectedAt = new Float64Array(0);
  expected: string[] = [];
  seen = new Uint8Array(0);
  /** Injection → receipt per seq (ms; NaN until received). */
  latency = new Float64Array(0);
  #target = 0;
  #want = 0;
  #onDone: (() => void) | null = null;

  async start(): Promise<this> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
        res.end('ok');
        this.posts++;
        const q = req.url?.indexOf('?') ?? -1;
        const client = q >= 0 ? new URLSearchParams(req.url!.slice(q + 1)).get('client') ?? '' : '';
        this.byClient.set(client, (this.byClient.get(client) ?? 0) + 1);
        this.#record(Buffer.concat(chunks).toString('utf8'), client);
      });
    });
    this.#server.keepAliveTimeout = 30_000;
    this.#server.maxConnections = 10_000;
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/post_api`;
    return this;
  }

  /** Prepares for `n` messages (seq 0…n-1); `done()` resolves once all arrived. */
  reset(n: number): void {
    this.got = 0;
    this.duplicates = 0;
    this.misrouted = 0;
    this.injectedAt = new Float64Array(n);
    this.expected = new Array<string>(n);
    this.seen = new Uint8Array(n);
    this.latency = new Float64Array(n).fill(NaN);
    this.#target = n;
    this.#want = n;
  }

  /** Resolves once `target` messages of the run arrived (default: all n); false at the deadline. */
  done(deadlineMs: number, target = this.#target): Promise<boolean> {
    this.#want = target;
    if (this.got >= target) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.#onDone = null;
        resolve(false);
      }, deadlineMs);
      this.#onDone = () => {
        clearTimeout(t);
        this.#onDone = null;
        resolve(true);
      };
    });
  }

  /** Records a report that arrived another way than this server (e.g. a OneBot WebSocket frame; bench/onebot.ts). */
  receive(body: string, client: string): void {
    this.#record(body, client);
  }

  #record(body: string, client: string): void {
    const i = body.indexOf(`"${ACCT_PREFIX}`);
    if (i < 0) return;
    const seq = parseInt(body.slice(i + 1 + ACCT_PREFIX.length), 10);
    if (!(seq >= 0 && seq < this.#target)) return;
    if (this.expected[seq] !== undefined && this.expected[seq] !== client) this.misrouted++;
    if (this.seen[seq]) {
      this.duplicates++;
      return;
    }
    this.seen[seq] = 1;
    this.got++;
    this.latency[seq] = performance.now() - this.injectedAt[seq]!;
    if (this.got >= this.#want) this.#onDone?.();
  }

  async stop(): Promise<void> {
    const s = this.#server;
    this.#server = null;
    await closeServer(s);
  }
}
