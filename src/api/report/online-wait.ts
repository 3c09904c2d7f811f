/**
 * Waiting for the client to be able to send: a post_api answer to a report delivered before the login finished
 * (the outbox resumes at start-up) is replied to once the client is running. Each wait is owned: it ends when the
 * client runs (true), stops or the wait times out (false), or at `stop()` (false); its timer is cleared then.
 */
import type { Clock } from '../../client/clock.ts';
import type { WxClient } from '../../client/interface.ts';

/** How long a post_api reply waits for the client to be logged in, by default: 5 min. */
export const REPLY_LOGIN_WAIT_MS = 5 * 60_000;

export class OnlineWait {
  readonly #client: WxClient;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #waiters = new Set<(ok: boolean) => void>();
  #stopped = false;

  constructor(client: WxClient, o: { clock: Clock; timeoutMs?: number | undefined }) {
    this.#client = client;
    this.#clock = o.clock;
    this.#timeoutMs = o.timeoutMs ?? REPLY_LOGIN_WAIT_MS;
  }

  /** Resolves true once the client can send (at once if it can), false if it stops or the wait times out. */
  wait(): Promise<boolean> {
    const c = this.#client;
    if (c.state === 'running' || c.state === 'updating') return Promise.resolve(true);
    if (c.state === 'stop' || this.#stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        this.#clock.clearTimeout(timer);
        c.off('state_change', onState);
        this.#waiters.delete(done);
        resolve(ok);
      };
      const onState = (_old: string, state: string) => {
        if (state === 'running') done(true);
        else if (state === 'stop') done(false);
      };
      const timer = this.#clock.setTimeout(() => done(false), this.#timeoutMs);
      c.on('state_change', onState);
      this.#waiters.add(done);
    });
  }

  /** Ends every wait (false); later waits answer false at once unless the client is running. */
  stop(): void {
    for (const w of [...this.#waiters]) w(false);
    this.#stopped = true;
  }
}
