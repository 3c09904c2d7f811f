/**
 * The OpenAPI 3.1 document of the API, generated from the route table (route-table.ts): every route fastify
 * serves, with the parameters of the zod schema the route validates with and its answers (an account route's
 * declaration, account-route.ts; or the route's own `doc`) and its auth rule, plus the path items other modules
 * added with `addApiDocPaths` (route-table.ts). Served at `/openwx/openapi.json`; the console's `/docs` page renders
 * it. HEAD routes (fastify adds one per GET) are covered by their GET.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { apiSchemas, Failure } from './responses.ts';
import type { ApiDocExtras, OpenwxRouteConfig, ResponseDoc, RouteDoc, TrackedRoute } from './route-table.ts';

type Json = Record<string, unknown>;

export interface OpenApiOptions {
  version: string;
  /** Path items and tags documented beside the route table (`addApiDocPaths`). */
  extras?: ApiDocExtras | undefined;
}

const REF = (id: string) => `#/components/schemas/${id}`;
const BODY_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'application/json'] as const;

function strip(s: Json): Json {
  const { $schema: _s, $id: _i, ...rest } = s;
  return rest;
}

/** `{ $ref }` of a registered schema; throws for an unregistered one (a route doc that cannot be rendered). */
function schemaRef(schema: z.ZodType): Json {
  const meta = apiSchemas.get(schema);
  if (!meta) throw new Error(`response schema not registered in apiSchemas (${schema.description ?? schema.def.type})`);
  return { $ref: REF(meta.id) };
}

function responseObject(r: ResponseDoc): Json {
  const content: Json = {};
  for (const t of r.raw ?? []) content[t] = { schema: { type: 'string', contentMediaType: t } };
  if (r.json) content['application/json'] = { schema: schemaRef(r.json) };
  return Object.keys(content).length ? { description: r.description, content } : { description: r.description };
}

/** The input JSON schema of a parameter schema (what a client sends: strings). */
function inputSchema(schema: z.ZodType): Json {
  return strip(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json);
}

function queryParameters(schema: z.ZodType, requiredAllowed: boolean): Json[] {
  const js = inputSchema(schema);
  const props = (js['properties'] ?? {}) as Record<string, Json>;
  const required = new Set((js['required'] as string[] | undefined) ?? []);
  const out: Json[] = [];
  for (const [name, p] of Object.entries(props)) {
    const { description, ...s } = p;
    out.push({ name, in: 'query', required: requiredAllowed && required.has(name), ...(description ? { description } : {}), schema: s });
  }
  if (js['additionalProperties'] && typeof js['additionalProperties'] === 'object') {
    out.push({
      name: 'attributes',
      in: 'query',
      required: false,
      description: String(js['description'] ?? 'any attribute'),
      style: 'form',
      explode: true,
      schema: { type: 'object', additionalProperties: js['additionalProperties'] },
    });
  }
  return out;
}

/** The body schema of a POST: the same parameters; a multipart `media_data` part may be a file. */
function requestBody(schema: z.ZodType): Json {
  const js = inputSchema(schema);
  const content: Json = {};
  for (const type of BODY_TYPES) {
    let s: Json = { ...js };
    if (type !== 'application/json') delete s['required'];
    const props = s['properties'] as Record<string, Json> | undefined;
    if (type === 'multipart/form-data' && props?.['media_data']) {
      s = { ...s, properties: { ...props, media_data: { description: 'the media file (raw bytes), or base64 text', type: 'string', contentMediaType: 'application/octet-stream' } } };
    }
    content[type] = { schema: s };
  }
  return {
    required: false,
    description:
      'The same parameters as the query string, as an urlencoded form, a multipart form or a JSON object (a JSON array gives a comma list); the body wins over the query.',
    content,
  };
}

function errorResponses(isPublic: boolean, needsLogin: boolean): Json {
  const out: Json = { 400: responseObject({ description: 'bad parameter or bad request body (code -1)', json: Failure }) };
  if (!isPublic) out[401] = responseObject({ description: 'token missing or wrong (code -6)', json: Failure });
  if (needsLogin) out[503] = responseObject({ description: 'not logged in yet, or stopped (code -2)', json: Failure });
  return out;
}

