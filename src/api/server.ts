/**
 * Builds the fastify app of the Openwx API for one client: the request guards (Host, cross-site, token: all before
 * any body is read), body parsers (urlencoded, multipart, JSON; UTF-8 and JSON depth checked), one hook that merges
 * every parameter source into strings, the declared account routes (ACCOUNT_ROUTES), and the error mapping to Openwx JSON
 * (`{"code":…,"status":…}`): coded errors keep their registry status, other client errors (bad JSON, unsupported
 * content type, body too large) become 4xx JSON, unknown routes 404 `api not found`. Connections are capped and a
 * request must arrive whole within `requestTimeoutMs` (docs/security.md, "Request limits").
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import { errorBody, isOpenwxError, owxError } from '../errors.ts';
import { formBodyRefusal, jsonBodyRefusal, percentEscapesRefusal } from '../security/body-checks.ts';
import type { Logger } from 'pino';
import type { AccountResolver, MergedParams, UploadedFile } from './context.ts';
import type { ResolvedOptions } from './options.ts';
import { registerAccountRoute, type AccountRoute } from './account-route.ts';
import { INFO_ROUTES } from './routes/info.ts';
import { SEARCH_ROUTES } from './routes/search.ts';
import { SEND_ROUTES } from './routes/send.ts';
import { CONSULT_ROUTE } from './routes/consult.ts';
import { GROUP_ROUTES } from './routes/groups.ts';
import { FRIEND_ROUTES } from './routes/friends.ts';
import { MEDIA_ROUTES } from './routes/media.ts';
import { CLIENT_INFO_ROUTE, STOP_CLIENT_ROUTE } from './routes/client.ts';
import { QRCODE_ROUTE } from './routes/qrcode.ts';
import { CHECK_EVENT_ROUTE } from './routes/events.ts';
import { DELIVERY_ROUTES } from './routes/delivery.ts';
import { trackRoutes } from './route-table.ts';
import { registerGuards } from './guard.ts';

/**
 * The Openwx routes of one account, answered for the account each request resolves to, in the order they are
 * registered (and listed in the OpenAPI document). Each is declared once, in its file of routes/
 * (account-route.ts): adding a route to a file's list is all it takes; a new file's list is added here.
 */
export const ACCOUNT_ROUTES: readonly AccountRoute[] = [
  ...INFO_ROUTES,
  ...SEARCH_ROUTES,
  ...SEND_ROUTES,
  CONSULT_ROUTE,
  ...GROUP_ROUTES,
  ...FRIEND_ROUTES,
  ...MEDIA_ROUTES,
  CLIENT_INFO_ROUTE,
  STOP_CLIENT_ROUTE,
  CHECK_EVENT_ROUTE,
  ...DELIVERY_ROUTES,
  QRCODE_ROUTE,
];

/** The routes a host serves: all of them for one account; under the Controller those declared per account. */
export function accountRoutesOf(mode: 'single' | 'controller'): readonly AccountRoute[] {
  return mode === 'single' ? ACCOUNT_ROUTES : ACCOUNT_ROUTES.filter((r) => r.perAccount);
}

export interface ServerOptions {
  token?: string | undefined;
  /** The account context of each request (one account, or the one `client=` names under the Controller). */
  resolve: AccountResolver;
  /** The account routes served; default ACCOUNT_ROUTES (the Controller: `accountRoutesOf('controller')`). */
  accountRoutes?: readonly AccountRoute[];
}

