/**
 * `/healthz` (the process answers) and `/readyz` (logged in, and a successful sync with WeChat within the last
 * `readySyncMaxAgeMs`, 60 s by default; HTTP 503 with the reason otherwise). Both are public: probes carry no
 * token, and neither says more than the state.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { component } from '../api/responses.ts';
import type { RouteDoc } from '../api/route-table.ts';
import type { SyncWatch } from './sync-watch.ts';

export const Health = component(
  'Health',
  z.strictObject({ status: z.literal('ok'), uptime: z.number().int().describe('process uptime, seconds'), pid: z.number().int() }),
);

export const ReadyState = component(
  'ReadyState',
  z
    .strictObject({
      ready: z.boolean(),
      state: z.string().describe('client state'),
      reason: z.string().nullable().describe('why not ready; null when ready'),
      last_sync_age_ms: z.number().int().nullable().describe('age of the last successful sync (or login); null when none'),
      sync_source: z
        .enum(['wire', 'events'])
        .describe('wire: the transport reports each request (the sync age is enforced); events: login and messages only'),
    })
    .describe('readiness'),
);

export const AccountsReadyState = component(
  'AccountsReadyState',
  z
    .strictObject({
      ready: z.boolean().describe('every account is ready'),
      not_ready: z.array(z.string()).describe('the accounts that are not ready'),
      accounts: z.array(z.looseObject({ client: z.string() }).describe('one account: its name and its readiness (as ReadyState)')),
    })
    .describe('readiness of every account (Controller)'),
);

export interface HealthOptions {
  /** One account's sync watch (the single-account command). */
  sync?: SyncWatch;
  /** Several accounts (the Controller): name → sync watch, read at each request. */
  accounts?: () => Iterable<[string, SyncWatch]>;
  /** A successful sync must be at most this old (default 60 s). */
  readySyncMaxAgeMs?: number;
}

export function registerHealth(app: FastifyInstance, o: HealthOptions): void {
  const maxAge = o.readySyncMaxAgeMs ?? 60_000;
  const healthDoc: RouteDoc = {
    summary: 'Liveness: the process is up',
    tag: 'operations',
    responses: { 200: { description: 'up', json: Health } },
  };
  app.get('/healthz', { config: { public: true, doc: healthDoc } }, async () => ({
    status: 'ok' as const,
    uptime: Math.floor(process.uptime()),
    pid: process.pid,
  }));

  const readyDoc: RouteDoc = {
    summary: `Readiness: logged in and a successful sync with WeChat within the last ${Math.round(maxAge / 1000)} s`,
    tag: 'operations',
    responses: {
      200: { description: 'ready', json: ReadyState },
      503: { description: 'not ready; `reason` says why', json: ReadyState },
    },
  };
  if (o.accounts) {
    const list = o.accounts;
    const doc: RouteDoc = {
      ...readyDoc,
      summary: `Readiness of every account: logged in and a successful sync within the last ${Math.round(maxAge / 1000)} s`,
      responses: {
        200: { description: 'every account ready', json: AccountsReadyState },
        503: { description: '`not_ready` lists the accounts that are not; each says why', json: AccountsReadyState },
      },
    };
    app.get('/readyz', { config: { public: true, doc } }, async (_req, reply) => {
      const accounts = [...list()].map(([client, w]) => ({ client, ...w.readiness(maxAge) }));
      const notReady = accounts.filter((a) => !a.ready).map((a) => a.client);
      return reply.code(notReady.length ? 503 : 200).send({ ready: notReady.length === 0, not_ready: notReady, accounts });
    });
    return;
  }
  const sync = o.sync;
  if (!sync) throw new TypeError('registerHealth: sync or accounts is required');
  app.get('/readyz', { config: { public: true, doc: readyDoc } }, async (_req, reply) => {
    const r = sync.readiness(maxAge);
    return reply.code(r.ready ? 200 : 503).send(r);
  });
}
