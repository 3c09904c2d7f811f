/**
 * The operator routes of a host: `/healthz`, `/readyz` (one account, or every account under the Controller),
 * `/metrics` (one registry, labelled by account) and the OpenAPI document. The host composes these with the API
 * routes and the console (src/host/host.ts); ops never reaches into the API or the console.
 *
 * Auth: `/healthz` and `/readyz` are public; `/metrics` follows the token unless `metricsPublic`.
 */
import type { FastifyInstance } from 'fastify';
import { registerOpenApi } from '../api/openapi.ts';
import type { RouteDoc } from '../api/route-table.ts';
import { registerHealth } from './health.ts';
import type { Metrics } from './metrics.ts';
import type { SyncWatch } from './sync-watch.ts';

export interface OpsOptions {
  metrics: Metrics;
  version: string;
  /** The one account's sync watch (single-account). */
  sync?: SyncWatch | undefined;
  /** Every account's sync watch, read per request (Controller). */
  accounts?: (() => Iterable<[string, SyncWatch]>) | undefined;
  /** Serve `/metrics` without the token. Default false. */
  metricsPublic?: boolean | undefined;
  /** `/readyz`: a successful sync must be at most this old. Default 60 s. */
  readySyncMaxAgeMs?: number | undefined;
}

export function registerOps(app: FastifyInstance, o: OpsOptions): void {
  registerHealth(app, {
    ...(o.sync ? { sync: o.sync } : {}),
    ...(o.accounts ? { accounts: o.accounts } : {}),
    ...(o.readySyncMaxAgeMs !== undefined ? { readySyncMaxAgeMs: o.readySyncMaxAgeMs } : {}),
  });
  const metricsDoc: RouteDoc = {
    summary: 'Prometheus metrics (text exposition format)',
    description: 'Behind the token unless the metrics_public setting opens it. docs/operations.md lists the families.',
    tag: 'operations',
    responses: { 200: { description: 'metrics', raw: ['text/plain'] } },
  };
  app.get('/metrics', { config: { public: o.metricsPublic === true, doc: metricsDoc } }, async (_req, reply) =>
    reply.type(o.metrics.contentType).send(await o.metrics.text()),
  );
  registerOpenApi(app, { version: o.version });
}
