/** check_event: the long-poll over the bounded event queue (semantics in ../check-event.ts). */
import type { FastifyInstance } from 'fastify';
import { route } from '../context.ts';
import { S } from '../schemas.ts';

export function registerEventRoutes(app: FastifyInstance): void {
  route(app, 'check_event', S.none, async (_params, { events }, req, reply) => {
    const ac = new AbortController();
    // The poller went away before anything arrived: stop waiting so no item is handed to a dead socket.
    const onClose = () => {
      if (!reply.raw.writableEnded) ac.abort();
    };
    req.raw.socket.on('close', onClose);
    try {
      return await events.poll(ac.signal);
    } finally {
      req.raw.socket.off('close', onClose);
    }
  });
}
