/** Route registration with fault injection applied first (see faults.ts): the request's user's faults, then global ones. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxCore } from '../core.ts';
import type { SandboxUser } from '../user.ts';
import { cookie, query } from '../http-util.ts';
import { ENVELOPE } from '../shapes.ts';
import { formatServerJson, type JsonStyle } from '../server-json.ts';

export interface FaultAnswer {
  status?: number;
  contentType: string;
  body: string;
}

export type Handler = (req: FastifyRequest, reply: FastifyReply) => Promise<unknown> | unknown;

export interface RouteDef {
  method: 'GET' | 'POST' | ('GET' | 'POST')[];
  path: string;
  /** Fault-injection name: the last path segment. */
  endpoint: string;
  /** The endpoint's own failure answer for a `ret` fault. */
  faultAnswer: (ret: number) => FaultAnswer;
  handler: Handler;
}

export function jsonFault(endpoint: string, style: JsonStyle): (ret: number) => FaultAnswer {
  return (ret) => ({ contentType: 'text/plain', body: formatServerJson(ENVELOPE[endpoint]!(ret), style) });
}

/**
 * The user a request is for, as far as it can be told before the handler runs (for per-user faults): the session its
 * `wxsid` cookie names, the QR ticket its `uuid` names (once scanned as a user), or the user whose `uin` it gives.
 */
export function requestUser(core: SandboxCore, req: FastifyRequest): SandboxUser | null {
  const s = core.sessionBySid(cookie(req, 'wxsid'));
  if (s) return s.user;
  const q = query(req);
  const uuid = q['uuid'] ?? (req.params as { uuid?: string } | undefined)?.uuid;
  const t = uuid ? core.tickets.get(uuid) : undefined;
  if (t?.user) return t.user;
  return q['uin'] ? (core.userByUin(q['uin']) ?? null) : null;
}

export function wireRoute(app: FastifyInstance, core: SandboxCore, def: RouteDef): void {
  app.route({
    method: def.method,
    url: def.path,
    handler: async (req, reply) => {
      const f = core.takeFault(def.endpoint, () => requestUser(core, req));
      if (f) {
        if (f.delayMs) await new Promise((r) => setTimeout(r, f.delayMs));
        if (f.status !== undefined) return reply.code(f.status).header('content-type', 'text/plain').send(f.body ?? '');
        if (f.body !== undefined) return reply.code(200).header('content-type', 'text/plain').send(f.body);
        if (f.ret !== undefined) {
          const a = def.faultAnswer(f.ret);
          return reply.code(a.status ?? 200).header('content-type', a.contentType).send(a.body);
        }
      }
      return def.handler(req, reply);
    },
  });
}
