/**
 * post_api reporting and the check_event feed (reference §1.9, §1.11). `Reporter` composes four parts, each in
 * its own file under report/:
 * - subscribing (report/subscribe.ts): which client events are reported, and the durability barrier;
 * - commit batching (report/commit-batch.ts): one ordered chain of reports, each stored (history record + outbox
 *   row) as one job of the host's storage, which commits a turn's jobs of all accounts in one transaction;
 *   `commitPending` is the durability barrier;
 * - media attaching (report/media-attach.ts): a media report refers to its file, `media_data` is streamed later;
 * - replies (report/replies.ts): post_api answers with `reply`/`media`, the self-reply guard, once per event id.
 *
 * What is left here is building a report: messages (`receive_message`, `send_message`) become Mojo post-JSON
 * through the model's builder (`toJson`) plus `post_type`, pass `post_message_filter`, and are recorded in the
 * message history (WeChat's re-deliveries after a restart are not reported again); events become
 * `{"post_type":"event","event":…,"params":[…]}`. Each report goes to the delivery sink and the check_event queue.
 */
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../client/clock.ts';
import type { WxClient } from '../client/interface.ts';
import type { Delivery } from '../delivery/sink.ts';
import type { Message } from '../model/types.ts';
import type { AccountStorage, ReportJob, StoredMessage } from '../store/storage.ts';
import type { EventQueue } from './check-event.ts';
import { NOT_QUEUED_EVENTS, type ResolvedOptions } from './options.ts';
import { CommitBatch } from './report/commit-batch.ts';
import { mediaOf, sinkBody, type MediaAttachOptions } from './report/media-attach.ts';
import { Replies } from './report/replies.ts';
import { chatOf, eventParams, msgIdOf, newReportStats, passesFilter, type MessagePostType, type MessageToJson, type PostJson } from './report/report-json.ts';
import { subscribeReports } from './report/subscribe.ts';

export { chatOf, eventParams, msgIdOf, passesFilter, type MessagePostType, type MessageToJson, type PostJson } from './report/report-json.ts';

export interface ReporterOptions {
  options: ResolvedOptions;
  events: EventQueue<PostJson>;
  delivery: Delivery | null;
  /** The model's Mojo `to_json_hash` builder (src/model/post-json.ts). */
  toJson: MessageToJson;
  logger: Logger;
  /** Largest media file sent as `media_data`. */
  mediaDataMaxBytes?: number;
  /**
   * The account's storage (src/store/storage.ts): the message history, and the outbox of a durable sink over the
   * same handle (`delivery.storage`), whose report rows are committed with their history records.
   */
  storage?: AccountStorage | null | undefined;
  /** Record every message in the storage's history (WeChat's re-deliveries after a restart are not reported again). Default true with a storage. */
  history?: boolean | undefined;
  /** How long a reply waits for the client to be running (a report delivered during the login). Default 5 min. */
  replyLoginWaitMs?: number;
  /** Time for the reply wait, flush deadlines and history timestamps; default the system clock. */
  clock?: Clock | undefined;
}

export class Reporter {
  readonly #client: WxClient;
  readonly #o: ReporterOptions;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #batch: CommitBatch;
  readonly #replies: Replies;
  readonly #attach: MediaAttachOptions;
  #unsubscribe: (() => void) | null = null;
  /** Counters for tests and metrics. */
  readonly stats = newReportStats();

