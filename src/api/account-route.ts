/**
 * An account route, declared once in its file under routes/: its name (the path is `/openwx/<name>`), its methods,
 * the zod schema of its parameters, its documentation (summary, tag, answers by HTTP status) and whether it is per
 * account (the Controller serves it for the account `client=` names). Everything else reads this declaration: the
 * API server registers the routes of ACCOUNT_ROUTES (server.ts) with `registerAccountRoute`, the route's fastify
 * config carries the declaration into the route table (route-table.ts), the OpenAPI document is generated from that
 * table (openapi.ts), and the host leaves out the routes that are not per account under the Controller.
 *
 * Adding a route touches one place: declare it with `openwxRoute` (JSON answers) or `rawRoute` (bytes) in a file
 * of routes/ and add it to that file's exported list (CONTRIBUTING.md, "Adding a route").
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import type { z } from 'zod';
import { owxError } from '../errors.ts';
import type { ApiContext } from './context.ts';
import type { ResponseDoc, RouteDoc } from './route-table.ts';
import { describeIssues } from './schemas.ts';

export type OpenwxTag = 'information' | 'sending' | 'groups and friends' | 'media' | 'client' | 'events' | 'post_api';

/** How an Openwx route is documented; its parameters come from its schema, the common answers (400, 401, 503) are added by the generator. */
export interface OpenwxRouteDoc {
  summary: string;
  tag: OpenwxTag;
  /** Talks to WeChat: answers 503 before login and after stop. */
  needsLogin: boolean;
  responses: Record<number, ResponseDoc>;
}

export type RouteHandler<S extends z.ZodType> = (
  params: z.output<S>,
  ctx: ApiContext,
  req: FastifyRequest,
  reply: FastifyReply,
) => Promise<unknown> | unknown;

/** Every Openwx route answers GET and POST (HEAD follows GET). */
export const OPENWX_METHODS: readonly HTTPMethods[] = ['GET', 'POST'];

interface Declared {
  /** The route is `/openwx/<name>`. */
  readonly name: string;
  readonly methods: readonly HTTPMethods[];
  /**
   * Served for the account each request is for, also under the Controller (`client=NAME`). false: only by a host of
   * one account; the Controller has its own route at this path (stop_client).
   */
  readonly perAccount: boolean;
}

/** A route answering JSON: its merged parameters are validated with `params` before the handler runs. */
export interface JsonAccountRoute<S extends z.ZodType = z.ZodType> extends Declared {
  readonly kind: 'json';
  readonly params: S;
  readonly doc: OpenwxRouteDoc;
  readonly handler: RouteHandler<S>;
}

/** A route answering bytes (an image) or JSON as it chooses, documented like an operator route. */
export interface RawAccountRoute extends Declared {
  readonly kind: 'raw';
  readonly doc: RouteDoc;
  readonly handler: (ctx: ApiContext, req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
}

export type AccountRoute = JsonAccountRoute<any> | RawAccountRoute; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Options {
  methods?: readonly HTTPMethods[];
  /** Default true. */
  perAccount?: boolean;
}

/** Declares `/openwx/<name>`: parameters, documentation and handler. */
export function openwxRoute<S extends z.ZodType>(
  d: Options & { name: string; params: S; doc: OpenwxRouteDoc; handler: RouteHandler<S> },
): JsonAccountRoute<S> {
  return Object.freeze({ ...d, kind: 'json' as const, methods: d.methods ?? OPENWX_METHODS, perAccount: d.perAccount ?? true });
}

/** Declares `/openwx/<name>` answering what its handler sends (no parameters validated). */
export function rawRoute(d: Options & { name: string; doc: RouteDoc; handler: RawAccountRoute['handler'] }): RawAccountRoute {
  return Object.freeze({ ...d, kind: 'raw' as const, methods: d.methods ?? OPENWX_METHODS, perAccount: d.perAccount ?? true });
}

export function isAccountRoute(v: unknown): v is AccountRoute {
  const k = (v as { kind?: unknown } | null)?.kind;
  return typeof v === 'object' && v !== null && (k === 'json' || k === 'raw') && typeof (v as { name?: unknown }).name === 'string';
}

/**
 * Registers a declared route on `app`. Its account first: a Controller request without a known `client=` is
 * answered that way whatever else it has; then (JSON routes) the parameters; the handler's return value is the answer.
 */
export function registerAccountRoute(app: FastifyInstance, r: AccountRoute): void {
  const url = `/openwx/${r.name}`;
  const method = [...r.methods];
  if (r.kind === 'raw') {
    app.route({ method, url, config: { doc: r.doc }, handler: async (req, reply) => r.handler(app.owxAccount(req), req, reply) });
    return;
  }
  app.route({
    method,
    url,
    // The OpenAPI document (openapi.ts) is generated from this: the route's name, parameter schema and documentation.
    config: { openwx: { name: r.name, params: r.params, doc: r.doc } },
    handler: async (req, reply) => {
      const ctx = app.owxAccount(req);
      const parsed = r.params.safeParse(req.owx.params);
      if (!parsed.success) throw owxError('OWX_ERR_BAD_PARAM', [describeIssues(parsed.error)]);
      const out = await r.handler(parsed.data, ctx, req, reply);
      if (reply.sent) return reply;
      return out;
    },
  });
}
