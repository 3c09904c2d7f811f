/**
 * The components of one `run()` of an Account, wired together: transport, QR, login flow, contacts API, send queue,
 * uploads, sends, operations, media downloads, inbound processing and the sync loop. The Account tears them down
 * on stop and builds a fresh set on the next run; everything they report goes through `RuntimeHooks`.
 */
import type { Writable } from 'node:stream';
import type { FriendRequest } from '../model/decode.ts';
import type { ContactEvent } from '../model/diff.ts';
import type { Message } from '../model/types.ts';
import type { Timers } from './clock.ts';
import type { ContactBook } from './contact-book.ts';
import { ContactsApi } from './contacts.ts';
import { Inbound } from './inbound.ts';
import type { Logger } from './logger.ts';
import { LoginFlow, type LoginHooks } from './login-flow.ts';
import { MediaDownloader } from './media-download.ts';
import type { ClientOptions } from './options.ts';
import { Operations } from './operations.ts';
import { Outbound } from './outbound.ts';
import { QrPresenter } from './qr.ts';
import { SendQueue } from './send-queue.ts';
import type { Session } from './session.ts';
import { SyncLoop } from './sync-loop.ts';
import { HttpTransport } from './transport.ts';
import { Uploader } from './upload.ts';

export interface Runtime {
  /** Aborted by stop(): cancels logins and in-flight requests of this run. */
  ctrl: AbortController;
  transport: HttpTransport;
  qr: QrPresenter;
  login: LoginFlow;
  contacts: ContactsApi;
  sync: SyncLoop;
  queue: SendQueue;
  outbound: Outbound;
  ops: Operations;
  inbound: Inbound;
}

/** What the Account keeps across runs. */
export interface RuntimeShared {
  options: ClientOptions;
  logger: Logger;
  timers: Timers;
  session: Session;
  book: ContactBook;
  output: Writable | null;
  /** A cluster's "may this controller act for the account now" (src/cluster/lease.ts); absent: always. */
  mayAct?: (() => boolean) | undefined;
}

export interface RuntimeHooks extends LoginHooks {
  onSent(m: Message): void;
  rememberSent(msgId: string): void;
  sentByUs(msgId: string): boolean;
  emitContacts(ev: ContactEvent[]): void;
  emitMessage(m: Message): void;
  emitFriendRequest(r: FriendRequest): void;
  /** The durability barrier the sync loop awaits before it acknowledges a webwxsync answer. */
  durable(): Promise<void> | void;
  /** A webwxsync answer was acknowledged (its SyncKey adopted): save the session soon. */
  afterSync(): void;
  onLogout(retcode: number, where: 'synccheck' | 'webwxsync'): void;
}

export function buildRuntime(sh: RuntimeShared, hooks: RuntimeHooks): Runtime {
  const { options: o, logger: log, timers, session, book } = sh;
  const ctrl = new AbortController();
  const signal = () => ctrl.signal;
  const transport = new HttpTransport({
    account: o.account, userAgent: o.userAgent, pageHost: o.pageHost, requestTimeoutMs: o.requestTimeoutMs, logger: log,
    ...(o.wechatOrigin ? { wechatOrigin: o.wechatOrigin } : {}),
    ...(sh.mayAct ? { mayAct: sh.mayAct } : {}),
  });
  const qr = new QrPresenter(transport, {
    dataDir: o.dataDir, account: o.account, showInTerminal: o.showQrInTerminal, output: sh.output, requestTimeoutMs: o.requestTimeoutMs,
  }, log);
  const login = new LoginFlow({ transport, session, options: o, logger: log, timers, qr, signal: ctrl.signal, hooks });
  const contacts = new ContactsApi({ transport, session, options: o, logger: log, timers, signal });
  const queue = new SendQueue(o, timers, log);
  const uploader = new Uploader({ transport, session, options: o, logger: log });
  const outbound = new Outbound({
    transport, session, options: o, logger: log, queue, uploader, signal, onSent: hooks.onSent, remember: hooks.rememberSent,
  });
  const ops = new Operations({ transport, session, options: o, logger: log, book, contacts, emitContacts: hooks.emitContacts, signal });
  const downloader = new MediaDownloader({ transport, session, options: o, logger: log, signal });
  const inbound = new Inbound({
    book, contacts, downloader, options: o, logger: log, emitContacts: hooks.emitContacts, emitMessage: hooks.emitMessage,
    emitFriendRequest: hooks.emitFriendRequest, sentByUs: hooks.sentByUs,
  });
  const sync = new SyncLoop({
    transport, session, options: o, logger: log, timers,
    handlers: {
      onSync: (resp) => inbound.handleSync(resp),
      durable: hooks.durable,
      onAcknowledged: hooks.afterSync,
      onLogout: hooks.onLogout,
      onUnknownRetcode: (ret, where) => log.debug({ ret, where }, 'unknown retcode'),
    },
  });
  return { ctrl, transport, qr, login, contacts, sync, queue, outbound, ops, inbound };
}
