/**
 * The control API (JSON, under /__sandbox/): state, scan, confirm, messages, sent, contacts, logout, faults, world.
 * Bad input → HTTP 400 `{"error": "..."}` naming the problem; never a 500.
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
    if (e instanceof ControlError) return reply.code(400).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify({ error: e.message }));
    throw e;
  }
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
  app.get(`${P}/state`, (_req, reply) => run(reply, () => h.state()));
  app.get(`${P}/sent`, (_req, reply) => run(reply, () => h.sent()));
  app.get(`${P}/world`, (_req, reply) => run(reply, () => h.world()));
  app.post(`${P}/scan`, (req, reply) => run(reply, () => (parseBody(req), h.scan())));
  app.post(`${P}/confirm`, (req, reply) => run(reply, () => (parseBody(req), h.confirm())));
  app.post(`${P}/logout`, (req, reply) => run(reply, () => (parseBody(req), h.logout())));
  app.post(`${P}/messages`, (req, reply) => run(reply, () => h.inject(parseBody(req) as never)));
  app.post(`${P}/contacts`, (req, reply) => run(reply, () => h.contacts(parseBody(req) as never)));
  app.post(`${P}/faults`, (req, reply) => run(reply, () => h.fault(parseBody(req) as never)));
  app.all(`${P}/*`, (req, reply) =>
    reply.code(404).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify({ error: `no control endpoint ${req.method} ${req.url.split('?')[0]}` })),
  );
}
