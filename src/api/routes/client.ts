/**
 * get_client_info and stop_client. stop_client answers first, then after `stopDelayMs` (Mojo: 3 s) stops the
 * client (state → stop, the `stop` event is posted) and calls the host's exit hook (the command exits there). Under
 * the Controller, `/openwx/stop_client` is the Controller's own route (src/host/controller-routes.ts), as in Mojo.
 */
import os from 'node:os';
import { openwxRoute } from '../account-route.ts';
import type { ApiContext } from '../context.ts';
import { ClientInfo, ok, StopAnswer } from '../responses.ts';
import { NO_PARAMS } from '../schemas.ts';

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

export const CLIENT_INFO_ROUTE = openwxRoute({
  name: 'get_client_info',
  params: NO_PARAMS,
  doc: { summary: 'Process and account state', tag: 'client', needsLogin: false, responses: ok('client info', ClientInfo) },
  handler: (_p, ctx) => ({
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
  }),
});

/** Not per account: it stops the process's one account (and the command exits); the Controller has its own stop_client. */
export const STOP_CLIENT_ROUTE = openwxRoute({
  name: 'stop_client',
  perAccount: false,
  params: NO_PARAMS,
  doc: { summary: 'Stop the client after stop_delay_ms', tag: 'client', needsLogin: false, responses: ok('the stop is scheduled', StopAnswer) },
  handler: (_p, ctx) => {
    const seconds = Math.round(ctx.options.stopDelayMs / 1000);
    ctx.scheduleStop();
    return { ...base(ctx), status: `success, client(${process.pid}) will stop in ${seconds} seconds` };
  },
});
