/**
 * OneBot 11 quick operations: the JSON an http_post receiver answers an event with acts on it (OneBot 11 "快速操作",
 * as go-cqhttp does it). A message: `reply` (a CQ string, `auto_escape` sends it as plain text, or a segment
 * array) in the same chat, in a group prefixed with an @ of the sender unless `at_sender: false`; `kick` removes the
 * sender from the group (WeChat allows it to the group's owner); `delete` (revoking someone else's message) and
 * `ban` (muting) WeChat cannot do: they are logged as unsupported, never faked. A friend request: `approve: true`
 * accepts it (`remark` sets the friend's remark); `approve: false` does nothing (WeChat has no refusal).
 * An empty answer, a 204 or a non-JSON answer is no operation. An answer is acted on once per event id (the sink's
 * `claimAnswer`, persisted with the outbox), however often the event is delivered. An answer delivered before the
 * login finished waits for it (OnlineWait, up to `loginWaitMs`). Outcomes have no channel back to the receiver:
 * failures and unsupported operations are logged (warn) with the event id, never with the answer's text.
 */
import type { Logger } from 'pino';
import { systemClock } from '../../client/clock.ts';
import { OnlineWait } from '../../api/report/online-wait.ts';
import type { DeliveredResponse, Delivery, Report } from '../../delivery/sink.ts';
import type { Bot } from '../bot.ts';
import { runV11 } from './actions.ts';
import { fromCq, type V11Segment } from './cq.ts';

export interface QuickOptions {
  version: string;
  logger: Logger;
  /** How long an answer waits for the account to be logged in (default: the post_api replies' 5 min). */
  loginWaitMs?: number | undefined;
}

type Answer = Record<string, unknown>;

const isTrue = (v: unknown) => v === true || v === 1 || v === 'true';

/** The reply as a segment array, or null for none; `bad` for a reply that is no message. */
function replySegments(a: Answer): V11Segment[] | null | 'bad' {
  const r = a['reply'];
  if (r === undefined || r === null || r === '') return null;
  if (typeof r === 'string' || typeof r === 'number') return fromCq(String(r), isTrue(a['auto_escape']));
  if (Array.isArray(r)) return r.length ? (r as V11Segment[]) : null;
  if (typeof r === 'object' && typeof (r as V11Segment).type === 'string') return [r as V11Segment];
  return 'bad';
}

export class QuickOperations {
  readonly #bot: Bot;
  readonly #o: QuickOptions;
  readonly #log: Logger;
  readonly #online: OnlineWait;
  #stopped = false;

  constructor(bot: Bot, o: QuickOptions) {
    this.#bot = bot;
    this.#o = o;
    this.#log = o.logger.child({ module: 'onebot-v11-quick', account: bot.name });
    this.#online = new OnlineWait(bot.client, { clock: systemClock, timeoutMs: o.loginWaitMs });
  }

  /** The sink's `onDelivered` handler for one http_post URL. */
  onAnswer(report: Report, res: DeliveredResponse, sink: Pick<Delivery, 'claimAnswer'>): void {
    if (this.#stopped || res.status === 204 || !/(text|application)\/json/i.test(res.contentType)) return;
    if (report.kind !== 'onebot11:message' && report.kind !== 'onebot11:request') return;
    let answer: unknown;
    try {
      answer = JSON.parse(res.body);
    } catch {
      this.#log.warn({ eventId: report.eventId }, 'onebot v11 http_post answered invalid JSON: no quick operation');
      return;
    }
    if (!answer || typeof answer !== 'object' || Array.isArray(answer) || Object.keys(answer).length === 0) return;
    const a = answer as Answer;
    const ev = JSON.parse(report.body) as Answer;
    const isMessage = ev['post_type'] === 'message';
    const wanted = isMessage
      ? replySegments(a) !== null || isTrue(a['delete']) || isTrue(a['kick']) || isTrue(a['ban'])
      : a['approve'] !== undefined;
    if (!wanted) return;
    const eventId = report.eventId;
    const run = (async (): Promise<void> => {
      // Awaited: a sink's claim may be synchronous or not.
      if (eventId && sink.claimAnswer && !(await sink.claimAnswer(eventId))) {
        this.#log.info({ eventId }, 'onebot v11 quick operation already acted on for this event: not again');
        return;
      }
      await (isMessage ? this.#message(ev, a, eventId) : this.#request(ev, a, eventId));
    })();
    void run.catch((err: unknown) => this.#log.warn({ err, eventId }, 'onebot v11 quick operation failed'));
  }

  /** Runs one v11 action; a failure is logged (the receiver has no way to learn it). */
  async #act(op: string, action: string, params: Answer, eventId: string | undefined): Promise<void> {
    const r = await runV11(this.#bot, action, params, undefined, this.#o.version, (err) => this.#log.error({ err }, 'onebot v11 quick operation failed'));
    if (r.retcode !== 0) this.#log.warn({ eventId, op, retcode: r.retcode, message: r.message }, 'onebot v11 quick operation refused');
  }

  #unsupported(op: string, eventId: string | undefined, why: string): void {
    this.#log.warn({ eventId, op }, `onebot v11 quick operation ${op} is unsupported: ${why}`);
  }

  async #ready(eventId: string | undefined): Promise<boolean> {
    if (await this.#online.wait()) return !this.#stopped;
    this.#log.warn({ eventId, state: this.#bot.client.state }, 'onebot v11 quick operation not done: the account is not logged in');
    return false;
  }

  async #message(ev: Answer, a: Answer, eventId: string | undefined): Promise<void> {
    if (!(await this.#ready(eventId))) return;
    const group = ev['message_type'] === 'group';
    const reply = replySegments(a);
    if (reply === 'bad') this.#log.warn({ eventId }, 'onebot v11 quick operation: reply is not a message (a string or segments): not sent');
    else if (reply) {
      const at = group && (a['at_sender'] === undefined || isTrue(a['at_sender']));
      const message = at ? [{ type: 'at', data: { qq: String(ev['user_id']) } }, ...reply] : reply;
      await this.#act('reply', 'send_msg', group ? { message_type: 'group', group_id: ev['group_id'], message } : { message_type: 'private', user_id: ev['user_id'], message }, eventId);
    }
    if (isTrue(a['delete'])) this.#unsupported('delete', eventId, 'WeChat can only revoke messages the account sent');
    if (isTrue(a['ban'])) this.#unsupported('ban', eventId, 'WeChat has no muting');
    if (isTrue(a['kick'])) {
      if (group) await this.#act('kick', 'set_group_kick', { group_id: ev['group_id'], user_id: ev['user_id'] }, eventId);
      else this.#unsupported('kick', eventId, 'only for group messages');
    }
  }

  async #request(ev: Answer, a: Answer, eventId: string | undefined): Promise<void> {
    if (ev['request_type'] !== 'friend') return this.#unsupported('approve', eventId, `no ${String(ev['request_type'])} requests on WeChat`);
    if (!isTrue(a['approve'])) {
      this.#log.info({ eventId }, 'onebot v11 quick operation approve: false: nothing done (WeChat has no refusal; the request expires)');
      return;
    }
    if (!(await this.#ready(eventId))) return;
    await this.#act('approve', 'set_friend_add_request', { flag: ev['flag'], approve: true, ...(typeof a['remark'] === 'string' && a['remark'] ? { remark: a['remark'] } : {}) }, eventId);
  }

  stop(): void {
    this.#stopped = true;
    this.#online.stop();
  }
}
