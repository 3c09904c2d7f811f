/**
 * Replies: a 2xx JSON answer of post_api with `reply` and/or `media` (http(s) URL, or a local file inside the media
 * folders) replies in the same chat (Mojo). For `send_message` reports only `reply` counts, only for text, and
 * never for a message that is itself such a reply (the self-reply guard, own-replies.ts). The answer to a report is
 * acted on once per event id (the sink's `claimAnswer`, persisted with the outbox), even if the report comes again.
 * A report delivered during the login is replied to once the client is running (online-wait.ts).
 */
import type { Logger } from 'pino';
import type { Clock } from '../../client/clock.ts';
import type { WxClient } from '../../client/interface.ts';
import type { DeliveredResponse, Delivery, Report } from '../../delivery/sink.ts';
import { isHttpUrl, resolveMediaPath } from '../../security/media-path.ts';
import type { AccountStorage } from '../../store/storage.ts';
import { OnlineWait } from './online-wait.ts';
import { OwnReplies } from './own-replies.ts';
import type { PostJson, ReportStats } from './report-json.ts';

export interface RepliesOptions {
  delivery: Delivery | null;
  /** The account's storage: our replies are noted in its message history (the self-reply guard after a restart). */
  history?: AccountStorage | null | undefined;
  /** Folders a local `media` answer may name. */
  mediaDirs: readonly string[];
  stats: ReportStats;
  logger: Logger;
  clock: Clock;
  /** How long a reply waits for the client to be running. */
  loginWaitMs?: number | undefined;
}

export class Replies {
  readonly #client: WxClient;
  readonly #o: RepliesOptions;
  readonly #own: OwnReplies;
  readonly #online: OnlineWait;
  #stopped = false;

  constructor(client: WxClient, o: RepliesOptions) {
    this.#client = client;
    this.#o = o;
    this.#own = new OwnReplies({ history: o.history, logger: o.logger });
    this.#online = new OnlineWait(client, { clock: o.clock, timeoutMs: o.loginWaitMs });
  }

  /** No more replies; replies waiting for the login give up. */
  stop(): void {
    this.#online.stop();
    this.#stopped = true;
  }

  /** The sink's `onDelivered` handler: acts on one 2xx answer of post_api. */
  onAnswer(report: Report, res: DeliveredResponse): void {
    void this.#onAnswer(report, res).catch((err: unknown) => {
      this.#o.stats.replyFailures++;
      this.#o.logger.warn({ err }, 'post_api reply failed');
    });
  }

  async #onAnswer(report: Report, res: DeliveredResponse): Promise<void> {
    if (report.kind !== 'receive_message' && report.kind !== 'send_message') return;
    if (!/(text|application)\/json/i.test(res.contentType)) return;
    let answer: unknown;
    try {
      answer = JSON.parse(res.body);
    } catch {
      this.#o.logger.warn({ kind: report.kind }, 'post_api answered invalid JSON; ignored');
      return;
    }
    if (!answer || typeof answer !== 'object' || Array.isArray(answer)) return;
    const a = answer as { reply?: unknown; media?: unknown };
    const reply = typeof a.reply === 'string' || typeof a.reply === 'number' ? String(a.reply) : '';
    const media = typeof a.media === 'string' ? a.media.trim() : '';
    if (!reply && !media) return;
    // A report can come again after its answer was acted on (a restart that lost the delivery, a second process):
    // the sink remembers the acted-on event ids, so the same report never replies twice.
    const sink = this.#o.delivery;
    if (report.eventId && sink?.claimAnswer && !(await sink.claimAnswer(report.eventId))) {
      this.#o.stats.repeatedAnswers++;
      this.#o.logger.info({ eventId: report.eventId, kind: report.kind }, 'post_api answer to a report already answered and acted on: reply not sent again');
      return;
    }
    const msg = JSON.parse(report.body) as PostJson;
    await this.#reply(report.kind, msg, reply, media);
  }

  async #reply(kind: string, msg: PostJson, reply: string, media: string): Promise<void> {
    if (this.#stopped) return;
    const type = msg.type;
    let chat: unknown;
    if (kind === 'receive_message') {
      if (type === 'group_notice') return; // Mojo: a group notice cannot be replied to
      chat = type === 'group_message' ? msg.group_id : msg.sender_id;
    } else {
      if (msg.format !== undefined && msg.format !== 'text') return;
      media = ''; // Mojo: only `reply` is honoured for sent messages
      if (!reply) return;
      // Our own replies' send_message reports must not trigger again.
      if (await this.#own.isOwn(String(msg.id))) {
        this.#o.stats.ownRepliesIgnored++;
        this.#o.logger.debug({ id: msg.id }, 'post_api reply to our own reply ignored');
        return;
      }
      chat = type === 'group_message' ? msg.group_id : msg.receiver_id;
    }
    if (typeof chat !== 'string' || !chat) return;
    const to = chat;
    const answered = String(msg.id ?? '');
    await this.#own.track(
      (async () => {
        // A report delivered before the login finished (the outbox resumes at start-up) is replied to once online.
        if (!(await this.#online.wait())) throw new Error(`not replied: the client is ${this.#client.state}, not running`);
        if (reply) this.#own.remember(await this.#client.sendText(to, reply), answered);
        if (media) {
          const spec = isHttpUrl(media) ? { url: media } : { path: await resolveMediaPath(media, this.#o.mediaDirs) };
          this.#own.remember(await this.#client.sendMedia(to, spec), answered);
        }
      })(),
    );
    this.#o.stats.replies++;
  }
}
