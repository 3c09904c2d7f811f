/** check_event: the long-poll over the bounded event queue (semantics in ../check-event.ts). */
import { openwxRoute } from '../account-route.ts';
import { CheckEventAnswer, ok } from '../responses.ts';
import { NO_PARAMS } from '../schemas.ts';

export const CHECK_EVENT_ROUTE = openwxRoute({
  name: 'check_event',
  params: NO_PARAMS,
  doc: {
    summary: 'Long-poll the queued reports (up to 30 s)',
    tag: 'events',
    needsLogin: false,
    responses: ok('reports, each handed to exactly one poller', CheckEventAnswer),
  },
  handler: async (_params, { events }, req, reply) => {
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
  },
});
