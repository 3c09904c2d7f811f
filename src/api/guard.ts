/**
 * The API's request guards (docs/security.md), all on every route (API, console, ops, docs, unknown routes) and
 * all before any body is read:
 *
 * - **Host names** (DNS rebinding) and **cross-site requests** (CSRF), whatever the token setting:
 *   src/security/browser-requests.ts decides, HTTP 403 `OWX_ERR_HOST_NOT_ALLOWED` / `OWX_ERR_CROSS_SITE`.
 * - **Token.** With a token configured every request but the public pages carries it as
 *   `Authorization: Bearer <token>`, or — only with `accessTokenParam` on (Openwx-compatible clients) — as an
 *   `access_token` parameter: in the query string, or in an urlencoded or JSON body of at most
 *   `accessTokenBodyMaxBytes` declared by Content-Length (anything else is refused unread). Compared in constant
 *   time (SHA-256 digests of equal length). Missing or wrong credentials: HTTP 401 (RFC 6750)
 *   `{"code":-6,"status":"auth failure"}`, the same answer either way.
 * - Every refusal (401, 403) closes the connection (`Connection: close`): what the client still sends is not read.
 * - **CORS** (off by default): with `corsOrigins` set, requests whose `Origin` is listed (or any, with `*`) get
 *   `Access-Control-Allow-Origin`, and preflights (`OPTIONS`) are answered 204 before auth (browsers send no
 *   credentials on a preflight).
 * - **JSONP** (off by default): with `jsonp` on, `datatype=jsonp` wraps a JSON answer as `callback(json)`; the
 *   callback name must be a JavaScript identifier path (else HTTP 400), default `jsoncallback<unix time>` (Mojo).
 * - Every answer carries `X-Content-Type-Options: nosniff`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorBody, owxError, type ErrorCode } from '../errors.ts';
import { crossSiteRefusal, hostRefusal, hostRules } from '../security/browser-requests.ts';

export interface GuardOptions {
  token?: string | undefined;
  accessTokenParam: boolean;
  /** Largest urlencoded/JSON body an access_token is looked for in. */
  accessTokenBodyMaxBytes: number;
  corsOrigins: readonly string[];
  jsonp: boolean;
  /** The listen hosts (names among them are served). */
  listenHosts: readonly string[];
  /** Further Host names served (`name` or `name:port`). */
  allowedHosts: readonly string[];
}

export const AUTH_FAILURE = errorBody(owxError('OWX_ERR_AUTH'));
const CALLBACK = /^[A-Za-z_$][\w$]{0,63}(\.[A-Za-z_$][\w$]{0,63}){0,3}$/;

declare module 'fastify' {
  interface FastifyRequest {
    /** The token is expected in the body (access_token), checked once the body is parsed. */
    owxAuthPending?: boolean;
    /** The JSONP callback this answer is wrapped in. */
    owxJsonp?: string;
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

function deny(reply: FastifyReply): FastifyReply {
  return reply.code(401).header('www-authenticate', 'Bearer').header('connection', 'close').send(AUTH_FAILURE);
}

function refuse(reply: FastifyReply, code: ErrorCode, why: string): FastifyReply {
  const e = owxError(code, [why]);
  return reply.code(e.statusCode).header('connection', 'close').send(errorBody(e));
}

/** Whether an access_token may be looked for in this body: urlencoded or JSON, with a declared small length. */
function smallTokenBody(req: FastifyRequest, maxBytes: number): boolean {
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (!/^\s*(application\/x-www-form-urlencoded|application\/json)\s*(;|$)/.test(type)) return false;
  if (req.headers['transfer-encoding'] !== undefined) return false;
  const len = req.headers['content-length'];
  return len !== undefined && /^\d+$/.test(len) && Number(len) <= maxBytes;
}

function queryValue(req: FastifyRequest, name: string): string | undefined {
  const q = req.query as Record<string, unknown> | undefined;
  const v = q?.[name];
  const last = Array.isArray(v) ? v[v.length - 1] : v;
  return typeof last === 'string' ? last : undefined;
}

/** Installs the guards: call after the hook that merges the parameters (`req.owx`). */
export function registerGuards(app: FastifyInstance, o: GuardOptions): void {
  const allowed = hostRules(o.allowedHosts);
  const corsList = o.corsOrigins.map((x) => x.toLowerCase());
  app.addHook('onRequest', async (req, reply) => {
    const host = req.headers.host;
    const badHost = hostRefusal(host, o.listenHosts, allowed);
    if (badHost) return refuse(reply, 'OWX_ERR_HOST_NOT_ALLOWED', badHost);
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const crossSite = crossSiteRefusal(
      {
        method: req.method,
        host,
        origin: header('origin'),
        secFetchSite: header('sec-fetch-site'),
        secFetchMode: header('sec-fetch-mode'),
        publicRoute: req.routeOptions.config?.public === true,
      },
      { corsOrigins: corsList },
    );
    if (crossSite) return refuse(reply, 'OWX_ERR_CROSS_SITE', crossSite);
  });

  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    return payload;
  });

