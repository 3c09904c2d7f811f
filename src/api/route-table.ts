/**
 * The route table of one API app, recorded as routes are added (fastify's `onRoute` hook), with what each route
 * says about itself in its `config`: `openwx` (an Openwx route: its name and the zod schema its parameters are
 * validated with, and its documentation: an account route's declaration, src/api/account-route.ts), `doc` (how any
 * other route is documented) and `public` (served without the token). The OpenAPI document is generated from this
 * table, so a route cannot exist without showing up in it; an `/openwx/` route with neither is refused when it is
 * added (a route of the API is declared, never registered by hand).
 *
 * Routes whose documentation is not a RouteDoc (other modules' surfaces, e.g. OneBot) may add OpenAPI path items and
 * tags with `addApiDocPaths`; they replace the generated placeholder of an undocumented route at the same path and
 * method, and may not replace a documented one.
 */
import type { FastifyInstance, RouteOptions } from 'fastify';
import type { z } from 'zod';
import type { OpenwxRouteDoc } from './account-route.ts';

/** One answer of a documented route: JSON described by a zod schema, or raw bytes / text of a media type. */
export interface ResponseDoc {
  description: string;
  /** JSON answer; the schema must be registered in the OpenAPI registry (`apiSchemas`). */
  json?: z.ZodType;
  /** Non-JSON answer: media type → what it is (e.g. `image/jpeg`, `text/html`). */
  raw?: string[];
}

/** How a non-Openwx route is documented (Openwx routes are documented from their declaration: `openwx`). */
export interface RouteDoc {
  summary: string;
  description?: string;
  tag: string;
  /** Query parameters, validated or not; a zod object. */
  query?: z.ZodObject;
  responses: Record<number, ResponseDoc>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without the API token (console page and its files, health). */
    public?: boolean;
    /** An Openwx route (`/openwx/<name>`): its name, the schema of its merged parameters, its documentation. */
    openwx?: OpenwxRouteConfig;
    doc?: RouteDoc;
  }
  interface FastifyInstance {
    routeTable: TrackedRoute[];
    apiDocExtras: ApiDocExtras;
  }
}

export interface OpenwxRouteConfig {
  name: string;
  params: z.ZodType;
  doc: OpenwxRouteDoc;
}

export interface TrackedRoute {
  methods: string[];
  url: string;
  public: boolean;
  openwx: OpenwxRouteConfig | undefined;
  doc: RouteDoc | undefined;
}

/** OpenAPI path items (path → method → operation object) and tags documented beside the route table. */
export interface ApiDocExtras {
  paths: Record<string, Record<string, Record<string, unknown>>>;
  tags: { name: string; description?: string }[];
}

/**
 * Documents routes of `app` whose documentation is not a RouteDoc: OpenAPI 3.1 path items (`{'/onebot/v11/x':
 * {post: {operationId, summary, tags, responses, …}}}`) and the tags they use. Call it when registering them (the
 * document is built on its first request).
 */
export function addApiDocPaths(app: FastifyInstance, paths: ApiDocExtras['paths'], tags: ApiDocExtras['tags'] = []): void {
  const x = app.apiDocExtras;
  for (const [path, item] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(item)) {
      const at = (x.paths[path] ??= {});
      if (at[method]) throw new TypeError(`OpenAPI: ${method.toUpperCase()} ${path} documented twice`);
      at[method] = op;
    }
  }
  for (const t of tags) if (!x.tags.some((have) => have.name === t.name)) x.tags.push(t);
}

/** Starts recording every route added to `app` from now on (call before any route or plugin is registered). */
export function trackRoutes(app: FastifyInstance): void {
  const table: TrackedRoute[] = [];
  app.decorate('routeTable', table);
  app.decorate('apiDocExtras', { paths: {}, tags: [] } satisfies ApiDocExtras);
  app.addHook('onRoute', (r: RouteOptions) => {
    const methods = (Array.isArray(r.method) ? r.method : [r.method]).map((m) => m.toUpperCase());
    const config = (r.config ?? {}) as { public?: boolean; openwx?: TrackedRoute['openwx']; doc?: RouteDoc };
    if (r.url.startsWith('/openwx/') && !config.openwx && !config.doc) {
      throw new TypeError(
        `route ${methods.join(',')} ${r.url} has no declaration: declare it in a file of src/api/routes/ (openwxRoute or rawRoute, listed in ACCOUNT_ROUTES) or give it a config.doc`,
      );
    }
    table.push({ methods, url: r.url, public: config.public === true, openwx: config.openwx, doc: config.doc });
  });
}
