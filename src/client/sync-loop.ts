/**
 * The receive loop (shared/spec/wechat-web-protocol.md §5): synccheck long-poll on the push host, webwxsync on any
 * non-zero selector, SyncKey / SyncCheckKey / SKey bookkeeping, ContinueFlag. Logout retcodes (1100/1101/1102) are
 * reported on first sight; network errors, HTTP 5xx and garbage answers retry with capped exponential backoff and
 * jitter; a long-poll that exceeds `syncCheckTimeoutMs` is treated as stuck and re-issued. A streak of retcodes the
 * loop does not know (synccheck or webwxsync) backs off exponentially, logs one warning, and after
 * `unknownRetcodeLimit` of them is handled as a logout.
 *
 * Acknowledgement: a webwxsync answer's SyncKey/SyncCheckKey are adopted (sent in the next synccheck/webwxsync, and
 * saved with the session) only after its events were emitted and the durability barrier (`handlers.durable`)
 * resolved, so WeChat is never told a batch was received before the layer above made it durable.
 */
import { isOpenwxError } from '../errors.ts';
import { LOGOUT_RETCODES, Ret } from '../wire/constants.ts';
import { notTimestamp } from '../wire/ids.ts';
import { parseSyncCheck } from '../wire/jsvars.ts';
import { Path } from '../wire/paths.ts';
import { formatSyncKey } from '../wire/synckey.ts';
import type { SyncResponse } from '../wire/types.ts';
import { Backoff, backoffDelayMs } from './backoff.ts';
import type { Timers } from './clock.ts';
import type { Logger } from './logger.ts';
import type { ClientOptions } from './options.ts';
import type { Session } from './session.ts';
import type { Transport } from './transport-types.ts';
import { baseRet, expectStatus, readJson } from './wx-response.ts';

/** Guard against a server that sets ContinueFlag forever. */
const MAX_CONTINUE_SYNCS = 20;

type Where = 'synccheck' | 'webwxsync';

export interface SyncHandlers {
  /** A successful webwxsync: contacts, profile and messages (its new SyncKey is not adopted yet). */
  onSync(resp: SyncResponse): Promise<void>;
  /**
   * The durability barrier: awaited after `onSync`, before the answer's keys are adopted (acknowledged). It rejects
   * → called again after a backoff (`backoffBaseMs` doubling to `backoffMaxMs`); nothing is acknowledged meanwhile.
   */
  durable?(): Promise<void> | void;
  /** The answer's keys were adopted: the session may be saved. */
  onAcknowledged?(): void;
  /** The session is gone (1100/1101/1102, or too many unknown retcodes). The loop has ended. */
  onLogout(retcode: number, where: Where): void;
  /** A retcode/Ret the loop does not know (Mojo's unknown_retcode). */
  onUnknownRetcode?(ret: number, where: Where): void;
}

/** How a webwxsync burst ended: answered (Ret 0), or with a Ret the loop does not know. */
type SyncOutcome = 'ok' | 'unknown';

export interface SyncLoopDeps {
  transport: Transport;
  session: Session;
  options: ClientOptions;
  logger: Logger;
  timers: Timers;
  handlers: SyncHandlers;
}

class LoopEnded extends Error {}

export class SyncLoop {
  readonly #d: SyncLoopDeps;
  readonly #backoff: Backoff;
  #ctrl: AbortController | null = null;
  #loop: Promise<void> | null = null;
  /** Unknown retcodes in a row (synccheck and webwxsync: one streak), and when the streak began. */
  #streak = 0;
  #streakStartedAt = 0;
  readonly #streakBackoff: Backoff;
  #rateLimited = 0;
  /** Serialises webwxsync calls (the loop and `syncNow()`). */
  #syncing: Promise<void> = Promise.resolve();
  /** jQuery's `_` cache-buster of the official page: load time in ms, +1 per call. */
  #tick = Date.now();
  lastSyncCheckAt = 0;

  constructor(d: SyncLoopDeps) {
    this.#d = d;
    this.#backoff = new Backoff({ baseMs: d.options.backoffBaseMs, maxMs: d.options.backoffMaxMs });
    this.#streakBackoff = new Backoff({ baseMs: d.options.unknownRetcodeBackoffBaseMs, maxMs: d.options.unknownRetcodeBackoffMaxMs });
  }

  get running(): boolean {
    return this.#loop !== null;
  }

  start(): void {
    if (this.#loop) return;
    const ctrl = new AbortController();
    this.#ctrl = ctrl;
    this.#streak = 0;
    this.#streakBackoff.reset();
    this.#loop = this.#run(ctrl.signal)
      .catch((err) => {
        if (!ctrl.signal.aborted && !(err instanceof LoopEnded)) this.#d.logger.error({ err }, 'sync loop crashed');
      })
      .finally(() => {
        if (this.#ctrl === ctrl) {
          this.#ctrl = null;
          this.#loop = null;
        }
      });
  }

  async stop(): Promise<void> {
    const loop = this.#loop;
    this.#ctrl?.abort(new LoopEnded('stopped'));
    if (loop) await loop;
  }

  /** One webwxsync now (after init, or when something asks for fresh data). */
  async syncNow(signal?: AbortSignal): Promise<void> {
    await this.#syncSerialised(signal ?? this.#ctrl?.signal ?? new AbortController().signal);
  }

  #syncSerialised(signal: AbortSignal): Promise<SyncOutcome> {
    const run = this.#syncing.then(() => this.#sync(signal));
    this.#syncing = run.then(() => undefined, () => undefined);
    return run;
  }