  const anyOrigin = o.corsOrigins.includes('*');
  const origins = new Set(o.corsOrigins.map((x) => x.toLowerCase()));
  if (o.corsOrigins.length > 0) {
    const allowed = (origin: string | undefined) => !!origin && (anyOrigin || origins.has(origin.toLowerCase()));
    const corsHeaders = (req: FastifyRequest, reply: FastifyReply) => {
      const origin = req.headers.origin;
      if (!allowed(origin)) return false;
      reply.header('access-control-allow-origin', anyOrigin ? '*' : origin!);
      if (!anyOrigin) reply.header('vary', 'Origin');
      return true;
    };
    app.addHook('onRequest', async (req, reply) => {
      if (req.method !== 'OPTIONS' || !req.headers['access-control-request-method']) return;
      if (!corsHeaders(req, reply)) {
        const e = owxError('OWX_ERR_CORS_ORIGIN');
        return reply.code(e.statusCode).send(errorBody(e));
      }
      return reply
        .code(204)
        .header('access-control-allow-methods', 'GET, HEAD, POST, OPTIONS')
        .header('access-control-allow-headers', 'Authorization, Content-Type, X-Requested-With')
        .header('access-control-max-age', '600')
        .send();
    });
    app.addHook('onSend', async (req, reply, payload) => {
      if (req.method !== 'OPTIONS') corsHeaders(req, reply);
      return payload;
    });
  }

  if (o.token) {
    const want = digest(o.token);
    const matches = (given: string) => timingSafeEqual(digest(given), want);
    app.addHook('onRequest', async (req, reply) => {
      // The console page and its files, and health, are served without the token (route config `public`).
      if (req.routeOptions.config?.public === true) return;
      const h = req.headers.authorization;
      if (h !== undefined) {
        const m = /^Bearer\s+(.+)$/i.exec(h);
        return m && matches(m[1]!.trim()) ? undefined : deny(reply);
      }
      if (o.accessTokenParam) {
        const q = queryValue(req, 'access_token');
        if (q !== undefined) return matches(q) ? undefined : deny(reply);
        // It may be in the body: checked after parsing, only in a small urlencoded or JSON body of a route that
        // exists. Any other body (multipart, large, no declared length) is refused here, before a byte of it is read.
        if (req.routeOptions.url !== undefined && smallTokenBody(req, o.accessTokenBodyMaxBytes)) {
          req.owxAuthPending = true;
          return;
        }
      }
      return deny(reply);
    });
    if (o.accessTokenParam) {
      app.addHook('preHandler', async (req, reply) => {
        if (!req.owxAuthPending) return;
        const given = req.owx?.params['access_token'];
        if (given === undefined) return deny(reply);
        if (!matches(given)) return deny(reply);
        req.owxAuthPending = false;
      });
    }
  }

  if (o.jsonp) {
    app.addHook('preHandler', async (req) => {
      const p = req.owx?.params;
      if (!p || p['datatype'] !== 'jsonp') return;
      const cb = p['callback'];
      if (cb !== undefined && cb !== '' && !CALLBACK.test(cb)) {
        throw owxError('OWX_ERR_BAD_PARAM', ['callback: expected a JavaScript function name']);
      }
      req.owxJsonp = cb || `jsoncallback${Math.floor(Date.now() / 1000)}`;
    });
    app.addHook('onSend', async (req, reply, payload) => {
      const cb = req.owxJsonp;
      if (!cb || typeof payload !== 'string') return payload;
      if (!/json/i.test(String(reply.getHeader('content-type') ?? ''))) return payload;
      reply.header('content-type', 'application/javascript; charset=utf-8');
      return `/**/${cb}(${payload});`;
    });
  }
}
