/**
 * Contact requests (shared/spec/wechat-web-protocol.md §4, §7.4): webwxinit, webwxstatusnotify, webwxgetcontact
 * pages (while Seq ≠ 0) and webwxbatchgetcontact in batches of ≤ 50 with bounded concurrency. Pure fetching: the
 * contact book turns the raw entries into the model.
 */
import { isOpenwxError } from '../errors.ts';
import { notTimestamp } from '../wire/ids.ts';
import { Path } from '../wire/paths.ts';
import type {
  BatchGetContactResponse, GetContactResponse, InitResponse, RawContact, StatusNotifyResponse,
} from '../wire/types.ts';
import type { Timers } from './clock.ts';
import type { Logger } from './logger.ts';
import type { ClientOptions } from './options.ts';
import { mapLimit, retrying } from './retry.ts';
import type { Session } from './session.ts';
import type { Transport } from './transport-types.ts';
import { readWx } from './wx-response.ts';

export interface BatchItem {
  UserName: string;
  EncryChatRoomId: string;
}

export interface ContactsApiDeps {
  transport: Transport;
  session: Session;
  options: ClientOptions;
  logger: Logger;
  timers: Timers;
  signal(): AbortSignal;
}

export class ContactsApi {
  constructor(private readonly d: ContactsApiDeps) {}

  #retry<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const o = this.d.options;
    return retrying(name, {
      retries: o.requestRetries, baseMs: o.backoffBaseMs, maxMs: o.backoffMaxMs, timers: this.d.timers, logger: this.d.logger,
      signal: this.d.signal(),
    }, fn);
  }

  #common(): [string, string][] {
    return [['lang', this.d.options.lang], ...this.d.session.passTicketParam()];
  }

  /** webwxinit: the user, recent chats, SyncKey. The official client sends Uin as a string here. */
  init(): Promise<InitResponse> {
    const { transport, session } = this.d;
    return this.#retry('webwxinit', async () => {
      const res = await transport.request({
        name: 'webwxinit',
        role: 'page',
        path: Path.init,
        method: 'POST',
        query: [['r', notTimestamp()], ...this.#common()],
        json: { BaseRequest: session.baseRequest(true) },
        signal: this.d.signal(),
      });
      return readWx<InitResponse>(res, 'webwxinit');
    });
  }

  /** webwxstatusnotify (Code 3 after init, to self; Code 1 "read" to a chat). */
  async statusNotify(code: number, to: string): Promise<void> {
    const { transport, session } = this.d;
    await this.#retry('webwxstatusnotify', async () => {
      const res = await transport.request({
        name: 'webwxstatusnotify',
        role: 'page',
        path: Path.statusNotify,
        method: 'POST',
        query: this.#common(),
        json: { BaseRequest: session.baseRequest(), Code: code, FromUserName: session.selfUserName(), ToUserName: to, ClientMsgId: Date.now() },
        signal: this.d.signal(),
      });
      return readWx<StatusNotifyResponse>(res, 'webwxstatusnotify');
    });
  }

  /** Every page of webwxgetcontact (friends, saved groups, public accounts). */
  async getContactAll(): Promise<RawContact[]> {
    const { transport, session, options, logger } = this.d;
    const all: RawContact[] = [];
    let seq = 0;
    for (let page = 0; page < options.contactMaxPages; page++) {
      const body = await this.#retry('webwxgetcontact', async () => {
        const res = await transport.request({
          name: 'webwxgetcontact',
          role: 'page',
          path: Path.getContact,
          query: [...this.#common(), ['r', Date.now()], ['seq', seq], ['skey', { raw: session.skey }]],
          signal: this.d.signal(),
        });
        return readWx<GetContactResponse>(res, 'webwxgetcontact');
      });
      all.push(...(Array.isArray(body.MemberList) ? body.MemberList : []));
      seq = Number(body.Seq ?? 0);
      if (!seq) return all;
    }
    logger.warn({ pages: options.contactMaxPages }, 'webwxgetcontact kept paging; stopped at the page limit (contactMaxPages)');
    return all;
  }

  /**
   * webwxbatchgetcontact for any number of ids: batches of ≤ contactBatchSize, at most contactConcurrency in flight.
   * A failed batch is logged and skipped (its ids stay unknown); a logout answer is thrown.
   */
  batchGet(items: BatchItem[]): Promise<RawContact[]>;
  /**
   * With `map`: each batch's answer is mapped as soon as it arrives, so the raw entries of one batch (the login's
   * group lists: ~10,000 raw members per batch of 50 groups) are garbage before the next arrives instead of all
   * being held until the end. The mapped results keep the order of `items`.
   */
  batchGet<T>(items: BatchItem[], map: (raws: RawContact[]) => T[]): Promise<T[]>;
  async batchGet<T>(items: BatchItem[], map?: (raws: RawContact[]) => T[]): Promise<(T | RawContact)[]> {
    const { options, logger } = this.d;
    const unique = [...new Map(items.map((i) => [`${i.UserName}|${i.EncryChatRoomId}`, i])).values()];
    const batches: BatchItem[][] = [];
    for (let i = 0; i < unique.length; i += options.contactBatchSize) batches.push(unique.slice(i, i + options.contactBatchSize));
    const results = await mapLimit(batches, options.contactConcurrency, async (batch): Promise<(T | RawContact)[]> => {
      let raws: RawContact[];
      try {
        raws = await this.#batch(batch);
      } catch (err) {
        if (isOpenwxError(err, 'OWX_ERR_SYNC_LOGOUT') || this.d.signal().aborted) throw err;
        logger.warn({ err: (err as Error).message, count: batch.length }, 'webwxbatchgetcontact batch failed; skipped');
        return [];
      }
      return map ? map(raws) : raws;
    });
    return results.flat();
  }

  #batch(batch: BatchItem[]): Promise<RawContact[]> {
    const { transport, session } = this.d;
    return this.#retry('webwxbatchgetcontact', async () => {
      const res = await transport.request({
        name: 'webwxbatchgetcontact',
        role: 'page',
        path: Path.batchGetContact,
        method: 'POST',
        query: [['type', 'ex'], ['r', Date.now()], ...this.#common()],
        json: { BaseRequest: session.baseRequest(), Count: batch.length, List: batch },
        signal: this.d.signal(),
      });
      const body = await readWx<BatchGetContactResponse>(res, 'webwxbatchgetcontact');
      return Array.isArray(body.ContactList) ? body.ContactList : [];
    });
  }
}
