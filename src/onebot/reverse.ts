/**
 * Reverse WebSockets: openwx dials the app. v12: one connection per URL, carrying every bot (events have `self`).
 * v11: one connection per URL and per account, with `X-Self-ID`, dialled once the account is logged in (its
 * self_id is known). Each connection reconnects with backoff (reconnectBaseMs doubling up to reconnectMaxMs) and,
 * while it is down, keeps up to reverseBufferMax events to send once it is back (beyond, the oldest are dropped and
 * counted in a warning). The buffer is in memory: events of a process that stops while a link is down are lost
 * for that link (the durable path is the webhook / http_post, through the outbox: docs/onebot.md).
 *
 * v12 offers the spec's subprotocol `12.openwx` (Sec-WebSocket-Protocol). An app server that accepts the upgrade
 * without selecting it (frameworks that never choose a subprotocol) makes a strict WebSocket client fail the
 * handshake ("Server sent no subprotocol"); the link then dials again at once with the header sent as a plain header,
 * which such a server accepts, and keeps doing so for that URL.
 */
import { WebSocket } from 'ws';
import type { Bot } from './bot.ts';
import type { OneBotHub } from './hub.ts';
import { DEFAULT_RECONNECT_BASE_MS, DEFAULT_RECONNECT_MAX_MS, DEFAULT_REVERSE_BUFFER_MAX } from './settings.ts';
import { sendJson } from './socket.ts';

export interface LinkOptions {
  headers: () => Record<string, string>;
  /** The subprotocol to offer (v12: `12.openwx`), or none. */
  protocol?: string | undefined;
  onOpen: (ws: WebSocket) => void;
  bufferMax: number;
  baseMs: number;
  maxMs: number;
  log: OneBotHub['log'];
}

export class Link {
  readonly url: string;
  #ws: WebSocket | null = null;
  #timer: NodeJS.Timeout | null = null;
  #attempt = 0;
  #closed = false;
  #dropped = 0;
  /** The app's server accepted the upgrade without selecting the offered subprotocol: send it as a plain header. */
  #protocolAsHeader = false;
  readonly #buffer: unknown[] = [];
  readonly #o: LinkOptions;

  constructor(url: string, o: LinkOptions) {
    this.url = url;
    this.#o = o;
    this.#dial();
  }

  get open(): boolean {
    return this.#ws?.readyState === WebSocket.OPEN;
  }

  get buffered(): number {
    return this.#buffer.length;
  }

  /** `open`; `connecting` (dialling); `down` (waiting to dial again). */
  get state(): 'open' | 'connecting' | 'down' {
    const ws = this.#ws;
    if (ws?.readyState === WebSocket.OPEN) return 'open';
    return ws?.readyState === WebSocket.CONNECTING ? 'connecting' : 'down';
  }

  /** Events dropped since the start because the buffer was full. */
  get dropped(): number {
    return this.#dropped;
  }

