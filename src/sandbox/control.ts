/**
 * The control API (JSON, under /__sandbox/): state, users, scan, confirm, messages, sent, contacts, logout, faults,
 * world. Every call takes `user` (body field, or `?user=`), optional while the sandbox has one user.
 * Bad input → HTTP 400 `{"error": "..."}` naming the problem (+ `users` when the user is missing or unknown); never a 500.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ControlError } from './core.ts';
import type { SandboxHandle } from './handle.ts';

function parseBody(req: FastifyRequest): unknown {
  const b = req.body as unknown;
  if (b === undefined || b === null || b === '') return {};
  if (typeof b === 'string' || Buffer.isBuffer(b)) {
    const text = b.toString();
    if (text.trim() === '') return {};
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      throw new ControlError(`body is not valid JSON: ${(e as Error).message}`);
    }
  }
  return b;
}

function run(reply: FastifyReply, fn: () => unknown): FastifyReply {
  try {
    const out = fn();
    return reply.code(200).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(out));
  } catch (e) {
    if (e instanceof ControlError) {
      return reply.code(400).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify({ error: e.message, ...e.extra }));
    }
    throw e;
  }
}

/** The body as an object (a JSON object is required when a body is given). */
function objectBody(req: FastifyRequest): Record<string, unknown> {
  return asObject(parseBody(req), 'body');
}

function asObject(b: unknown, what: string): Record<string, unknown> {
  if (!b || typeof b !== 'object' || Array.isArray(b)) throw new ControlError(`${what}: a JSON object`);
  return b as Record<string, unknown>;
}

/**
 * `user` from the query (`?user=`) merged into the body's (both may be given when they agree): every control call
 * takes it, GET calls in the query.
 */
function withUser(req: FastifyRequest, body: Record<string, unknown> = {}): Record<string, unknown> {
  const q = (req.query as Record<string, unknown> | undefined)?.['user'];
  if (q === undefined) return body;
  if (typeof q !== 'string') throw new ControlError('user: give it once in the query');
  if (body['user'] !== undefined && String(body['user']) !== q) throw new ControlError(`user: the query says "${q}", the body "${String(body['user'])}"`);
  return { ...body, user: q };
}

function queryUser(req: FastifyRequest): string | undefined {
  return withUser(req)['user'] as string | undefined;
}

export function registerControlRoutes(root: FastifyInstance, h: SandboxHandle): void {
  // Own encapsulated context: every body is read as text and parsed as JSON, whatever its Content-Type
  // (`curl -d '{…}'` sends application/x-www-form-urlencoded).
  void root.register(async (app) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    routes(app, h);
  });
}

function routes(app: FastifyInstance, h: SandboxHandle): void {
  const P = '/__sandbox';
  app.get(`${P}/state`, (req, reply) => run(reply, () => h.state(queryUser(req))));
  app.get(`${P}/users`, (_req, reply) => run(reply, () => h.users()));
  app.get(`${P}/sent`, (req, reply) => run(reply, () => h.sent(queryUser(req))));
  // Without `user` and with several users: every world, in the multi-user world file form.
  app.get(`${P}/world`, (req, reply) =>
    run(reply, () => {
      const user = queryUser(req);
      return user === undefined && h.users().users.length > 1 ? { users: h.worlds() } : h.world(user);
    }),
  );
  app.post(`${P}/scan`, (req, reply) => run(reply, () => h.scan(withUser(req, objectBody(req)) as never)));
  app.post(`${P}/confirm`, (req, reply) => run(reply, () => h.confirm(withUser(req, objectBody(req)) as never)));
  app.post(`${P}/logout`, (req, reply) =>
    run(reply, () => {
      const b = withUser(req, objectBody(req));
      return h.logout(b['user'] === undefined ? undefined : String(b['user']));
    }),
  );
  // One message object, or an array of them (each with its own `user`): injected in order, answered in order.
  app.post(`${P}/messages`, (req, reply) =>
    run(reply, () => {
      const b = parseBody(req);
      if (!Array.isArray(b)) return h.inject(withUser(req, asObject(b, 'body')) as never);
      if (b.length === 0) throw new ControlError('body: an empty array (give at least one message)');
      const items = b.map((item, i) => {
        try {
          return withUser(req, asObject(item, 'a message'));
        } catch (e) {
          throw e instanceof ControlError ? new ControlError(`[${i}]: ${e.message}`, e.extra) : e;
        }
      });
      return h.injectMany(items as never);
    }),
  );
  app.post(`${P}/contacts`, (req, reply) => run(reply, () => h.contacts(withUser(req, objectBody(req)) as never)));
  app.post(`${P}/faults`, (req, reply) => run(reply, () => h.fault(withUser(req, objectBody(req)) as never)));
  app.all(`${P}/*`, (req, reply) =>
    reply.code(404).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify({ error: `no control endpoint ${req.method} ${req.url.split('?')[0]}` })),
  );
}
