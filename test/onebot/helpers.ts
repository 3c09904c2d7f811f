/** OneBot test helpers: a WebSocket peer that records what it receives and waits on it, and action calls. */
import { WebSocket, WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';
import { request, type Dispatcher } from 'undici';
import { waitFor } from '../helpers/wait-for.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

export const TOKEN = 'onebot-secret-1';

export class Peer {
  readonly got: any[] = [];
  ws!: WebSocket;
  closed: { code: number } | null = null;
  #echo = 0;

  static connect(url: string, headers: Record<string, string> = {}): Promise<Peer> {
    const p = new Peer();
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers });
      p.attach(ws);
      ws.once('open', () => resolve(p));
      ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
      ws.once('error', reject);
    });
  }

  attach(ws: WebSocket): void {
    this.ws = ws;
    ws.on('message', (raw) => this.got.push(JSON.parse(raw.toString())));
    ws.on('close', (code) => (this.closed = { code }));
  }

  async next(pred: (m: any) => boolean, what: string, timeoutMs = 10_000): Promise<any> {
    let found: any;
    await waitFor(() => (found = this.got.find(pred)) !== undefined, what, timeoutMs);
    return found;
  }

  /** Sends an action with a fresh echo and waits for its answer. */
  async call(action: string, params: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Promise<any> {
    const echo = `e${++this.#echo}-${Math.random()}`;
    this.ws.send(JSON.stringify({ action, params, echo, ...extra }));
    return this.next((m) => m.echo === echo, `answer to ${action}`, 20_000);
  }

  close(): void {
    this.ws.close();
  }
}

/** A reverse-WebSocket app: accepts connections, records their headers. */
export class ReverseApp {
  readonly peers: { headers: Record<string, string | string[] | undefined>; peer: Peer; protocol: string }[] = [];
  wss!: WebSocketServer;
  url = '';

  /** `selectProtocol: false`: the server never selects a subprotocol (as frameworks that ignore them do). */
  constructor(readonly o: { selectProtocol?: boolean } = {}) {}

  async start(): Promise<this> {
    this.wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...(this.o.selectProtocol === false ? { handleProtocols: () => false as const } : {}) });
    await new Promise<void>((r) => this.wss.once('listening', () => r()));
    this.url = `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}/onebot`;
    this.wss.on('connection', (ws, req) => {
      const peer = new Peer();
      peer.attach(ws);
      this.peers.push({ headers: req.headers, peer, protocol: ws.protocol });
    });
    return this;
  }

  /** Closes every connection with the close handshake (so openwx has seen it end), then stops listening. */
  async stop(): Promise<void> {
    await Promise.all(
      [...this.wss.clients].map(
        (c) =>
          new Promise<void>((r) => {
            if (c.readyState === c.CLOSED) return r();
            c.once('close', () => r());
            c.close(1001, 'app stopping');
          }),
      ),
    );
    await new Promise<void>((r) => this.wss.close(() => r()));
  }
}

export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
  const r = await request(url, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  });
  return answerOf(r);
}

/** Status and body: JSON when it parses, else the text. */
async function answerOf(r: Dispatcher.ResponseData): Promise<{ status: number; json: any }> {
  const text = await r.body.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: r.statusCode, json };
}

export async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
  const r = await request(url, { headers });
  return answerOf(r);
}

/** A stack with OneBot forward WebSockets only (v11 in array form), and an app connected to each version. */
export async function startWsPair(): Promise<{ s: Stack; w12: Peer; w11: Peer; close(): Promise<void> }> {
  const s = await startStack({
    openwx: {
      onebot: {
        accessToken: TOKEN,
        v12: { http: false, ws: true, webhook: [], ws_reverse: [], heartbeat_ms: 0 },
        v11: { http: false, ws: true, http_post: [], ws_reverse: [], heartbeat_ms: 0, message_format: 'array' },
      },
    },
  });
  const ws = s.base.replace('http', 'ws');
  const auth = { authorization: `Bearer ${TOKEN}` };
  const w12 = await Peer.connect(`${ws}/onebot/v12/ws`, auth);
  const w11 = await Peer.connect(`${ws}/onebot/v11/ws`, auth);
  return {
    s,
    w12,
    w11,
    async close() {
      w12.close();
      w11.close();
      await s.close();
    },
  };
}