/** The API server: `o` holds the process-wide settings (limits, guards); account settings live in each context. */
export async function buildApiServer(o: ResolvedOptions, logger: Logger, so: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger.child({ module: 'api' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: o.bodyLimitBytes,
    // Node's request timeout covers receiving a request (headers and body), not answering it: check_event's and
    // consult's long waits and the console's event stream are not cut by it; a body dripped in is.
    requestTimeout: o.requestTimeoutMs,
    http: { headersTimeout: o.headersTimeoutMs, connectionsCheckingInterval: o.timeoutCheckIntervalMs },
    forceCloseConnections: true,
    // Requests fastify refuses before routing (a path that is not valid percent-encoded UTF-8, …) get Openwx JSON.
    frameworkErrors: (err, _req, reply) => {
      const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400;
      void (reply as unknown as FastifyReply).code(status).send(errorBody(owxError('OWX_ERR_BAD_REQUEST', [err.message])));
    },
    // Requests Node's HTTP parser rejects (bad request line, headers too large, bad chunking) still get JSON.
    clientErrorHandler: (err, socket) => {
      // A request past its time whose answer has begun (its handler already replying) is just cut.
      const started = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
      if (!socket.writable || started) return socket.destroy();
      const code = (err as { code?: string }).code;
      let status: number, text: string, body: string;
      if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
        const e = owxError('OWX_ERR_REQUEST_TIMEOUT', [`a request must arrive whole within ${o.requestTimeoutMs} ms (its headers within ${o.headersTimeoutMs} ms)`]);
        [status, text, body] = [e.statusCode, 'Request Timeout', JSON.stringify(errorBody(e))];
      } else {
        [status, text] = code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large'] : [400, 'Bad Request'];
        body = JSON.stringify(errorBody(owxError('OWX_ERR_BAD_REQUEST', [code === 'HPE_HEADER_OVERFLOW' ? 'headers too large' : 'malformed HTTP request'])));
      }
      socket.end(
        `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    },
  });
  // Beyond the cap Node closes a new connection at once (slow or idle clients cannot take every descriptor).
  app.server.maxConnections = o.connectionsMax;
  app.server.headersTimeout = o.headersTimeoutMs;
  trackRoutes(app);
  app.decorate('owxAccount', so.resolve);

  app.decorateRequest('owx', null as unknown as MergedParams);
  // The parameters are merged before the guards' preHandler hooks look at them (a body-carried access_token).
  app.addHook('preHandler', async (req) => {
    req.owx = await mergeParams(req);
  });

  // Host names, cross-site requests, the token (all before any body is read), CORS and JSONP switches, nosniff:
  // src/api/guard.ts. Its onRequest hooks are the first registered: they run before every other.
  registerGuards(app, {
    token: so.token,
    accessTokenParam: o.accessTokenParam,
    accessTokenBodyMaxBytes: o.accessTokenBodyMaxBytes,
    corsOrigins: o.corsOrigins,
    jsonp: o.jsonp,
    listenHosts: o.listenHosts,
    allowedHosts: o.allowedHosts,
  });

  // Invalid UTF-8 in the query string's escapes: refused before the body is read.
  app.addHook('onRequest', async (req) => {
    const q = req.url.indexOf('?');
    const why = q < 0 ? null : percentEscapesRefusal(req.url.slice(q + 1));
    if (why) throw owxError('OWX_ERR_BAD_PARAM', [`query string: ${why}`]);
  });
  registerBodyParsers(app, o.jsonDepthMax);
  await app.register(multipart, {
    attachFieldsToBody: true,
    limits: { fileSize: o.bodyLimitBytes, files: 4, fields: 200 },
  });

  app.setNotFoundHandler((_req, reply) => {
    const e = owxError('OWX_ERR_API_NOT_FOUND');
    reply.code(e.statusCode).send(errorBody(e));
  });

  app.setErrorHandler((err, req, reply) => {
    if (isOpenwxError(err)) {
      reply.code(err.statusCode).send(errorBody(err));
      return;
    }
    const e = err as { statusCode?: number; message?: string; code?: string };
    const sc = e.statusCode;
    if (typeof sc === 'number' && sc >= 400 && sc < 500) {
      reply.code(sc).send(errorBody(owxError('OWX_ERR_BAD_REQUEST', [e.message ?? 'invalid request'])));
      return;
    }
    // A multipart body the parser rejected (no boundary, truncated, …) before any parameter was read: the client's
    // fault, not ours (busboy's errors carry no status).
    if (req.owx == null && req.isMultipart()) {
      reply.code(400).send(errorBody(owxError('OWX_ERR_BAD_REQUEST', [`malformed multipart body: ${e.message ?? 'unreadable'}`])));
      return;
    }
    req.log.error({ err }, 'openwx API route failed');
    reply.code(500).send(errorBody(owxError('OWX_ERR_INTERNAL', [e.message ?? String(err)])));
  });

  const routes = so.accountRoutes ?? ACCOUNT_ROUTES;
  await app.register(async (scope) => {
    for (const r of routes) registerAccountRoute(scope, r);
  });
  return app;
}

/**
 * urlencoded forms and JSON, read as bytes and checked before parsing: valid UTF-8 (also inside percent-escapes)
 * and JSON at most `jsonDepthMax` deep (a 5,000-deep JSON overflowed the stack further on), else HTTP 400.
 */
function registerBodyParsers(app: FastifyInstance, jsonDepthMax: number): void {
  const bad = (why: string) => Object.assign(new Error(why), { statusCode: 400 });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, (_req, body, done) => {
    const why = formBodyRefusal(body as Buffer);
    if (why) return done(bad(why), undefined);
    // Repeated keys become arrays (the last one is used); no prototype, so any key is just a key.
    const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
    for (const [k, v] of new URLSearchParams((body as Buffer).toString('utf8'))) {
      const prev = out[k];
      if (prev === undefined) out[k] = v;
      else if (Array.isArray(prev)) prev.push(v);
      else out[k] = [prev, v];
    }
    done(null, out);
  });
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    const why = jsonBodyRefusal(body as Buffer, jsonDepthMax);
    if (why) return done(bad(why), undefined);
    json(req, (body as Buffer).toString('utf8'), done);
  });
}

/**
 * Query, then form / multipart fields, then JSON body: later sources win. A repeated query or form key gives its
 * last value (Mojo's `param`); a JSON array gives the comma list the id-list params (`friends`, `members`) use.
 */
export async function mergeParams(req: FastifyRequest): Promise<MergedParams> {
  const params: Record<string, string> = {};
  const files: Record<string, UploadedFile> = {};
  addAll(params, req.query, 'last');
  const body = req.body as unknown;
  if (body === undefined || body === null || body === '') return { params, files };
  const isJson = /json/i.test(req.headers['content-type'] ?? '');
  if (!isJson && (typeof body === 'string' || Buffer.isBuffer(body))) {
    throw owxError('OWX_ERR_BAD_PARAM', [
      `a ${req.headers['content-type'] ?? 'raw'} body is not read: send the parameters as a query string, a form (urlencoded or multipart) or a JSON object`,
    ]);
  }
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw owxError('OWX_ERR_BAD_PARAM', ['a JSON body must be an object of parameters']);
  }
  if (req.isMultipart()) {
    for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
      for (const p of Array.isArray(v) ? v : [v]) {
        if (!isMultipartPart(p)) continue;
        if (p.type === 'file') files[k] = { data: await p.toBuffer(), filename: p.filename ?? '', mimetype: p.mimetype ?? '' };
        else addValue(params, k, p.value, 'last');
      }
    }
    return { params, files };
  }
  addAll(params, body, isJson ? 'join' : 'last');
  return { params, files };
}

interface MultipartPart {
  type: 'file' | 'field';
  fieldname: string;
  value?: unknown;
  filename?: string;
  mimetype?: string;
  toBuffer: () => Promise<Buffer>;
}

function isMultipartPart(v: unknown): v is MultipartPart {
  if (typeof v !== 'object' || v === null || !('fieldname' in v)) return false;
  const t = (v as { type?: unknown }).type;
  return t === 'file' || t === 'field';
}

function addAll(out: Record<string, string>, src: unknown, arrays: 'last' | 'join'): void {
  if (!src || typeof src !== 'object') return;
  for (const [k, v] of Object.entries(src as Record<string, unknown>)) addValue(out, k, v, arrays);
}

function addValue(out: Record<string, string>, key: string, v: unknown, arrays: 'last' | 'join'): void {
  if (v === undefined || v === null) return;
  if (Array.isArray(v)) {
    const items = v.filter((x) => x !== null && x !== undefined).map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x)));
    if (items.length) out[key] = arrays === 'last' ? items[items.length - 1]! : items.join(',');
    return;
  }
  out[key] = typeof v === 'object' ? JSON.stringify(v) : String(v);
}
