/**
 * The post_api outbox seen from the API: get_dead_letters lists reports that were given up (attempt or age
 * limit), replay_dead_letters moves them (all, or the given event ids) back to the end of the outbox, keeping
 * their event ids. Without a durable outbox (no data folder, or no post_api) there are no dead letters.
 */
import { z } from 'zod';
import { owxError } from '../../errors.ts';
import { openwxRoute } from '../account-route.ts';
import { DeadLettersAnswer, ok, ReplayAnswer } from '../responses.ts';
import { text } from '../schemas.ts';

export const DEAD_LETTERS_DEFAULT_LIMIT = 100;

function parseReport(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
}

export const DELIVERY_ROUTES = [
  openwxRoute({
    name: 'get_dead_letters',
    params: z.object({
      limit: z
        .string()
        .regex(/^\d{1,7}$/, 'expected a whole number 1-1000')
        .transform(Number)
        .refine((n) => n >= 1 && n <= 1000, 'expected a whole number 1-1000')
        .describe(`most dead letters listed, oldest first (default ${DEAD_LETTERS_DEFAULT_LIMIT}, max 1000)`)
        .optional(),
    }),
    doc: {
      summary: 'post_api reports given up after the attempt or age limit',
      tag: 'post_api',
      needsLogin: false,
      responses: ok('dead letters, oldest first', DeadLettersAnswer),
    },
    handler: async (p, ctx) => {
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
    },
  }),

  openwxRoute({
    name: 'replay_dead_letters',
    params: z.object({
      event_id: text('comma-separated event ids (`X-Openwx-Event-Id`) to replay; absent = every dead letter'),
    }),
    doc: {
      summary: 'Send dead letters again (all, or by event_id), keeping their event ids',
      tag: 'post_api',
      needsLogin: false,
      responses: ok('how many were replayed', ReplayAnswer),
    },
    handler: async (p, ctx) => {
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
    },
  }),
];
