/**
 * The route table of one API app, recorded as routes are added (fastify's `onRoute` hook), with what each route
 * says about itself in its `config`: `openwx` (an Openwx route: its name and the zod schema its parameters are
 * validated with), `doc` (how any other route is documented) and `public` (served without the token). The
 * OpenAPI document is generated from this table, so a route cannot exist without showing up in it.
 */
import type { FastifyInstance, RouteOptions } from 'fastify';
import type { z } from 'zod';

/** One answer of a documented route: JSON described by a zod schema, or raw bytes / text of a media type. */
export interface ResponseDoc {
  description: string;
  /** JSON answer; the schema must be registered in the OpenAPI registry (`apiSchemas`). */
  json?: z.ZodType;
  /** Non-JSON answer: media type → what it is (e.g. `image/jpeg`, `text/html`). */
  raw?: string[];
}

/** How a non-Openwx route is documented (Openwx routes are documented from `openwx` + responses.ts). */
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
    /** An Openwx route (`/openwx/<name>`) and the schema of its merged parameters. */
    openwx?: { name: string; params: z.ZodType };
    doc?: RouteDoc;
  }
  interface FastifyInstance {
    routeTable: TrackedRoute[];
  }
}

export interface TrackedRoute {
  methods: string[];
  url: string;
  public: boolean;
  openwx: { name: string; params: z.ZodType } | undefined;
  doc: RouteDoc | undefined;
}

/** Starts recording every route added to `app` from now on (call before any route or plugin is registered). */
export function trackRoutes(app: FastifyInstance): void {
  const table: TrackedRoute[] = [];
  app.decorate('routeTable', table);
  app.addHook('onRoute', (r: RouteOptions) => {
    const methods = (Array.isArray(r.method) ? r.method : [r.method]).map((m) => m.toUpperCase());
    const config = (r.config ?? {}) as { public?: boolean; openwx?: TrackedRoute['openwx']; doc?: RouteDoc };
    table.push({ methods, url: r.url, public: config.public === true, openwx: config.openwx, doc: config.doc });
  });
}
