/**
 * get_client_info and stop_client. stop_client answers first, then after `stopDelayMs` (Mojo: 3 s) stops the
 * client (state → stop, the `stop` event is posted) and calls the host's exit hook (the command exits there). Under
 * the Controller, `/openwx/stop_client` is the Controller's own route (src/host/controller-routes.ts), as in Mojo.
 */
import os from 'node:os';
import type { FastifyInstance } from 'fastify';
import { route, type ApiContext } from '../context.ts';
import { S } from '../schemas.ts';

function base({ client }: ApiContext) {
  // startTime is unix seconds of run(); before run() the process start stands in.
  const start = client.startTime || Math.floor(Date.now() / 1000 - process.uptime());
  return {
    code: 0,
    account: client.account,
    pid: process.pid,
    starttime: start,
    runtime: Math.max(0, Math.floor(Date.now() / 1000) - start),
  };
}

export function registerClientInfoRoute(app: FastifyInstance): void {
  route(app, 'get_client_info', S.none, (_p, ctx) => ({
    ...base(ctx),
    os: os.platform(),
    version: ctx.options.version,
    http_debug: 0,
    log_encoding: null,
    log_path: '',
    log_level: ctx.options.logLevel,
    state: ctx.client.state,
    // openwx: post_api reports waiting in the outbox, and reports given up (see get_dead_letters).
    outbox_depth: ctx.store.delivery?.depth ?? 0,
    dead_letters: ctx.store.outbox?.deadCount ?? 0,
    status: 'success',
  }));
}

export function registerStopClientRoute(app: FastifyInstance): void {
  route(app, 'stop_client', S.none, (_p, ctx) => {
    const seconds = Math.round(ctx.options.stopDelayMs / 1000);
    ctx.scheduleStop();
    return { ...base(ctx), status: `success, client(${process.pid}) will stop in ${seconds} seconds` };
  });
}
