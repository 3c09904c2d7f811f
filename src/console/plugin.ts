/**
 * Operator surface served next to the Openwx API: the web console (`/`, `/console/*`), its live stream and
 * overview, the login QR for scripts (`/openwx/get_qrcode`), health (`/healthz`, `/readyz`) and Prometheus
 * metrics (`/metrics`). Registered inside the API app, so the same token rules apply (health and metrics are
 * exempted from auth by the API server only if configured so).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { WxClient } from '../client/interface.ts';
import type { Message } from '../model/types.ts';
import type { Metrics } from '../ops/metrics.ts';
import { owxError } from '../errors.ts';

const STATIC_DIR = fileURLToPath(new URL('./static/', import.meta.url));
const STATIC_FILES: Record<string, string> = {
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
};

export interface ConsoleOptions {
  client: WxClient;
  /** Message → the JSON a post_api receiver would get (sender/receiver/group names filled in). */
  toJson: (m: Message) => Record<string, unknown>;
  metrics?: Metrics | undefined;
  /** post_api reports waiting, or null when post_api is off. */
  outboxDepth?: (() => number | null) | undefined;
  /** Messages kept for the console's "latest messages" list. */
  recentSize?: number;
  /** A successful sync must be at most this old for /readyz. */
  readySyncMaxAgeMs?: number;
}

export async function registerConsole(app: FastifyInstance, o: ConsoleOptions): Promise<void> {
  const { client } = o;
  const recentSize = o.recentSize ?? 100;
  const readyAge = o.readySyncMaxAgeMs ?? 60_000;
  const recent: Record<string, unknown>[] = [];
  const streams = new Set<(event: string, data: unknown) => void>();
  const broadcast = (event: string, data: unknown) => {
    for (const s of streams) s(event, data);
  };
  const onMessage = (m: Message) => {
    let j: Record<string, unknown>;
    try {
      j = o.toJson(m);
    } catch {
      j = { ...m };
    }
    delete j['media_data'];
    recent.push(j);
    if (recent.length > recentSize) recent.shift();
    broadcast('message', j);
  };
  const onState = (_old: string, state: string) => broadcast('state', { state });
  const onContacts = () => broadcast('contacts', {});
  const contactEvents = ['new_friend', 'lose_friend', 'new_group', 'lose_group', 'update_friend', 'update_group'] as const;
  client.on('receive_message', onMessage);
  client.on('send_message', onMessage);
  client.on('state_change', onState);
  for (const e of contactEvents) client.on(e, onContacts);
  app.addHook('onClose', async () => {
    client.off('receive_message', onMessage);
    client.off('send_message', onMessage);
    client.off('state_change', onState);
    for (const e of contactEvents) client.off(e, onContacts);
  });

  const page = await readFile(join(STATIC_DIR, 'index.html'));
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(page));
  for (const [name, type] of Object.entries(STATIC_FILES)) {
    const body = await readFile(join(STATIC_DIR, name));
    app.get(`/console/${name}`, async (_req, reply) => reply.type(type).header('cache-control', 'no-cache').send(body));
  }

  app.get('/console/api/overview', async () => {
    const user = client.user();
    const qr = client.qrcodePath();
    let qrcode: string | null = null;
    if (qr) {
      const st = await import('node:fs/promises').then((fs) => fs.stat(qr)).catch(() => null);
      qrcode = st ? String(st.mtimeMs) : null;
    }
    return {
      state: client.state,
      account: client.account,
      user: user ? { id: user.id, displayname: user.displayname } : null,
      uptime: Math.floor((Date.now() - client.startTime) / 1000),
      outbox: o.outboxDepth ? o.outboxDepth() : null,
      friends: client.friends().length,
      groups: client.groups().length,
      qrcode,
    };
  });

  app.get('/console/api/recent', async () => recent);

  app.get('/console/api/stream', (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(`event: state\ndata: ${JSON.stringify({ state: client.state })}\n\n`);
    const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
    streams.add(send);
    req.raw.on('close', () => {
      clearInterval(ping);
      streams.delete(send);
    });
  });

  app.get('/openwx/get_qrcode', async (_req, reply) => {
    const qr = client.qrcodePath();
    const data = qr ? await readFile(qr).catch(() => null) : null;
    if (!data) throw owxError('OWX_ERR_NO_QRCODE', [client.state]);
    const png = data[0] === 0x89 && data[1] === 0x50;
    return reply.type(png ? 'image/png' : 'image/jpeg').header('cache-control', 'no-cache').send(data);
  });

  app.get('/healthz', async () => ({ status: 'ok', uptime: Math.floor(process.uptime()), pid: process.pid }));

  app.get('/readyz', async (_req, reply) => {
    const last = o.metrics?.lastSyncOk(client.account);
    const age = last === undefined ? null : Date.now() - last;
    let reason: string | null = null;
    if (client.state !== 'running') reason = `state is ${client.state}, not running`;
    else if (age === null) reason = 'no successful sync yet';
    else if (age > readyAge) reason = `last successful sync ${Math.round(age / 1000)} s ago (limit ${readyAge / 1000} s)`;
    const body = { ready: reason === null, state: client.state, last_sync_age_ms: age, reason };
    return reply.code(reason === null ? 200 : 503).send(body);
  });

  if (o.metrics) {
    const m = o.metrics;
    app.get('/metrics', async (_req, reply) => reply.type(m.registry.contentType).send(await m.registry.metrics()));
  }
}
