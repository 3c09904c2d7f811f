/**
 * The self-reply guard: openwx's own post_api replies are never honoured as triggers. The `send_message` report of
 * a reply must not make post_api reply again (the self-reply loop of Mojo). The ids of our replies are remembered
 * in memory (the last `memorySize`) and in the message history, so a late report after a restart is recognised
 * too; a check first waits for the replies in flight, so it knows their ids.
 */
import type { Logger } from 'pino';
import { InFlight } from '../../client/in-flight.ts';
import type { SendResult } from '../../client/interface.ts';
import type { AccountStorage } from '../../store/storage.ts';
import { msgIdOf } from './report-json.ts';

/** Reply ids remembered in memory (the history keeps them all). */
export const OWN_REPLY_MEMORY = 1_000;

export class OwnReplies {
  readonly #history: AccountStorage | null;
  readonly #log: Logger;
  readonly #memorySize: number;
  /** Message ids of our own post_api replies. */
  readonly #ids = new Set<string>();
  readonly #pending = new InFlight();

  constructor(o: { history?: AccountStorage | null | undefined; logger: Logger; memorySize?: number }) {
    this.#history = o.history ?? null;
    this.#log = o.logger;
    this.#memorySize = o.memorySize ?? OWN_REPLY_MEMORY;
  }

  /** Runs one reply (its sends call `remember`); `isOwn` waits for it. */
  track(job: Promise<void>): Promise<void> {
    return this.#pending.track(job);
  }

  /** Records a sent reply (answering the message `replyTo`): in memory and, once sent, in the history. */
  remember(r: SendResult, replyTo: string): void {
    for (const id of [r.msgId, r.message?.id, r.msgId && `${r.msgId}:${r.toUserName}`]) {
      if (!id) continue;
      this.#ids.add(String(id));
      if (this.#ids.size > this.#memorySize) this.#ids.delete(this.#ids.values().next().value!);
    }
    if (r.code === 0 && r.msgId) {
      // Persisted too: after a restart a late send_message report of this reply must not trigger another one.
      this.#history
        ?.noteSent({ msgId: r.msgId, peer: r.toUserName, localId: r.localId, replyTo: replyTo || '?' })
        .catch((err: unknown) => this.#log.warn({ err }, 'history: reply not recorded'));
    }
  }

  /** Whether the message `id` is one of our replies, once the replies in flight learned their ids. */
  async isOwn(id: string): Promise<boolean> {
    await this.#pending.settled();
    if (this.#ids.has(id)) return true;
    try {
      return !!(await this.#history?.message(msgIdOf(id)))?.replyTo;
    } catch {
      return false;
    }
  }
}
