/**
 * v12 `webhook` and v11 `http_post`: every event of an account POSTed to each URL through the same durable machinery
 * as post_api (src/delivery/outbox-delivery.ts: the SQLite outbox, in order, retried with backoff until delivered
 * or a dead letter, surviving restarts), one sink per account and URL (outbox rows keyed
 * `<account>/onebot<version>/<index of the URL>`). Headers as the specs ask: v12 `X-OneBot-Version: 12`, `X-Impl`,
 * `User-Agent: OneBot/12 (wechat) openwx/<version>`; v11 `X-Self-ID` and, with `onebot.v11.secret`,
 * `X-Signature: sha1=<HMAC-SHA1 of the body, hex>`; both `Authorization: Bearer <token>` when a token is set. The
 * receivers' 2xx answers go to `onAnswer` (v11 quick operations: src/onebot/v11/quick.ts); v12 answers are not
 * acted on. Needs a database.
 */
import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import type { ResolvedOptions } from '../api/options.ts';
import { OutboxDelivery } from '../delivery/outbox-delivery.ts';
import type { DB } from '../store/db.ts';
import { Outbox } from '../store/outbox.ts';
import type { DeliveredResponse, Report } from '../delivery/sink.ts';
import { owxError } from '../errors.ts';
import type { Bot } from './bot.ts';

export type DeliveryOptions = Pick<
  ResolvedOptions,
  'postMaxAttempts' | 'postMaxAgeMs' | 'postBackoffBaseMs' | 'postBackoffMaxMs' | 'postTimeoutMs' | 'postConcurrency' | 'postOrder' | 'postHoldMs' | 'postRejectedMaxAttempts'
>;

export class Webhooks {
  readonly sinks: OutboxDelivery[] = [];
  readonly #v: '12' | '11';

  constructor(
    bot: Bot,
    v: '12' | '11',
    urls: readonly string[],
    o: {
      db: DB | null;
      token: string | undefined;
      version: string;
      delivery: DeliveryOptions;
      logger: Logger;
      /** v11: signs each body (`X-Signature`). A secret: never logged. */
      secret?: string | undefined;
      /** Each 2xx answer, with the sink it came through (its `claimAnswer`). */
      onAnswer?: ((report: Report, res: DeliveredResponse, sink: OutboxDelivery) => void) | undefined;
    },
  ) {
    this.#v = v;
    if (urls.length === 0) return;
    if (!o.db) throw owxError('OWX_ERR_CONFIG', [`onebot ${v === '12' ? 'v12.webhook' : 'v11.http_post'} needs a data folder (its outbox is in the database)`]);
    const auth: Record<string, string> = o.token ? { authorization: `Bearer ${o.token}` } : {};
    const secret = o.secret;
    const fixed = v === '12' ? { ...auth, 'x-onebot-version': '12', 'x-impl': 'openwx' } : { ...auth, 'x-self-id': String(bot.selfNum()) };
    const headers = secret ? (body: string) => ({ ...fixed, 'x-signature': `sha1=${createHmac('sha1', secret).update(body, 'utf8').digest('hex')}` }) : fixed;
    urls.forEach((url, i) => {
      const d = o.delivery;
      const sink = new OutboxDelivery(new Outbox(o.db!), {
        account: `${bot.name}/onebot${v}/${i}`,
        url,
        maxAttempts: d.postMaxAttempts,
        maxAgeMs: d.postMaxAgeMs,
        backoffBaseMs: d.postBackoffBaseMs,
        backoffMaxMs: d.postBackoffMaxMs,
        timeoutMs: d.postTimeoutMs,
        concurrency: d.postConcurrency,
        order: d.postOrder,
        holdMs: d.postHoldMs,
        rejectedMaxAttempts: d.postRejectedMaxAttempts,
        userAgent: v === '12' ? `OneBot/12 (wechat) openwx/${o.version}` : `openwx/${o.version}`,
        headers,
        logger: o.logger.child({ module: `onebot-v${v}-webhook`, account: bot.name }),
      });
      const onAnswer = o.onAnswer;
      if (onAnswer) sink.onDelivered((report, res) => onAnswer(report, res, sink));
      this.sinks.push(sink);
    });
  }

  send(ev: Record<string, unknown>): void {
    if (this.sinks.length === 0) return;
    const kind = `onebot${this.#v}:${String(ev['type'] ?? ev['post_type'])}`;
    const body = JSON.stringify(ev);
    for (const s of this.sinks) s.enqueue({ kind, body });
  }

  async close(flushTimeoutMs: number): Promise<void> {
    await Promise.all(this.sinks.map(async (s) => {
      await s.flush(flushTimeoutMs);
      await s.close();
    }));
  }
}
