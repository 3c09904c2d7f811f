/**
 * The cluster's LISTEN connection (src/cluster/listen.ts) when the path to PostgreSQL silently stops carrying packets
 * (a NAT or firewall that forgot the connection): nothing errors on an idle LISTEN, so without its ping the listener
 * never noticed and heard nothing again; with it, the loss is seen, the connection is reopened once the path works,
 * and notifications arrive again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { pino } from 'pino';
import { Listener } from '../../src/cluster/listen.ts';
import { postgresForFile, serveProxy } from '../helpers/postgres.ts';
import { waitFor } from '../helpers/wait-for.ts';

const server = postgresForFile();

/** A TCP proxy to PostgreSQL whose flows can go silent: from `blackhole()` on, every open and new flow carries nothing (never closed); after `restore()`, new flows work. */
async function blackholer(target: string): Promise<{ url: string; blackhole(): void; restore(): void; close(): Promise<void> }> {
  const t = new URL(target);
  let silent = false;
  const dead = new Set<Socket>();
  const sockets = new Set<Socket>();
  const srv: Server = createServer((down) => {
    const up = connect(Number(t.port), t.hostname);
    sockets.add(down).add(up);
    if (silent) dead.add(down);
    const end = () => {
      down.destroy();
      up.destroy();
    };
    down.on('data', (d: Buffer) => {
      if (!dead.has(down)) up.write(d);
    });
    up.on('data', (d: Buffer) => {
      if (!dead.has(down)) down.write(d);
    });
    for (const s of [down, up]) s.on('error', end).on('close', end);
  });
  const served = await serveProxy(srv, sockets, target);
  return {
    ...served,
    blackhole() {
      silent = true;
      for (const s of sockets) dead.add(s);
    },
    restore() {
      silent = false;
    },
  };
}

test('LISTEN over a path that goes silent: the ping sees the loss, the connection is reopened, notifications arrive again', async () => {
  const direct = await server.createDatabase('owx_listen_silent');
  const proxy = await blackholer(direct);
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
  const heard: string[] = [];
  let reconnects = 0;
  const listener = new Listener({
    config: { connectionString: proxy.url, query_timeout: 300, connectionTimeoutMillis: 500 },
    channels: ['owx_test'],
    logger,
    onNotify: (_ch, payload) => heard.push(payload),
    onReconnect: () => reconnects++,
    backoffBaseMs: 50,
    backoffMaxMs: 200,
    pingIntervalMs: 100,
  });
  const notifier = new pg.Client({ connectionString: direct });
  await notifier.connect();
  try {
    await listener.start();
    await notifier.query(`NOTIFY owx_test, 'before'`);
    await waitFor(() => heard.includes('before'), 'the first notification');
    proxy.blackhole();
    await waitFor(() => lines.some((l) => l.includes('LISTEN connection lost')), 'the loss noticed', 10_000);
    proxy.restore();
    await waitFor(() => reconnects === 1, 'reconnected once the path works', 10_000);
    await notifier.query(`NOTIFY owx_test, 'after'`);
    await waitFor(() => heard.includes('after'), 'a notification after the outage');
    assert.ok(lines.some((l) => l.includes('LISTEN connection is back')));
  } finally {
    await listener.close();
    await notifier.end();
    await proxy.close();
  }
});