function openwxOperation(r: TrackedRoute, { name, params, doc: d }: OpenwxRouteConfig, method: string): Json {
  const op: Json = {
    operationId: method === 'GET' ? name : `${name}_post`,
    summary: d.summary,
    tags: [d.tag],
    parameters: queryParameters(params, method === 'GET'),
  };
  if (method === 'POST') op['requestBody'] = requestBody(params);
  const responses: Json = {};
  for (const [status, resp] of Object.entries(d.responses)) responses[status] = responseObject(resp);
  op['responses'] = { ...responses, ...errorResponses(r.public, d.needsLogin) };
  if (r.public) op['security'] = [];
  return op;
}

function docOperation(r: TrackedRoute, doc: RouteDoc | undefined, method: string): Json {
  const id = `${method.toLowerCase()}${r.url.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`;
  if (!doc) return { operationId: id || 'root', summary: 'undocumented', 'x-undocumented': true, responses: { default: { description: 'undocumented' } } };
  const op: Json = { operationId: id, summary: doc.summary, tags: [doc.tag] };
  if (doc.description) op['description'] = doc.description;
  if (doc.query) op['parameters'] = queryParameters(doc.query, true);
  const responses: Json = {};
  for (const [status, resp] of Object.entries(doc.responses)) responses[status] = responseObject(resp);
  if (!r.public) responses[401] = responseObject({ description: 'token missing or wrong (code -6)', json: Failure });
  op['responses'] = responses;
  if (r.public) op['security'] = [];
  return op;
}

/** The OpenAPI document of the routes in the table. */
export function buildOpenApi(routes: readonly TrackedRoute[], o: OpenApiOptions): Json {
  const paths: Record<string, Json> = {};
  for (const r of routes) {
    const path = r.url.replace(/:(\w+)/g, '{$1}');
    for (const method of r.methods) {
      if (method === 'HEAD' || method === 'OPTIONS') continue;
      const op = r.openwx ? openwxOperation(r, r.openwx, method) : docOperation(r, r.doc, method);
      (paths[path] ??= {})[method.toLowerCase()] = op;
    }
  }
  for (const [path, item] of Object.entries(o.extras?.paths ?? {})) {
    for (const [method, op] of Object.entries(item)) {
      const at = (paths[path] ??= {});
      const have = at[method] as Json | undefined;
      if (have && !have['x-undocumented']) throw new Error(`OpenAPI: ${method.toUpperCase()} ${path} is documented by its route already`);
      at[method] = op;
    }
  }
  const schemas: Json = {};
  const all = z.toJSONSchema(apiSchemas, { io: 'output', uri: REF, unrepresentable: 'any' }) as { schemas: Record<string, Json> };
  for (const [id, s] of Object.entries(all.schemas)) schemas[id] = strip(s);
  return {
    openapi: '3.1.0',
    info: {
      title: 'openwx: the Openwx HTTP API',
      version: o.version,
      description:
        'The Openwx API of Mojo-Weixin, served by openwx (docs/api.md), plus the operator surface (console, health, metrics; docs/operations.md). ' +
        'Every /openwx route answers GET and POST (and HEAD like GET). Outcomes the API understood are answered in-band: HTTP 200 with `code` ≠ 0.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    tags: [
      { name: 'information' },
      { name: 'sending' },
      { name: 'groups and friends' },
      { name: 'media' },
      { name: 'client' },
      { name: 'events' },
      { name: 'post_api', description: 'the durable outbox: dead letters and their replay (docs/delivery.md)' },
      { name: 'operations', description: 'console, health, metrics, this document' },
      ...(o.extras?.tags ?? []),
    ],
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      schemas,
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'the --token setting; only when a token is configured' },
      },
    },
  };
}

/** Operations without documentation (a test keeps this empty). */
export function undocumentedOperations(doc: Json): string[] {
  const out: string[] = [];
  for (const [path, item] of Object.entries(doc['paths'] as Record<string, Record<string, Json>>)) {
    for (const [method, op] of Object.entries(item)) if (op['x-undocumented']) out.push(`${method.toUpperCase()} ${path}`);
  }
  return out;
}

/** Serves `/openwx/openapi.json` (behind the token like every /openwx route), built once on first request. */
export function registerOpenApi(app: FastifyInstance, o: OpenApiOptions): void {
  let cached: string | null = null;
  app.get(
    '/openwx/openapi.json',
    {
      config: {
        doc: {
          summary: 'This OpenAPI document',
          tag: 'operations',
          responses: { 200: { description: 'OpenAPI 3.1 document', raw: ['application/json'] } },
        },
      },
    },
    async (_req, reply) => {
      cached ??= JSON.stringify(buildOpenApi(app.routeTable, { ...o, extras: app.apiDocExtras }));
      return reply.type('application/json; charset=utf-8').send(cached);
    },
  );
}
