/**
 * The OneBot app side of the OneBot benchmark (runner process): a WebSocket server (ws) that openwx's reverse
 * WebSockets dial, `/v12` and `/v11`. It checks each connection's access token, counts connections and meta events,
 * and hands every frame that carries a benchmark message (content `acct:<seq>`) to the AccountsReceiver's bookkeeping
 * (latency from the injection, duplicates, misrouting) under the name of the account the frame came from:
 *   - v12 (one connection carries every bot): the event's `self.user_id`;
 *   - v11 (one connection per account): the connection's `X-Self-ID`, which the event's `self_id` must match.
 * Which bot id is which account is learnt from the first benchmark message of each account (its `expected` name); a
 * second id for an account, or one id for two accounts, is recorded under a name that matches none (misrouted).
 * The frames are parsed only when they carry a benchmark message, as an app would parse them anyway.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { ACCT_PREFIX, type AccountsReceiver } from './lib/accounts-receiver.ts';
import { closeServer } from '../test/helpers/receiver.ts';

export type OneBotVersion = 'v12' | 'v11';

export class OneBotReceiver {
  readonly #token: string;
  readonly #records: AccountsReceiver;
  #server: Server | null = null;
  #wss: WebSocketServer | null = null;
  /** `ws://127.0.0.1:<port>` (append /v12 or /v11). */
  url = '';
  readonly connections = { v12: 0, v11: 0, refused: 0, open: 0 };
  /** Meta events by `<version>:<detail_type or meta_event_type>`. */
  readonly meta = new Map<string, number>();
  /** v11 events whose self_id is not their connection's X-Self-ID. */
  selfMismatch = 0;
  readonly #accountOf = new Map<string, string>();
  readonly #idOf = new Map<string, string>();

  constructor(token: string, records: AccountsReceiver) {
    this.#token = token;
    this.#records = records;
  }

  async start(): Promise<this> {
    this.#server = createServer((_req, res) => res.writeHead(426).end());
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 * 1024 });
    this.#server.on('upgrade', (req, socket, head) => {
      const version = req.url === '/v12' ? 'v12' : req.url === '/v11' ? 'v11' : null;
      if (!version || req.headers.authorization !== `Bearer ${this.#token}`) {
        this.connections.refused++;
        socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
        return;
      }
      this.#wss!.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, version, String(req.headers['x-self-id'] ?? '')));
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `ws://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  #accept(ws: WebSocket, version: OneBotVersion, selfHeader: string): void {
    this.connections[version]++;
    this.connections.open++;
    ws.on('close', () => this.connections.open--);
    ws.on('message', (raw: Buffer) => {
      const text = raw.toString('utf8');
      if (text.indexOf(`"${ACCT_PREFIX}`) < 0) {
        this.#countMeta(version, text);
        return;
      }
      let id: string;
      if (version === 'v12') id = `v12:${(JSON.parse(text) as { self?: { user_id?: string } }).self?.user_id ?? '?'}`;
      else {
        // the 63-bit self_id is compared as text (JSON.parse would round it past 2^53)
        if (/"self_id":"?(\d+)/.exec(text)?.[1] !== selfHeader) this.selfMismatch++;
        id = `v11:${selfHeader}`;
      }
      this.#records.receive(text, this.#account(id, text));
    });
  }

  /** The account a bot id stands for, learnt from its first benchmark message; '?' for an id that breaks the 1:1. */
  #account(id: string, text: string): string {
    const known = this.#accountOf.get(id);
    if (known !== undefined) return known;
    const i = text.indexOf(`"${ACCT_PREFIX}`);
    const seq = parseInt(text.slice(i + 1 + ACCT_PREFIX.length), 10);
    const name = this.#records.expected[seq];
    if (name === undefined || this.#idOf.has(name)) return '?';
    this.#idOf.set(name, id);
    this.#accountOf.set(id, name);
    return name;
  }

  #countMeta(version: OneBotVersion, text: string): void {
    const m = /"(?:detail_type|meta_event_type)":"([a-z_]+)"/.exec(text);
    if (!m || (!text.includes('"type":"meta"') && !text.includes('"post_type":"meta_event"'))) return;
    const k = `${version}:${m[1]}`;
    this.meta.set(k, (this.meta.get(k) ?? 0) + 1);
  }

  /** Bot ids learnt (one per account that got a benchmark message). */
  get bots(): number {
    return this.#accountOf.size;
  }

  async stop(): Promise<void> {
    for (const c of this.#wss?.clients ?? []) c.terminate();
    this.#wss?.close();
    const s = this.#server;
    this.#server = null;
    await closeServer(s);
  }
}