  constructor(client: WxClient, o: ReporterOptions) {
    this.#client = client;
    this.#o = o;
    this.#log = o.logger.child({ module: 'post_api' });
    this.#clock = o.clock ?? systemClock;
    this.#batch = new CommitBatch({ logger: this.#log, storage: o.storage });
    this.#attach = { postMediaData: o.options.postMediaData, mediaDataMaxBytes: o.mediaDataMaxBytes, logger: this.#log };
    this.#replies = new Replies(client, {
      delivery: o.delivery,
      history: o.history !== false ? o.storage : null,
      mediaDirs: o.options.mediaDirs,
      stats: this.stats,
      logger: this.#log,
      clock: this.#clock,
      loginWaitMs: o.replyLoginWaitMs,
    });
    o.delivery?.onDelivered((report, res) => this.#replies.onAnswer(report, res));
  }

  start(): void {
    const off = subscribeReports(this.#client, this.#o.options, {
      message: (m, postType) => this.#message(m, postType),
      event: (name, args) => this.#event(name, args),
      barrier: () => this.commitPending(),
    });
    const earlier = this.#unsubscribe;
    this.#unsubscribe = () => {
      earlier?.();
      off();
    };
  }

  /** Stops listening and replying; reports already accepted are still handed to the sink. */
  stop(): void {
    this.#replies.stop();
    this.#unsubscribe?.();
    this.#unsubscribe = null;
  }

  /** Waits until every accepted report reached the sink and the sink drained (or the deadline passed). */
  async flush(timeoutMs: number): Promise<void> {
    const deadline = this.#clock.now() + timeoutMs;
    await this.#batch.settle(timeoutMs, this.#clock);
    await this.#o.delivery?.flush(Math.max(0, deadline - this.#clock.now()));
  }

  /**
   * The client's durability barrier (WxClient.addDurabilityBarrier, registered by `start()`): resolves once the
   * report of every event emitted before the call is committed (history record + outbox row, one transaction), or
   * dropped with its warning if it could not be built or stored (report/commit-batch.ts).
   */
  commitPending(): Promise<void> {
    return this.#batch.commitPending();
  }

  #event(name: string, args: unknown[]): void {
    const json: PostJson = { post_type: 'event', event: name, params: eventParams(name, args) };
    const kind = `event:${name}`;
    const queue = !NOT_QUEUED_EVENTS.has(name);
    this.#batch.append(
      kind,
      async () => {
        const body = JSON.stringify(json);
        const durable = this.#durableSink();
        // Without a durable sink, a storage with an event log (the cluster's openwx_events) still logs the report.
        const logOnly = !durable && this.#o.storage?.logsReports === true;
        this.#batch.stage(kind, {
          job: durable
            ? { report: { kind, body, createdAt: this.#clock.now(), started: durable.startsAtOnce?.() === true } }
            : logOnly
              ? { report: { kind, body, createdAt: this.#clock.now(), outbox: false } }
              : null,
          done: (_dup, row) => {
            if (!durable) this.#o.delivery?.enqueue({ kind, body });
            else if (row) durable.accept!(row);
            if (queue) this.#o.events.push(json);
            this.stats.reported++;
          },
        });
      },
      'report dropped: could not build its JSON',
    );
  }

  #message(m: Message, postType: MessagePostType): void {
    let json: PostJson;
    try {
      // Built now, while the contact book is in the state the message arrived in. The host's builder adds post_type
      // (the console shares that object); another builder's JSON is copied with it.
      const built = this.#o.toJson(m, postType);
      json = built['post_type'] === postType ? built : { ...built, post_type: postType };
    } catch (err) {
      this.#log.warn({ err, id: m.id }, 'message not reported: its post JSON could not be built');
      return;
    }
    const report = passesFilter(json, this.#o.options.postMessageFilter);
    if (!report) this.stats.filtered++;
    const msgId = msgIdOf(String(m.id ?? ''));
    const sink = this.#o.delivery;
    this.#batch.append(
      postType,
      async () => {
        // A text message (the usual case) has no file to look at: no await, no promise.
        const media = report && (json.format === 'media' || !this.#attach.postMediaData) ? await mediaOf(json, m, this.#attach) : null;
        const body = !sink ? null : !media || sink.mediaByReference ? JSON.stringify(json) : await sinkBody(json, media, sink, this.#log);
        const durable = this.#durableSink();
        const byReference = media && sink?.mediaByReference ? media : null;
        // The history record and the outbox row commit together: a crash never leaves one without the other.
        const job: ReportJob = {
          // The sink's body is JSON.stringify(json), unless the sink takes whole bodies only (media_data added).
          message: this.#historyRecord(m, json, media && !sink?.mediaByReference ? null : body),
          report:
            report && durable
              ? { kind: postType, body: body!, media: byReference, createdAt: this.#clock.now(), started: durable.startsAtOnce?.() === true }
              : report
                ? this.#logOnly(postType, json)
                : undefined,
        };
        this.#batch.stage(postType, {
          job: job.message || job.report ? job : null,
          done: (duplicate, row) => {
            if (duplicate) {
              this.stats.duplicates++;
              this.#log.debug({ msgId }, 'message delivered again by WeChat (already in the history): not reported twice');
              return;
            }
            if (!report) return;
            if (!durable) sink?.enqueue({ kind: postType, body: body!, ...(byReference ? { media: byReference } : {}) });
            else if (row) durable.accept!(row);
            this.#o.events.push(json, media ?? undefined);
            this.stats.reported++;
          },
        });
      },
      'report dropped: could not build or store it',
    );
  }

  /**
   * A report only for the storage's event log (no durable sink: no post_api, or an in-memory one): its JSON as the
   * outbox would keep it (without `media_data`). Undefined when the storage keeps no event log.
   */
  #logOnly(kind: string, json: PostJson): ReportJob['report'] {
    if (this.#o.storage?.logsReports !== true) return undefined;
    const { media_data: _dropped, ...body } = json;
    return { kind, body: JSON.stringify(body), createdAt: this.#clock.now(), outbox: false };
  }

  /** The sink whose outbox rows the reporter commits itself (with the history records), on the same storage. */
  #durableSink(): Delivery | null {
    const sink = this.#o.delivery;
    return sink?.accept && sink.storage && sink.storage === this.#o.storage ? sink : null;
  }

  /**
   * The message's history record (committed with its report). A message from the sync loop is recorded only if new
   * (`ifNew`): WeChat delivers again, after a restart, what the saved SyncKey had not acknowledged, and such a
   * duplicate is not reported. Our own sends (source "local") never come again. `text`: `JSON.stringify(json)` when
   * the caller has it (the sink's body), else null: without `media_data` in `json` it is also the record's body text,
   * stored as is rather than serialised a second time.
   */
  #historyRecord(m: Message, json: PostJson, text: string | null): ReportJob['message'] {
    const msgId = msgIdOf(String(m.id ?? ''));
    if (!this.#o.storage || this.#o.history === false || !msgId) return undefined;
    const same = !('media_data' in json);
    let body = json;
    if (!same) {
      body = { ...json };
      delete body.media_data;
    }
    const record: StoredMessage = {
      msgId,
      peer: chatOf(json),
      localId: typeof m.local_id === 'string' ? m.local_id : null,
      class: m.class === 'send' ? 'send' : 'recv',
      time: Number(m.time) || Math.floor(this.#clock.now() / 1000),
      body,
      bodyJson: same && text !== null ? text : undefined,
    };
    return { record, ifNew: m.class === 'recv' || m.source !== 'local' };
  }
}
