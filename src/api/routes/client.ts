/**
 * get_client_info and stop_client. stop_client answers first, then after `stopDelayMs` (Mojo: 3 s) stops the
 * client (state → stop, the `stop` event is posted) and calls the host's exit hook (the command exits there).
 */
import os from 'node:os';
import type { FastifyInstance } from 'fastify';
import { route, type ApiContext } from '../context.ts';
import { S } from '../schemas.ts';

export function registerClientRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { client, options } = ctx;
  const base = () => {
    // startTime is unix seconds of run(); before run() the process start stands in.
    const start = client.startTime || Math.floor(Date.now() / 1000 - process.uptime());
    return {
      code: 0,
      account: client.account,
      pid: process.pid,
      starttime: start,
      runtime: Math.max(0, Math.floor(Date.now() / 1000) - start),
    };
  };

  route(app, 'get_client_info', S.none, () => ({
    ...base(),
    os: os.platform(),
    version: options.version,
    http_debug: 0,
    log_encoding: null,
    log_path: '',
    log_level: options.logLevel,
    state: client.state,
    // openwx: post_api reports waiting in the outbox, and reports given up (see get_dead_letters).
    outbox_depth: ctx.store.delivery?.depth ?? 0,
    dead_letters: ctx.store.outbox?.deadCount ?? 0,
    status: 'success',
  }));

  let stopping: NodeJS.Timeout | null = null;
  app.addHook('onClose', async () => {
    if (stopping) clearTimeout(stopping);
  });
  route(app, 'stop_client', S.none, () => {
    const seconds = Math.round(options.stopDelayMs / 1000);
    if (!stopping) {
      stopping = setTimeout(() => {
        ctx.stopClient().catch((err: unknown) => ctx.logger.error({ err }, 'stop_client failed'));
      }, options.stopDelayMs);
    }
    return { ...base(), status: `success, client(${process.pid}) will stop in ${seconds} seconds` };
  });
}
