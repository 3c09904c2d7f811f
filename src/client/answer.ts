/**
 * One HTTP answer as undici's `dispatch` hands it over (the transport's requests to WeChat): a promise of its head
 * (status and headers), then its body, kept in memory until a reader asks for it whole (`buffer`) or as a stream
 * (`stream`, with backpressure: undici is paused while the reader is behind).
 *
 * undici's `request()` builds, per request, a handler that is an async resource, a body stream, and a listener on
 * the abort signal; at two WeChat requests per message over 100 accounts that showed in the Controller benchmark's
 * CPU and garbage profiles (docs/benchmarks.md, "Accounts"). A sync answer is a few KB read whole, so most
 * answers never need a stream.
 */
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';

type Headers = Record<string, string | string[] | undefined>;

/** Body bytes held while nobody reads yet, before undici is paused. */
const UNREAD_HIGH_WATER_BYTES = 1024 * 1024;

export class Answer {
  status = 0;
  headers: Headers = {};
  /** Resolves with this answer once its head arrived; rejects when the request failed before. */
  readonly head: Promise<Answer>;
  readonly #head: { resolve: (a: Answer) => void; reject: (e: Error) => void };
  #headSeen = false;
  #controller: Dispatcher.DispatchController | null = null;
  /** An abort asked for before undici handed over its controller. */
  #reason: Error | null = null;
  #chunks: Buffer[] = [];
  #size = 0;
  #ended = false;
  #error: Error | null = null;
  #stream: Readable | null = null;
  #discard = false;
  /** Called once the body is over (read to its end, failed, or its stream closed). */
  #onSettled: (() => void) | null = null;
  #waiters: (() => void)[] = [];

  constructor() {
    let head!: { resolve: (a: Answer) => void; reject: (e: Error) => void };
    this.head = new Promise<Answer>((resolve, reject) => (head = { resolve, reject }));
    this.#head = head;
  }

  readonly handler: Dispatcher.DispatchHandler = {
    onRequestStart: (c) => {
      this.#controller = c;
      if (this.#reason) c.abort(this.#reason);
    },
    onResponseStart: (_c, status, headers) => {
      if (status < 200) return; // 1xx: the answer comes after
      this.status = status;
      this.headers = headers as Headers;
      this.#headSeen = true;
      this.#head.resolve(this);
    },
    onResponseData: (c, chunk) => {
      if (this.#stream) {
        if (!this.#stream.push(chunk)) c.pause();
        return;
      }
      if (this.#discard) return;
      this.#chunks.push(chunk);
      this.#size += chunk.length;
      if (this.#size > UNREAD_HIGH_WATER_BYTES && this.#waiters.length === 0) c.pause();
    },
    onResponseEnd: () => {
      this.#ended = true;
      if (this.#stream) this.#stream.push(null);
      this.#wake();
    },
    onResponseError: (_c, err) => this.#fail(err),
  };

  /** Aborts the request (its head or body not read yet): the head promise, a read or the stream fail with `err`. */
  abort(err: Error): void {
    if (this.#ended || this.#error) return;
    if (this.#controller) {
      if (!this.#controller.aborted) this.#controller.abort(err);
    } else {
      this.#reason = err;
    }
    this.#fail(err);
  }

  /** Called once when the body is over; set before reading. */
  onSettled(f: () => void): void {
    this.#onSettled = f;
  }

  /** The whole body. */
  async buffer(): Promise<Buffer> {
    this.#controller?.resume();
    while (!this.#ended && !this.#error) await new Promise<void>((r) => this.#waiters.push(r));
    this.#settled();
    if (this.#error) throw this.#error;
    const data = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#size);
    this.#chunks = [];
    return data;
  }

  /** Reads the rest and drops it (a redirect's body): the connection stays usable. */
  async dump(): Promise<void> {
    this.#discard = true;
    this.#chunks = [];
    this.#size = 0;
    await this.buffer().catch(() => undefined);
  }

  /** The body as a byte stream, from its first byte. Destroying it aborts the request. */
  stream(): Readable {
    const stream = new Readable({
      read: () => this.#controller?.resume(),
      destroy: (err, cb) => {
        if (!this.#ended && !this.#error) this.abort(err ?? Object.assign(new Error('aborted'), { code: 'ABORT_ERR' }));
        this.#settled();
        cb(err);
      },
    });
    this.#stream = stream;
    for (const c of this.#chunks) stream.push(c);
    this.#chunks = [];
    this.#size = 0;
    if (this.#error) stream.destroy(this.#error);
    else if (this.#ended) stream.push(null);
    stream.once('end', () => this.#settled());
    this.#controller?.resume();
    return stream;
  }

  #fail(err: Error): void {
    if (this.#error || this.#ended) return;
    this.#error = err;
    if (!this.#headSeen) this.#head.reject(err);
    if (this.#stream && !this.#stream.destroyed) this.#stream.destroy(err);
    this.#wake();
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  #settled(): void {
    const f = this.#onSettled;
    this.#onSettled = null;
    f?.();
  }
}
