/**
 * The receive loop (shared/spec/wechat-web-protocol.md §5): synccheck long-poll on the push host, webwxsync on any
 * non-zero selector, SyncKey / SyncCheckKey / SKey bookkeeping, ContinueFlag. Logout retcodes (1100/1101/1102) are
 * reported on first sight; network errors, HTTP 5xx and garbage answers retry with capped exponential backoff and
 * jitter; a long-poll that exceeds `syncCheckTimeoutMs` is treated as stuck and re-issued.
 */
import { isOpenwxError } from '../errors.ts';
import { LOGOUT_RETCODES, Ret } from '../wire/constants.ts';
import { notTimestamp } from '../wire/ids.ts';
import { parseSyncCheck } from '../wire/jsvars.ts';
import { Path } from '../wire/paths.ts';
import { formatSyncKey } from '../wire/synckey.ts';
import type { SyncResponse } from '../wire/types.ts';
import { Backoff } from './backoff.ts';
import type { Timers } from './clock.ts';
import type { Logger } from './logger.ts';
import type { ClientOptions } from './options.ts';
import type { Session } from './session.ts';
import type { Transport } from './transport-types.ts';
import { baseRet, expectStatus, readJson } from './wx-response.ts';

/** Guard against a server that sets ContinueFlag forever. */
const MAX_CONTINUE_SYNCS = 20;

export interface SyncHandlers {
  /** A successful webwxsync (keys already updated): contacts, profile and messages. */
  onSync(resp: SyncResponse): Promise<void>;
  /** The session is gone (1100/1101/1102, or too many unknown retcodes). The loop has ended. */
  onLogout(retcode: number, where: 'synccheck' | 'webwxsync'): void;
  /** A retcode/Ret the loop does not know (Mojo's unknown_retcode). */
  onUnknownRetcode?(ret: number, where: 'synccheck' | 'webwxsync'): void;
}

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
  #unknown = 0;
  #rateLimited = 0;
  /** Serialises webwxsync calls (the loop and `syncNow()`). */
  #syncing: Promise<void> = Promise.resolve();
  /** jQuery's `_` cache-buster of the official page: load time in ms, +1 per call. */
  #tick = Date.now();
  lastSyncCheckAt = 0;

  constructor(d: SyncLoopDeps) {
    this.#d = d;
    this.#backoff = new Backoff({ baseMs: d.options.backoffBaseMs, maxMs: d.options.backoffMaxMs });
  }

  get running(): boolean {
    return this.#loop !== null;
  }

  start(): void {
    if (this.#loop) return;
    const ctrl = new AbortController();
    this.#ctrl = ctrl;
    this.#unknown = 0;
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
  syncNow(signal?: AbortSignal): Promise<void> {
    const run = this.#syncing.then(() => this.#sync(signal ?? this.#ctrl?.signal ?? new AbortController().signal));
    this.#syncing = run.catch(() => undefined);
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
        this.#unknown = 0;
        if (selector !== 0) {
          try {
            await this.syncNow(signal);
          } catch (err) {
            if (signal.aborted || err instanceof LoopEnded) return;
            const delay = this.#backoff.next();
            logger.warn({ err: (err as Error).message, retryInMs: delay }, 'webwxsync failed; backing off');
            await timers.sleep(delay, signal).catch(() => undefined);
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
        this.#unknown++;
        this.#d.handlers.onUnknownRetcode?.(retcode, 'synccheck');
        logger.warn({ retcode, selector, count: this.#unknown }, 'unknown synccheck retcode');
        if (this.#unknown >= options.unknownRetcodeLimit) {
          this.#end();
          this.#d.handlers.onLogout(retcode, 'synccheck');
          return;
        }
        await timers.sleep(this.#backoff.next(), signal).catch(() => undefined);
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

  async #sync(signal: AbortSignal): Promise<void> {
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
        handlers.onUnknownRetcode?.(ret, 'webwxsync');
        logger.warn({ ret, errMsg: body.BaseResponse?.ErrMsg }, 'webwxsync answered an unknown Ret; skipped');
        return;
      }
      this.#rateLimited = 0;
      if (body.SyncKey && body.SyncKey.Count > 0) session.syncKey = body.SyncKey;
      if (body.SyncCheckKey && body.SyncCheckKey.Count > 0) session.syncCheckKey = body.SyncCheckKey;
      if (body.SKey) session.skey = body.SKey;
      await handlers.onSync(normaliseSync(body));
      if (!body.ContinueFlag) return;
    }
    logger.warn({ max: MAX_CONTINUE_SYNCS }, 'webwxsync kept ContinueFlag set; pausing the burst');
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