  send(ev: unknown): void {
    if (this.#ws && this.open && this.#buffer.length === 0 && sendJson(this.#ws, ev)) return;
    this.#buffer.push(ev);
    if (this.#buffer.length > this.#o.bufferMax) {
      this.#buffer.shift();
      if (this.#dropped++ % 1000 === 0) this.#o.log.warn({ dropped: this.#dropped }, 'onebot reverse WebSocket down: buffer full, oldest events dropped');
    }
  }

  #dial(): void {
    if (this.#closed) return;
    const protocol = this.#o.protocol;
    const headers = this.#o.headers();
    const offer = protocol && !this.#protocolAsHeader ? [protocol] : [];
    if (protocol && this.#protocolAsHeader) headers['sec-websocket-protocol'] = protocol;
    const ws = new WebSocket(this.url, offer, { headers, handshakeTimeout: 10_000 });
    this.#ws = ws;
    let again = false;
    ws.on('open', () => {
      this.#attempt = 0;
      this.#o.onOpen(ws);
      while (this.#buffer.length && ws.readyState === WebSocket.OPEN) {
        if (!sendJson(ws, this.#buffer[0])) break;
        this.#buffer.shift();
      }
    });
    ws.on('error', (err) => {
      if (offer.length && err.message === 'Server sent no subprotocol') {
        this.#protocolAsHeader = true;
        again = true;
      }
      this.#o.log.debug({ err: err.message }, 'onebot reverse WebSocket error');
    });
    ws.on('close', () => {
      if (this.#ws === ws) this.#ws = null;
      if (again && !this.#closed) this.#dial();
      else this.#retry();
    });
  }

  #retry(): void {
    if (this.#closed || this.#timer) return;
    const wait = Math.min(this.#o.maxMs, this.#o.baseMs * 2 ** Math.min(this.#attempt++, 20));
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#dial();
    }, wait);
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const ws = this.#ws;
    this.#ws = null;
    if (ws && (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)) ws.terminate();
  }
}

export class ReverseLinks {
  readonly #hub: OneBotHub;
  readonly #v12: Link[] = [];
  readonly #v11 = new Map<string, Link[]>();
  readonly #v11Off = new Map<string, () => void>();

  constructor(hub: OneBotHub) {
    this.#hub = hub;
    const v12 = hub.options.v12;
    for (const url of v12?.ws_reverse ?? []) {
      this.#v12.push(
        new Link(url, {
          ...this.#common(),
          protocol: '12.openwx',
          headers: () => ({ ...this.#auth(), 'x-onebot-version': '12', 'x-impl': 'openwx', 'user-agent': `OneBot/12 (wechat) openwx/${hub.version}` }),
          onOpen: (ws) => hub.acceptV12(ws, true),
        }),
      );
    }
  }

  #common() {
    const o = this.#hub.options;
    return {
      bufferMax: o.reverseBufferMax ?? DEFAULT_REVERSE_BUFFER_MAX,
      baseMs: o.reconnectBaseMs ?? DEFAULT_RECONNECT_BASE_MS,
      maxMs: o.reconnectMaxMs ?? DEFAULT_RECONNECT_MAX_MS,
      log: this.#hub.log,
    };
  }

  #auth(): Record<string, string> {
    return this.#hub.token ? { authorization: `Bearer ${this.#hub.token}` } : {};
  }

  /** The v12 links (one per URL, every bot). */
  v12Links(): readonly Link[] {
    return this.#v12;
  }

  /** A bot's v11 links (none until it has logged in once). */
  v11Links(bot: Bot): readonly Link[] {
    return this.#v11.get(bot.name) ?? [];
  }

  v12Event(_bot: Bot, ev: unknown): void {
    for (const l of this.#v12) l.send(ev);
  }

  v11Event(bot: Bot, ev: unknown): void {
    for (const l of this.#v11.get(bot.name) ?? []) l.send(ev);
  }

  /** v11 links of a bot: dialled once it is logged in (its self_id is then known). */
  add(bot: Bot): void {
    const urls = this.#hub.options.v11?.ws_reverse ?? [];
    const surface = this.#hub.v11;
    if (!urls.length || !surface) return;
    const start = () => {
      if (this.#v11.has(bot.name) || !bot.client.user()) return;
      this.#v11.set(
        bot.name,
        urls.map(
          (url) =>
            new Link(url, {
              ...this.#common(),
              headers: () => ({ ...this.#auth(), 'x-self-id': String(bot.selfNum()), 'x-client-role': 'Universal', 'user-agent': `openwx/${this.#hub.version}` }),
              onOpen: (ws) => surface.accept(ws, bot, 'universal', true),
            }),
        ),
      );
    };
    this.#v11Off.set(bot.name, bot.subscribe((e) => e.kind === 'online' && e.online && start()));
    start();
  }

  remove(bot: Bot): void {
    this.#v11Off.get(bot.name)?.();
    this.#v11Off.delete(bot.name);
    for (const l of this.#v11.get(bot.name) ?? []) l.close();
    this.#v11.delete(bot.name);
  }

  close(): void {
    for (const l of this.#v12.splice(0)) l.close();
    for (const name of [...this.#v11.keys()]) {
      for (const l of this.#v11.get(name)!) l.close();
    }
    this.#v11.clear();
    for (const off of this.#v11Off.values()) off();
    this.#v11Off.clear();
  }
}
