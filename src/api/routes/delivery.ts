/**
 * The post_api outbox seen from the API: get_dead_letters lists reports that were given up (attempt or age
 * limit), replay_dead_letters moves them (all, or the given event ids) back to the end of the outbox, keeping
 * their event ids. Without a durable outbox (no data folder, or no post_api) there are no dead letters.
 */
import type { FastifyInstance } from 'fastify';
import { owxError } from '../../errors.ts';
import { route } from '../context.ts';
import { S } from '../schemas.ts';

export const DEAD_LETTERS_DEFAULT_LIMIT = 100;

function parseReport(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
}

export function registerDeliveryRoutes(app: FastifyInstance): void {
  route(app, 'get_dead_letters', S.get_dead_letters, async (p, ctx) => {
    const outbox = ctx.store.outbox;
    const rows = outbox ? await outbox.deadLetters(p.limit ?? DEAD_LETTERS_DEFAULT_LIMIT) : [];
    return {
      code: 0,
      status: 'success',
      total: outbox ? outbox.deadCount : 0,
      dead_letters: rows.map((r) => ({
        event_id: r.eventId,
        kind: r.kind,
        created_at: Math.floor(r.createdAt / 1000),
        died_at: Math.floor(r.diedAt / 1000),
        attempts: r.attempts,
        last_error: r.lastError ?? '',
        report: parseReport(r.body),
      })),
    };
  });

  route(app, 'replay_dead_letters', S.replay_dead_letters, async (p, ctx) => {
    const outbox = ctx.store.outbox;
    const ids = p.event_id === undefined ? undefined : [...new Set(p.event_id.split(',').map((s) => s.trim()).filter(Boolean))];
    if (ids !== undefined && ids.length === 0) throw owxError('OWX_ERR_BAD_PARAM', ['event_id: must not be empty']);
    let notFound: string[] = [];
    if (ids && outbox) {
      const dead = new Set((await outbox.deadLetters(-1)).map((r) => r.eventId));
      notFound = ids.filter((id) => !dead.has(id));
    } else if (ids) {
      notFound = ids;
    }
    const replayed = outbox ? await outbox.replay(ids) : 0;
    if (ids && replayed === 0) return { code: 100, status: `dead letter ${notFound.join(',')} not found`, replayed: 0, not_found: notFound };
    return { code: 0, status: 'success', replayed, ...(notFound.length ? { not_found: notFound } : {}) };
  });
}
