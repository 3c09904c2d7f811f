/**
 * Observability without logging: the client publishes on node:diagnostics_channel, and whoever cares (metrics,
 * readiness, benchmarks) subscribes. Publishing is free when nobody listens (hasSubscribers).
 */
import diagnostics_channel from 'node:diagnostics_channel';

/** One finished web-protocol request (transport level). */
export interface WireRequestEvent {
  account: string;
  /** Protocol step name: `synccheck`, `webwxsync`, `webwxsendmsg`, … */
  name: string;
  durationMs: number;
  /** HTTP status, or 0 when the request failed before an answer. */
  status: number;
  ok: boolean;
}

export const wireRequestChannel = diagnostics_channel.channel('openwx:wire:request');

export function publishWireRequest(e: WireRequestEvent): void {
  if (wireRequestChannel.hasSubscribers) wireRequestChannel.publish(e);
}

type WireListener = (e: WireRequestEvent) => void;

/**
 * One subscription to `openwx:wire:request` that hands each event to the listeners of its account only. A host owns
 * one for all its accounts: with a channel subscription per account, every request of every account ran every
 * account's listener (100 accounts at 3,000 requests/s: 300,000 calls/s, most of them a string compare).
 */
export class WireRequestRouter {
  readonly #byAccount = new Map<string, Set<WireListener>>();
  readonly #route = (m: unknown): void => {
    const e = m as WireRequestEvent;
    const set = this.#byAccount.get(e.account);
    if (set) for (const f of set) f(e);
  };

  /** Calls `f` with every wire event of `account`; returns the undo. */
  on(account: string, f: WireListener): () => void {
    if (this.#byAccount.size === 0) wireRequestChannel.subscribe(this.#route);
    let set = this.#byAccount.get(account);
    if (!set) this.#byAccount.set(account, (set = new Set()));
    set.add(f);
    return () => {
      const s = this.#byAccount.get(account);
      if (!s?.delete(f)) return;
      if (s.size === 0) this.#byAccount.delete(account);
      if (this.#byAccount.size === 0) wireRequestChannel.unsubscribe(this.#route);
    };
  }
}
