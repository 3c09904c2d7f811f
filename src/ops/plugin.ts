/**
 * The operator surface of one API: the web console and docs page, `/healthz`, `/readyz`, `/metrics` and the
 * OpenAPI document. `startOps(client, …)` is called by startOpenwx (so the `openwx` command and
 * `load('Openwx')` both get it): it starts watching the client (metrics, sync age), hands back the client the API
 * should use (the same client, with its sends counted) and the fastify plugin to register.
 *
 * Auth: the console and docs pages (and their files), `/healthz` and `/readyz` are public; `/metrics` follows the
 * token unless `metricsPublic`; every data route (`/console/api/*`, `/openwx/*`) follows the token.
 */
import type { FastifyInstance } from 'fastify';
import type { WxClient } from '../client/interface.ts';
import type { Message } from '../model/types.ts';
import type { Delivery } from '../delivery/sink.ts';
import type { QrWatch } from '../api/qr-watch.ts';
import { registerOpenApi } from '../api/openapi.ts';
import type { RouteDoc } from '../api/route-table.ts';
import { registerConsole } from '../console/plugin.ts';
import { registerHealth } from './health.ts';
import { Metrics, type DeliverySource } from './metrics.ts';
import { SyncWatch } from './sync-watch.ts';

export interface OpsOptions {
  /** Message → post JSON, for the console's message list. */
  toJson: (m: Message) => Record<string, unknown>;
  /** The post_api sink (null without post_api): its depth and delivery events. */
  delivery: Delivery | null;
  /** The account's login QR (the console's QR stamp). */
  qr: QrWatch;
  version: string;
  /** Share one registry between several APIs / accounts; default: a Metrics of this API, closed with it. */
  metrics?: Metrics | undefined;
  /** Serve `/metrics` without the token. Default false. */
  metricsPublic?: boolean | undefined;
  /** `/readyz`: a successful sync must be at most this old. Default 60 s. */
  readySyncMaxAgeMs?: number | undefined;
}

export interface Ops {
  /** The client the API routes and the reporter should use: sends are counted in openwx_sends_total. */
  client: WxClient;
  metrics: Metrics;
  sync: SyncWatch;
  register(app: FastifyInstance): Promise<void>;
  close(): void;
}

export function startOps(client: WxClient, o: OpsOptions): Ops {
  const own = !o.metrics;
  const metrics = o.metrics ?? new Metrics({ version: o.version });
  const sync = new SyncWatch(client);
  const unwatchClient = metrics.watchClient(client, sync);
  const unwatchDelivery = o.delivery ? metrics.watchDelivery(client.account, o.delivery as unknown as DeliverySource) : () => undefined;
  const delivery = o.delivery;
  return {
    client: metrics.instrument(client),
    metrics,
    sync,
    async register(app) {
      await registerConsole(app, { client, qr: o.qr, toJson: o.toJson, outboxDepth: () => (delivery ? delivery.depth : null) });
      registerHealth(app, { sync, ...(o.readySyncMaxAgeMs !== undefined ? { readySyncMaxAgeMs: o.readySyncMaxAgeMs } : {}) });
      const metricsDoc: RouteDoc = {
        summary: 'Prometheus metrics (text exposition format)',
        description: 'Behind the token unless the metrics_public setting opens it. docs/operations.md lists the families.',
        tag: 'operations',
        responses: { 200: { description: 'metrics', raw: ['text/plain'] } },
      };
      app.get('/metrics', { config: { public: o.metricsPublic === true, doc: metricsDoc } }, async (_req, reply) =>
        reply.type(metrics.contentType).send(await metrics.text()),
      );
      registerOpenApi(app, { version: o.version });
    },
    close() {
      unwatchClient();
      unwatchDelivery();
      sync.close();
      if (own) metrics.close();
    },
  };
}