  async #run(signal: AbortSignal): Promise<void> {
    const { logger, options, timers } = this.#d;
    while (!signal.aborted) {
      let check: { retcode: number; selector: number };
      try {
        check = await this.#syncCheck(signal);
        this.#backoff.reset();
      } catch (err) {
        if (signal.aborted) return;
        if (isOpenwxError(err, 'OWX_ERR_TIMEOUT') && this.#backoff.attempts === 0) {
          logger.warn({ timeoutMs: options.syncCheckTimeoutMs }, 'synccheck stuck (no answer in time); polling again');
          this.#backoff.next();
          continue;
        }
        const delay = this.#backoff.next();
        logger.warn({ err: (err as Error).message, retryInMs: delay, attempt: this.#backoff.attempts }, 'synccheck failed; backing off');
        await timers.sleep(delay, signal).catch(() => undefined);
        continue;
      }
      const { retcode, selector } = check;
      if (retcode === Ret.OK) {
        if (selector === 0) this.#streakOver();
        else {
          let outcome: SyncOutcome;
          try {
            outcome = await this.#syncSerialised(signal);
          } catch (err) {
            if (signal.aborted || err instanceof LoopEnded) return;
            const delay = this.#backoff.next();
            logger.warn({ err: (err as Error).message, retryInMs: delay }, 'webwxsync failed; backing off');
            await timers.sleep(delay, signal).catch(() => undefined);
            continue;
          }
          if (outcome === 'unknown') {
            await this.#streakPause(signal);
            continue;
          }
        }
      } else if (LOGOUT_RETCODES.includes(retcode)) {
        logger.warn({ retcode }, `synccheck says the session is gone (retcode ${retcode})`);
        this.#end();
        this.#d.handlers.onLogout(retcode, 'synccheck');
        return;
      } else if (retcode === Ret.FREQ) {
        await this.#rateLimitPause(signal, 'synccheck');
        continue;
      } else {
        if (this.#unknownRet(retcode, 'synccheck', { selector })) {
          this.#end();
          this.#d.handlers.onLogout(retcode, 'synccheck');
          return;
        }
        await this.#streakPause(signal);
        continue;
      }
      if (options.syncCheckIntervalMs > 0) await timers.sleep(options.syncCheckIntervalMs, signal).catch(() => undefined);
    }
  }

  /** Detaches the loop so onLogout handlers can start a new one (relogin) at once. */
  #end(): void {
    this.#ctrl = null;
    this.#loop = null;
  }

  async #syncCheck(signal: AbortSignal): Promise<{ retcode: number; selector: number }> {
    const { transport, session, options } = this.#d;
    const now = Date.now();
    this.lastSyncCheckAt = now;
    const res = await transport.request({
      name: 'synccheck',
      role: 'push',
      path: Path.syncCheck,
      query: [
        ['r', now],
        ['skey', session.skey],
        ['sid', session.sid],
        ['uin', session.uin],
        ['deviceid', session.baseRequest().DeviceID],
        ['synckey', formatSyncKey(session.checkKey())],
        ['_', this.#tick++],
      ],
      timeoutMs: options.syncCheckTimeoutMs,
      signal,
    });
    await expectStatus(res, 'synccheck');
    return parseSyncCheck(await res.text());
  }

  async #sync(signal: AbortSignal): Promise<SyncOutcome> {
    const { transport, session, logger, handlers } = this.#d;
    for (let i = 0; i < MAX_CONTINUE_SYNCS; i++) {
      const res = await transport.request({
        name: 'webwxsync',
        role: 'page',
        path: Path.sync,
        method: 'POST',
        query: [
          ['sid', session.sid],
          ['skey', { raw: session.skey }],
          ['lang', this.#d.options.lang],
          ...session.passTicketParam(),
        ],
        json: { BaseRequest: session.baseRequest(), SyncKey: session.syncKey, rr: notTimestamp() },
        signal,
      });
      const body = await readJson<SyncResponse>(res, 'webwxsync');
      const ret = baseRet(body);
      if (ret === undefined) throw new Error('webwxsync answer without BaseResponse');
      if (ret !== Ret.OK) {
        if (LOGOUT_RETCODES.includes(ret)) {
          logger.warn({ ret }, `webwxsync says the session is gone (Ret ${ret})`);
          this.#ctrl?.abort(new LoopEnded('logout'));
          this.#end();
          handlers.onLogout(ret, 'webwxsync');
          throw new LoopEnded('logout');
        }
        if (ret === Ret.FREQ) {
          await this.#rateLimitPause(signal, 'webwxsync');
          continue;
        }
        if (this.#unknownRet(ret, 'webwxsync', { errMsg: body.BaseResponse?.ErrMsg })) {
          this.#ctrl?.abort(new LoopEnded('unknown retcodes'));
          this.#end();
          handlers.onLogout(ret, 'webwxsync');
          throw new LoopEnded('unknown retcodes');
        }
        return 'unknown';
      }
      this.#rateLimited = 0;
      this.#streakOver();
      if (body.SKey) session.skey = body.SKey;
      await handlers.onSync(normaliseSync(body));
      await this.#durable(signal);
      // Only now is the batch acknowledged: the next synccheck/webwxsync and the saved session carry the new keys.
      if (body.SyncKey && body.SyncKey.Count > 0) session.syncKey = body.SyncKey;
      if (body.SyncCheckKey && body.SyncCheckKey.Count > 0) session.syncCheckKey = body.SyncCheckKey;
      handlers.onAcknowledged?.();
      if (!body.ContinueFlag) return 'ok';
    }
    logger.warn({ max: MAX_CONTINUE_SYNCS }, 'webwxsync kept ContinueFlag set; pausing the burst');
    return 'ok';
  }

