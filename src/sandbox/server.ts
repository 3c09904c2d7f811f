/**
 * The fastify instance: every host (login, page, push, file) on one port, routed by path, plus the control API
 * under /__sandbox/. Bodies are parsed leniently (JSON kept as text and parsed per route) so bad input gets the
 * endpoint's own failure answer, never a framework 400/500.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import type { Logger } from 'pino';
import type { SandboxCore } from './core.ts';
import { registerLoginRoutes } from './routes/login.ts';
import { registerContactRoutes } from './routes/contacts.ts';
import { registerSyncRoutes } from './routes/sync.ts';
import { registerSendRoutes } from './routes/send.ts';
import { registerMediaRoutes } from './routes/media.ts';
import { registerUploadRoutes } from './routes/upload.ts';
import { registerChatroomRoutes } from './routes/chatroom.ts';
import { registerControlRoutes } from './control.ts';
import type { SandboxHandle } from './handle.ts';
import { authenticate } from './auth.ts';

export const MAX_BODY_BYTES = 64 * 1024 * 1024;

export async function buildServer(core: SandboxCore, handle: SandboxHandle, logger: Logger): Promise<FastifyInstance> {
  const app = Fastify({
    // Per-request info logs are noise for a sandbox: the framework logs at warn and above.
    loggerInstance: logger.child({}, { level: 'warn' }) as FastifyBaseLogger,
    forceCloseConnections: true,
    bodyLimit: MAX_BODY_BYTES,
  });
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => done(null, body));
  await app.register(formbody);
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setNotFoundHandler((_req, reply) => reply.code(404).header('content-type', 'text/html').send(''));
  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) req.log.error({ err, url: req.url }, 'sandbox route failed');
    const body = req.url.startsWith('/__sandbox/') ? { error: err.message } : '';
    return reply.code(status).send(body);
  });

  registerLoginRoutes(app, core);
  registerContactRoutes(app, core);
  registerSyncRoutes(app, core);
  registerSendRoutes(app, core);
  registerMediaRoutes(app, core);
  // @fastify/multipart hooks every request of its context (an async onRequest adding a 'close' listener, an async
  // onResponse): only the upload routes read multipart bodies, so it is registered in their own context. Elsewhere a
  // multipart body is read by the '*' parser like any other non-JSON body (the route's failure answer, as before).
  void app.register(async (uploads) => {
    await uploads.register(multipart, { limits: { fileSize: MAX_BODY_BYTES, files: 1, fields: 32 } });
    registerUploadRoutes(uploads, core);
  });
  registerChatroomRoutes(app, core);
  registerControlRoutes(app, handle);
  // The page host's index page. Like the real page it tells a client whose cookies name a live session that it is
  // logged in: Mojo-Weixin's first request is `GET https://wx.qq.com/`, and it skips the QR login when the HTML
  // matches `window.MMCgi = { isLogin : !!"1" }` (lib/Mojo/Weixin/Client/Remote/_is_need_login.pm).
  app.get('/', (req, reply) => {
    const loggedIn = authenticate(core, req).ok;
    return reply
      .code(200)
      .header('content-type', 'text/html; charset=utf-8')
      .send(
        '<!doctype html><title>openwx sandbox</title>' +
          `<script>window.MMCgi = {\n    isLogin : !!"${loggedIn ? '1' : ''}"\n};</script>` +
          '<p>openwx sandbox: a fake WeChat web server. Control API under /__sandbox/.</p>',
      );
  });
  return app;
}
