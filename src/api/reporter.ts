/**
 * post_api reporting and the check_event feed (reference §1.9, §1.11).
 *
 * - Messages (`receive_message`, `send_message`) become Mojo post-JSON through the model's builder (`toJson`),
 *   plus `post_type` and base64 `media_data` (MIME style, unless `post_media_data` is off), then pass
 *   `post_message_filter`. `media_data` is never built here: the report refers to its file (`Report.media`), and
 *   the sink streams the base64 into the POST body, the check_event queue reads it when a poller takes the item
 *   (src/delivery/media-body.ts). Events become `{"post_type":"event","event":…,"params":[…]}` when `post_event` is on
 *   and the event is in `post_event_list`.
 * - Nothing here blocks the client: listeners only append to a promise chain (which checks media files) that feeds
 *   the delivery sink and the check_event queue in event order, so per-account order is kept. The reports built
 *   during one turn of the event loop (one sync answer's messages) are stored in one transaction (#stage).
 * - A 2xx JSON answer with `reply` and/or `media` (http(s) URL, or a local file inside the media folders) replies
 *   in the same chat. For `send_message` reports only `reply` counts, only for text, and never for a message
 *   that is itself such a reply: the self-reply loop of Mojo cannot happen. The answer to a report is acted on
 *   once per event id (the sink's `claimAnswer`, persisted with the outbox), even if the report comes again.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { ClientEvents, SendResult, WxClient } from '../client/interface.ts';
import { withMediaData } from '../delivery/media-body.ts';
import type { Message } from '../model/types.ts';
import { isHttpUrl, resolveMediaPath } from '../security/media-path.ts';
import type { MessageHistory } from '../store/history.ts';
import type { EventQueue } from './check-event.ts';
import type { DeliveredResponse, Delivery, Report, ReportMedia } from '../delivery/sink.ts';
import { NOT_QUEUED_EVENTS, POSTABLE_EVENTS, type ResolvedOptions } from './options.ts';

export type PostJson = Record<string, unknown>;
export type MessageToJson = (m: Message) => Record<string, unknown>;

export interface ReporterOptions {
  options: ResolvedOptions;
  events: EventQueue<PostJson>;
  delivery: Delivery | null;
  /** The model's Mojo `to_json_hash` builder (src/model/post-json.ts). */
  toJson: MessageToJson;
  logger: Logger;
  /** Largest media file sent as `media_data`. */
  mediaDataMaxBytes?: number;
  /** Message history: every message is recorded; WeChat's re-deliveries (after a restart) are not reported again. */
  history?: MessageHistory | null;
  /** How long a reply waits for the client to be running (a report delivered during the login). Default 5 min. */
  replyLoginWaitMs?: number;
  /**
   * Runs `fn` in one SQLite transaction (rolled back if it throws). The reports of one event-loop turn are stored in
   * one transaction; if one of them cannot be stored, each is stored again in its own (history record and outbox
   * insert atomically). Without it (no database) reports are handed to the sink one by one.
   */
  transaction?: <T>(fn: () => T) => T;
}

/** WeChat's MsgID of a message id (`<MsgID>:<ToUserName>` for our own sends, the bare MsgID otherwise). */
export function msgIdOf(id: string): string {
  const i = id.indexOf(':');
  return i > 0 ? id.slice(0, i) : id;
}

/** The chat of a message: the group, else the other person. */
export function chatOf(m: { class?: unknown; group_id?: unknown; sender_id?: unknown; receiver_id?: unknown }): string {
  const g = typeof m.group_id === 'string' ? m.group_id : '';
  if (g) return g;
  const other = m.class === 'send' ? m.receiver_id : m.sender_id;
  return typeof other === 'string' ? other : '';
}

/** Mojo's post_message_filter: dropped if a filter key exists in the JSON with a different (string) value. */
export function passesFilter(json: PostJson, filter: Record<string, string> | undefined): boolean {
  if (!filter) return true;
  for (const [k, v] of Object.entries(filter)) {
    if (k in json && String(json[k] ?? '') !== String(v)) return false;
  }
  return true;
}

/** Event arguments as Mojo posts them in `params`. */
export function eventParams(name: string, args: unknown[]): unknown[] {
  switch (name) {
    case 'login':
      return args[0] === -1 ? [-1, args[1] ?? ''] : [args[0]];
    case 'input_qrcode':
      return args[2] ? [args[0], args[1], args[2]] : [args[0], args[1]];
    case 'update_friend':
    case 'update_group':
      // Mojo flattens the list into params.
      return Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
    case 'logout':
      return args[1] === undefined ? [args[0]] : [args[0], args[1]];
    default:
      return args;
  }
}