  /** Awaits the durability barrier; one that rejects is called again after a backoff until it resolves (or stop). */
  async #durable(signal: AbortSignal): Promise<void> {
    const { handlers, options, logger, timers } = this.#d;
    if (!handlers.durable) return;
    for (let attempt = 0; ; attempt++) {
      try {
        const pending = handlers.durable();
        if (pending) await pending;
        if (attempt > 0) logger.info({ attempts: attempt + 1 }, 'durability barrier resolved; acknowledging the batch');
        return;
      } catch (err) {
        if (signal.aborted) throw err;
        const delay = backoffDelayMs(attempt, { baseMs: options.backoffBaseMs, maxMs: options.backoffMaxMs });
        logger.warn({ err: (err as Error).message, retryInMs: delay, attempt: attempt + 1 },
          'durability barrier failed; the batch is not acknowledged to WeChat until it succeeds');
        await timers.sleep(delay, signal);
      }
    }
  }

  /**
   * Counts an unknown retcode into the current streak: one warning when the streak begins (debug lines after that).
   * True when the streak reached `unknownRetcodeLimit`: the caller ends the loop with the logged-out handling.
   */
  #unknownRet(ret: number, where: Where, detail: Record<string, unknown>): boolean {
    const { logger, options, handlers, timers } = this.#d;
    this.#streak++;
    handlers.onUnknownRetcode?.(ret, where);
    if (this.#streak === 1) {
      this.#streakStartedAt = timers.clock.now();
      logger.warn({ ret, where, ...detail, limit: options.unknownRetcodeLimit, maxPauseMs: options.unknownRetcodeBackoffMaxMs },
        `${where} answered a retcode openwx does not know (${ret}); backing off until it ends (one warning per streak)`);
    } else {
      logger.debug({ ret, where, ...detail, count: this.#streak }, 'unknown retcode again');
    }
    if (this.#streak < options.unknownRetcodeLimit) return false;
    logger.warn({ ret, where, count: this.#streak, lastedMs: timers.clock.now() - this.#streakStartedAt },
      `${this.#streak} unknown retcodes in a row (unknownRetcodeLimit); handled as a logout`);
    this.#streak = 0;
    this.#streakBackoff.reset();
    return true;
  }

  /** The pause after an unknown retcode: exponential over the streak, capped, with jitter. */
  async #streakPause(signal: AbortSignal): Promise<void> {
    await this.#d.timers.sleep(this.#streakBackoff.next(), signal).catch(() => undefined);
  }

  /** A normal answer ends a streak of unknown retcodes (one info line). */
  #streakOver(): void {
    if (this.#streak === 0) return;
    const { logger, timers } = this.#d;
    logger.info({ unknownRetcodes: this.#streak, lastedMs: timers.clock.now() - this.#streakStartedAt },
      'the unknown retcode streak ended; the receive loop is back to normal');
    this.#streak = 0;
    this.#streakBackoff.reset();
  }

  async #rateLimitPause(signal: AbortSignal, where: string): Promise<void> {
    const o = this.#d.options;
    const delay = Math.min(o.rateLimitBackoffMaxMs, o.rateLimitBackoffMs * 2 ** Math.min(this.#rateLimited++, 20));
    this.#d.logger.warn({ where, pauseMs: delay }, 'WeChat rate limit (1205) on the receive loop; pausing');
    await this.#d.timers.sleep(delay, signal).catch(() => undefined);
  }
}

/** Fills missing lists so handlers never see undefined (error envelopes keep keys, garbage may not). */
function normaliseSync(b: Partial<SyncResponse>): SyncResponse {
  return {
    ...(b as SyncResponse),
    AddMsgList: Array.isArray(b.AddMsgList) ? b.AddMsgList : [],
    ModContactList: Array.isArray(b.ModContactList) ? b.ModContactList : [],
    DelContactList: Array.isArray(b.DelContactList) ? b.DelContactList : [],
    ModChatRoomMemberList: Array.isArray(b.ModChatRoomMemberList) ? b.ModChatRoomMemberList : [],
  };
}
