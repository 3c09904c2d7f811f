/**
 * A LISTEN connection that stays up: its own `pg.Client` (a pool's connection cannot hold a LISTEN), reopened with
 * exponential backoff when it drops (PostgreSQL restart, network cut), logging once per outage. `onNotify` gets each
 * notification's channel and payload; `onReconnect` is called after each reconnection (notifications sent while it was
 * down are lost, so the owner re-checks what they would have told it).
 *
 * An idle LISTEN connection sends nothing, so a path that silently stops carrying packets (a NAT or firewall that
 * forgot the connection, a cable pulled) would never show as an error: it is pinged (`SELECT 1`, every
 * `pingIntervalMs`, answered within the config's `query_timeout`), and a ping that fails counts as the connection lost.
 */
import pg from 'pg';
import type { Logger } from 'pino';

export interface ListenerOptions {
  config: pg.ClientConfig;
  channels: string[];
  logger: Logger;
  onNotify(channel: string, payload: string): void;
  onReconnect?: (() => void) | undefined;
  backoffBaseMs?: number | undefined;
  backoffMaxMs?: number | undefined;
  /** How often the open connection is checked with a query (default 15 s); 0: never. */
  pingIntervalMs?: number | undefined;
}

export const DEFAULT_LISTEN_PING_INTERVAL_MS = 15_000;

export class Listener {
  readonly #o: ListenerOptions;
  #client: pg.Client | null = null;
  #timer: NodeJS.Timeout | null = null;
  #ping: NodeJS.Timeout | null = null;
  #attempt = 0;
  #closed = false;
  #down = false;

  constructor(o: ListenerOptions) {
    this.#o = o;
  }

  async start(): Promise<void> {
    await this.#connect();
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    const c = new pg.Client(this.#o.config);
    c.on('notification', (n) => this.#o.onNotify(n.channel, n.payload ?? ''));
    c.on('error', () => this.#lost(c));
    c.on('end', () => this.#lost(c));
    try {
      await c.connect();
      for (const ch of this.#o.channels) await c.query(`LISTEN ${pg.escapeIdentifier(ch)}`);
    } catch (err) {
      c.removeAllListeners('end');
      await c.end().catch(() => undefined);
      this.#retry(err);
      return;
    }
    if (this.#closed) {
      await c.end().catch(() => undefined);
      return;
    }
    this.#client = c;
    this.#startPing(c);
    const wasDown = this.#down;
    this.#attempt = 0;
    this.#down = false;
    if (wasDown) {
      this.#o.logger.info('PostgreSQL LISTEN connection is back');
      this.#o.onReconnect?.();
    }
  }

  #startPing(c: pg.Client): void {
    const every = this.#o.pingIntervalMs ?? DEFAULT_LISTEN_PING_INTERVAL_MS;
    if (every <= 0) return;
    let inFlight = false;
    this.#ping = setInterval(() => {
      if (inFlight || this.#client !== c) return;
      inFlight = true;
      c.query('SELECT 1').then(
        () => (inFlight = false),
        () => this.#lost(c),
      );
    }, every);
  }

  #stopPing(): void {
    if (this.#ping) clearInterval(this.#ping);
    this.#ping = null;
  }

  #lost(c: pg.Client): void {
    if (this.#client !== c) return;
    this.#stopPing();
    this.#client = null;
    c.removeAllListeners('end');
    void c.end().catch(() => undefined);
    this.#retry(new Error('connection ended'));
  }

  #retry(err: unknown): void {
    if (this.#closed || this.#timer) return;
    const base = this.#o.backoffBaseMs ?? 250;
    const delay = Math.min(this.#o.backoffMaxMs ?? 10_000, base * 2 ** Math.min(this.#attempt, 16));
    this.#attempt++;
    if (!this.#down) this.#o.logger.warn({ err: (err as Error).message, retryInMs: delay }, 'PostgreSQL LISTEN connection lost; reconnecting with backoff');
    this.#down = true;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#connect();
    }, delay);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#stopPing();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const c = this.#client;
    this.#client = null;
    if (c) {
      c.removeAllListeners('end');
      await c.end().catch(() => undefined);
    }
  }
}
