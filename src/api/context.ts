/**
 * What every route handler receives for its request: the account context (the client seam, that account's resolved
 * options, its check_event queue, store handles and stop), resolved per request by the host's resolver (one account,
 * or the account named by `client=` under the Controller). Nothing is bound to "the" client when a route is
 * registered. Routes are declared in src/api/routes/ and registered from their declarations (account-route.ts).
 */
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { WxClient } from '../client/interface.ts';
import { owxError } from '../errors.ts';
import type { EventQueue } from './check-event.ts';
import type { DurableStore } from './durable.ts';
import type { ResolvedOptions } from './options.ts';

export interface UploadedFile {
  data: Buffer;
  filename: string;
  mimetype: string;
}

/** Every parameter as one string map (query < form < multipart < JSON body; the body wins, as in Mojo). */
export interface MergedParams {
  params: Record<string, string>;
  files: Record<string, UploadedFile>;
}

declare module 'fastify' {
  interface FastifyRequest {
    owx: MergedParams;
  }
  interface FastifyInstance {
    /** The account a request is for (set by the host when it builds the API server). */
    owxAccount: AccountResolver;
  }
}

export interface ApiContext {
  client: WxClient;
  options: ResolvedOptions;
  events: EventQueue<Record<string, unknown>>;
  logger: Logger;
  /** Outbox (dead letters, depth) and message history, when there is a data folder. */
  store: DurableStore;
  /** Runs stop_client's stop (client.stop + the host's exit hook), once. */
  stopClient: () => Promise<void>;
  /** stop_client: schedules `stopClient` after the account's `stopDelayMs`, once (the timer is the account's). */
  scheduleStop: () => void;
  /** The latest login QR image while one waits to be scanned, else null. */
  qrcode: () => Promise<Buffer | null>;
}

/**
 * The account context of a request. Throws a coded error when there is none (Controller: `client` missing →
 * `client not found`, unknown → `client not exists`).
 */
export type AccountResolver = (req: FastifyRequest) => ApiContext;

/** Throws unless the account is logged in (routes that talk to WeChat). */
export function requireOnline(client: WxClient): void {
  if (client.state === 'stop') throw owxError('OWX_ERR_STOPPED');
  if (client.state !== 'running' && client.state !== 'updating') throw owxError('OWX_ERR_NOT_LOGGED_IN', [client.state]);
}
