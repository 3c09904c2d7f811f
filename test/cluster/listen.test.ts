/**
 * The cluster's LISTEN connection (src/cluster/listen.ts) when the path to PostgreSQL silently stops carrying packets
 * (a NAT or firewall that forgot the connection): nothing errors on an idle LISTEN, so without its ping the listener
 * never noticed and heard nothing again; with it, the loss is seen, the connection is reopened once the path works,
 * and notifications arrive again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { pino } from 'pino';
import { Listener } from '../../src/cluster/listen.ts';
import { blackholer, postgresForFile } from '../helpers/postgres.ts';
import { waitFor } from '../helpers/wait-for.ts';

const server = postgresForFile();

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