const REPLY_MEMORY = 1_000;
/** How long a post_api reply waits for the client to be logged in (reports delivered during a login). */
const REPLY_LOGIN_WAIT_MS = 5 * 60_000;

export class Reporter {
  readonly #client: WxClient;
  readonly #o: ReporterOptions;
  readonly #log: Logger;
  #chain: Promise<void> = Promise.resolve();
  #unsubscribe: (() => void)[] = [];
  /** Message ids of our own post_api replies (never honoured as triggers). */
  #ownReplies = new Set<string>();
  #pendingReplies = new Set<Promise<void>>();
  /** Reports built but not yet stored: committed together at the next setImmediate (#stage). */
  #staged: { kind: string; store: () => (() => void) | null }[] = [];
  #committing: Promise<void> | null = null;
  #stopped = false;
  #onlineWaiters = new Set<(ok: boolean) => void>();
  /** Counters for tests and metrics. */
  readonly stats = { reported: 0, filtered: 0, replies: 0, ownRepliesIgnored: 0, replyFailures: 0, duplicates: 0, repeatedAnswers: 0 };

  constructor(client: WxClient, o: ReporterOptions) {
    this.#client = client;
    this.#o = o;
    this.#log = o.logger.child({ module: 'post_api' });
    o.delivery?.onDelivered((report, res) => this.#onAnswer(report, res));
  }

  start(): void {
    const c = this.#client;
    const on = <E extends keyof ClientEvents>(name: E, fn: (...args: ClientEvents[E]) => void) => {
      c.on(name, fn);
      this.#unsubscribe.push(() => c.off(name, fn));
    };
    on('receive_message', (m) => this.#message(m, 'receive_message'));
    on('send_message', (m) => this.#message(m, 'send_message'));
    this.#unsubscribe.push(c.addDurabilityBarrier(() => this.commitPending()));
    const o = this.#o.options;
    if (!o.postEvent) return; // Mojo: with post_event off no event is posted or queued
    for (const name of POSTABLE_EVENTS) {
      if (!o.postEventList.has(name)) continue;
      on(name as keyof ClientEvents, (...args: unknown[]) => this.#event(name, args));
    }
  }

  /** Stops listening; reports already accepted are still handed to the sink. */
  /** Resolves true once the client can send (at once if it can), false if it stops or the wait times out. */
  #online(): Promise<boolean> {
    const c = this.#client;
    if (c.state === 'running' || c.state === 'updating') return Promise.resolve(true);
    if (c.state === 'stop' || this.#stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        c.off('state_change', onState);
        this.#onlineWaiters.delete(done);
        resolve(ok);
      };
      const onState = (_old: string, state: string) => {
        if (state === 'running') done(true);
        else if (state === 'stop') done(false);
      };
      const timer = setTimeout(() => done(false), this.#o.replyLoginWaitMs ?? REPLY_LOGIN_WAIT_MS);
      c.on('state_change', onState);
      this.#onlineWaiters.add(done);
    });
  }

  stop(): void {
    for (const w of [...this.#onlineWaiters]) w(false);
    for (const u of this.#unsubscribe.splice(0)) u();
    this.#stopped = true;
  }

  /** Waits until every accepted report reached the sink and the sink drained (or the deadline passed). */
  async flush(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await Promise.race([this.#chain, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    await this.#committing;
    await this.#o.delivery?.flush(Math.max(0, deadline - Date.now()));
  }

  #enqueue(kind: string, build: () => PostJson | null | Promise<PostJson | null>, queue: boolean): void {
    this.#chain = this.#chain
      .then(async () => {
        const json = await build();
        if (!json) return;
        this.#stage(kind, () => {
          this.#o.delivery?.enqueue({ kind, body: JSON.stringify(json) });
          return () => {
            if (queue) this.#o.events.push(json);
            this.stats.reported++;
          };
        });
      })
      .catch((err: unknown) => this.#log.warn({ err, kind }, 'report dropped: could not build its JSON'));
  }

  /**
   * Queues the storing part of one report (history record + outbox insert, run inside the commit's transaction;
   * it returns what to do once committed, or null for nothing). Every report staged during one turn of the event
   * loop (one webwxsync answer's AddMsgList) is committed in ONE SQLite transaction at the next `setImmediate`,
   * in staging order, before the delivery worker can read any of them: a report is POSTed only once committed.
   */
  #stage(kind: string, store: () => (() => void) | null): void {
    this.#staged.push({ kind, store });
    if (this.#committing) return;
    this.#committing = new Promise<void>((resolve) =>
      setImmediate(() => {
        this.#committing = null;
        try {
          this.#commit();
        } finally {
          resolve();
        }
      }),
    );
  }

  /**
   * The client's durability barrier (WxClient.addDurabilityBarrier, registered by `start()`): resolves once the
   * report of every event emitted before the call is committed (history record + outbox row, one transaction), or
   * dropped with its warning if it could not be built or stored. The sync loop awaits it before it acknowledges a
   * webwxsync answer to WeChat, so a kill -9 cannot lose a message WeChat was told we received. It commits what is
   * staged at once instead of at the next setImmediate: still one transaction per sync answer.
   */
  async commitPending(): Promise<void> {
    await this.#chain;
    if (this.#staged.length > 0) this.#commit();
  }

  #commit(): void {
    const jobs = this.#staged;
    this.#staged = [];
    if (jobs.length === 0) return; // committed early by commitPending
    const tx = this.#o.transaction;
    let after: ((() => void) | null)[] = [];
    const one = (job: (typeof jobs)[number], run: (f: () => (() => void) | null) => (() => void) | null) => {
      try {
        return run(job.store);
      } catch (err) {
        this.#log.warn({ err, kind: job.kind }, 'report dropped: could not store it');
        return null;
      }
    };
    if (!tx) {
      after = jobs.map((job) => one(job, (f) => f()));
    } else {
      try {
        tx(() => {
          for (const job of jobs) after.push(job.store());
        });
      } catch {
        // A report could not be stored and the whole batch rolled back: store them one by one, each in its own
        // transaction (its history record and outbox row together), so only the bad one is dropped.
        after = jobs.map((job) => one(job, tx));
      }
    }
    for (const a of after) {
      try {
        a?.();
      } catch (err) {
        this.#log.warn({ err }, 'report bookkeeping failed');
      }
    }
  }

  #event(name: string, args: unknown[]): void {
    const json: PostJson = { post_type: 'event', event: name, params: eventParams(name, args) };
    this.#enqueue(`event:${name}`, () => json, !NOT_QUEUED_EVENTS.has(name));
  }

  #message(m: Message, postType: 'receive_message' | 'send_message'): void {
    let json: PostJson;
    try {
      // Built now, while the contact book is in the state the message arrived in.
      json = { ...this.#o.toJson(m), post_type: postType };
    } catch (err) {
      this.#log.warn({ err, id: m.id }, 'message not reported: its post JSON could not be built');
      return;
    }
    const report = passesFilter(json, this.#o.options.postMessageFilter);
    if (!report) this.stats.filtered++;
    const history = this.#o.history;
    const msgId = msgIdOf(String(m.id ?? ''));
    // Messages from the sync loop can come again after a restart (WeChat re-sends what the saved SyncKey had not
    // acknowledged); our own sends (source "local") never do.
    const fromSync = m.class === 'recv' || m.source !== 'local';
    const record = history && msgId
      ? () => {
          const body = { ...json };
          delete body.media_data;
          const stored = {
            msgId,
            peer: chatOf(json),
            localId: typeof m.local_id === 'string' ? m.local_id : null,
            class: m.class === 'send' ? ('send' as const) : ('recv' as const),
            time: Number(m.time) || Math.floor(Date.now() / 1000),
            body,
          };
          // From the sync loop: one statement both checks (already in the history: a re-delivery) and records.
          if (fromSync) return history.putNew(stored);
          history.put(stored);
          return true;
        }
      : () => true;
    this.#chain = this.#chain
      .then(async () => {
        const media = report ? await this.#mediaOf(json, m) : null;
        const body = await this.#body(json, media);
        // The history record and the outbox insert commit together: a crash never leaves one without the other.
        this.#stage(postType, () => {
          if (!record()) {
            return () => {
              this.stats.duplicates++;
              this.#log.debug({ msgId }, 'message delivered again by WeChat (already in the history): not reported twice');
            };
          }
          if (!report) return null;
          this.#o.delivery?.enqueue({ kind: postType, body: body!, ...(media && this.#o.delivery.mediaByReference ? { media } : {}) });
          return () => {
            this.#o.events.push(json, media ?? undefined);
            this.stats.reported++;
          };
        });
      })
      .catch((err: unknown) => this.#log.warn({ err, kind: postType }, 'report dropped: could not build or store it'));
  }

  /**
   * The file a media report carries as `media_data`, when `post_media_data` is on and the file is a regular file of
   * at most `mediaDataMaxBytes`: a reference (path, size now), read only when the report is sent or polled.
   */
  async #mediaOf(json: PostJson, m: Message): Promise<ReportMedia | null> {
    if (!this.#o.options.postMediaData) {
      delete json.media_data;
      return null;
    }
    if (json.format !== 'media' || typeof json.media_data === 'string' || !m.media_path) return null;
    const max = this.#o.mediaDataMaxBytes ?? 20 * 1024 * 1024;
    try {
      const path = resolve(m.media_path);
      const st = await stat(path);
      if (!st.isFile() || st.size > max) return null;
      delete json.media_data; // added as the last key when the report is sent
      return { path, size: st.size };
    } catch (err) {
      this.#log.debug({ err, path: m.media_path }, 'media_data not attached');
      return null;
    }
  }

  /** The JSON text handed to the sink: without media_data, unless the sink takes whole bodies only (a host's own). */
  async #body(json: PostJson, media: ReportMedia | null): Promise<string | null> {
    const sink = this.#o.delivery;
    if (!sink) return null;
    if (!media || sink.mediaByReference) return JSON.stringify(json);
    return JSON.stringify(await withMediaData(json, media, this.#log));
  }

  #remember(r: SendResult, replyTo: string): void {
    for (const id of [r.msgId, r.message?.id, r.msgId && `${r.msgId}:${r.toUserName}`]) {
      if (!id) continue;
      this.#ownReplies.add(String(id));
      if (this.#ownReplies.size > REPLY_MEMORY) this.#ownReplies.delete(this.#ownReplies.values().next().value!);
    }
    if (r.code === 0 && r.msgId) {
      try {
        // Persisted too: after a restart a late send_message report of this reply must not trigger another one.
        this.#o.history?.noteSent({ msgId: r.msgId, peer: r.toUserName, localId: r.localId, replyTo: replyTo || '?' });
      } catch (err) {
        this.#log.warn({ err }, 'history: reply not recorded');
      }
    }
  }

  #isOwnReply(id: string): boolean {
    if (this.#ownReplies.has(id)) return true;
    try {
      return this.#o.history?.isReply(msgIdOf(id)) ?? false;
    } catch {
      return false;
    }
  }

  #onAnswer(report: Report, res: DeliveredResponse): void {
    if (report.kind !== 'receive_message' && report.kind !== 'send_message') return;
    if (!/(text|application)\/json/i.test(res.contentType)) return;
    let answer: unknown;
    try {
      answer = JSON.parse(res.body);
    } catch {
      this.#log.warn({ kind: report.kind }, 'post_api answered invalid JSON; ignored');
      return;
    }
    if (!answer || typeof answer !== 'object' || Array.isArray(answer)) return;
    const a = answer as { reply?: unknown; media?: unknown };
    const reply = typeof a.reply === 'string' || typeof a.reply === 'number' ? String(a.reply) : '';
    const media = typeof a.media === 'string' ? a.media.trim() : '';
    if (!reply && !media) return;
    // A report can come again after its answer was acted on (a restart that lost the delivery, a second process):
    // the sink remembers the acted-on event ids, so the same report never replies twice.
    if (report.eventId && this.#o.delivery?.claimAnswer && !this.#o.delivery.claimAnswer(report.eventId)) {
      this.stats.repeatedAnswers++;
      this.#log.info({ eventId: report.eventId, kind: report.kind }, 'post_api answer to a report already answered and acted on: reply not sent again');
      return;
    }
    const msg = JSON.parse(report.body) as PostJson;
    void this.#reply(report.kind, msg, reply, media).catch((err: unknown) => {
      this.stats.replyFailures++;
      this.#log.warn({ err }, 'post_api reply failed');
    });
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
      // Our own replies' send_message reports must not trigger again: wait for replies in flight to learn their ids.
      await Promise.allSettled([...this.#pendingReplies]);
      if (this.#isOwnReply(String(msg.id))) {
        this.stats.ownRepliesIgnored++;
        this.#log.debug({ id: msg.id }, 'post_api reply to our own reply ignored');
        return;
      }
      chat = type === 'group_message' ? msg.group_id : msg.receiver_id;
    }
    if (typeof chat !== 'string' || !chat) return;
    const to = chat;
    const answered = String(msg.id ?? '');
    const job = (async () => {
      // A report delivered before the login finished (the outbox resumes at start-up) is replied to once online.
      if (!(await this.#online())) throw new Error(`not replied: the client is ${this.#client.state}, not running`);
      if (reply) this.#remember(await this.#client.sendText(to, reply), answered);
      if (media) {
        const spec = isHttpUrl(media) ? { url: media } : { path: await resolveMediaPath(media, this.#o.options.mediaDirs) };
        this.#remember(await this.#client.sendMedia(to, spec), answered);
      }
    })();
    this.#pendingReplies.add(job);
    try {
      await job;
      this.stats.replies++;
    } finally {
      this.#pendingReplies.delete(job);
    }
  }
}
