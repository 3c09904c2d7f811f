/**
 * When one account last synced with WeChat successfully, for `/readyz` and the last-sync metric.
 *
 * - Authoritative source: the client transport's `openwx:wire:request` diagnostics events (src/diagnostics.ts) —
 *   a synccheck or webwxsync that succeeded. The long poll returns at least every ~25 s on a healthy session, so
 *   "no successful sync for 60 s" means the account is stuck even though its state still says running.
 * - What the WxClient seam shows: reaching `running` (a login ends with webwxinit + webwxsync) and reports that
 *   only a sync can deliver (received messages, messages sent from the phone, friend requests).
 *
 * The seam alone cannot tell a quiet healthy account from a stuck one, so the sync age is only enforced once the
 * wire channel has reported for this account (`wireObserved`); before that, readiness is "logged in".
 */
import type { WxClient } from '../client/interface.ts';
import type { Message } from '../model/types.ts';
import { WireRequestRouter, type WireRequestEvent } from '../diagnostics.ts';

const SYNC_STEPS = new Set(['synccheck', 'webwxsync']);

const seconds = (ms: number) => Number((ms / 1000).toFixed(1));

export interface Readiness {
  ready: boolean;
  state: string;
  /** Why not ready; null when ready. */
  reason: string | null;
  /** Age of the last successful sync in ms, null when there was none yet. */
  last_sync_age_ms: number | null;
  /** `wire`: from the transport's per-request events (the age is enforced); `events`: login and messages only. */
  sync_source: 'wire' | 'events';
}

export class SyncWatch {
  readonly account: string;
  readonly #client: WxClient;
  #lastOk: number | null = null;
  #wireObserved = false;
  readonly #offWire: () => void;
  readonly #onWire = (e: WireRequestEvent) => {
    this.#wireObserved = true;
    if (e.ok && SYNC_STEPS.has(e.name)) this.#lastOk = Date.now();
  };
  readonly #onState = (_old: string, now: string) => {
    if (now === 'running') this.#lastOk = Date.now();
    else if (now === 'stop' || now === 'scaning' || now === 'loading') this.#lastOk = null;
  };
  readonly #onMessage = (m: Message) => {
    if (m.class === 'recv' || m.source === 'outer') this.#mark();
  };
  readonly #mark = () => {
    this.#lastOk = Date.now();
  };

  /** `wire`: the host's router of wire events (one channel subscription for all its accounts); default: its own. */
  constructor(client: WxClient, wire: WireRequestRouter = new WireRequestRouter()) {
    this.#client = client;
    this.account = client.account;
    if (client.state === 'running') this.#lastOk = Date.now();
    this.#offWire = wire.on(this.account, this.#onWire);
    client.on('state_change', this.#onState);
    client.on('receive_message', this.#onMessage);
    client.on('send_message', this.#onMessage);
    client.on('friend_request', this.#mark);
  }

  /** The transport has published wire events for this account (so the sync age is known for sure). */
  get wireObserved(): boolean {
    return this.#wireObserved;
  }

  /** ms epoch of the last successful sync (or login), null when none since the last login started. */
  get lastOk(): number | null {
    return this.#lastOk;
  }

  readiness(maxAgeMs: number, now = Date.now()): Readiness {
    const state = this.#client.state;
    const age = this.#lastOk === null ? null : now - this.#lastOk;
    const source = this.#wireObserved ? 'wire' : 'events';
    let reason: string | null = null;
    if (state === 'stop') reason = 'client stopped';
    else if (state !== 'running') reason = `not logged in (state ${state})`;
    else if (this.#wireObserved && age === null) reason = 'no successful sync with WeChat yet';
    else if (this.#wireObserved && age !== null && age > maxAgeMs) {
      reason = `no successful sync with WeChat for ${seconds(age)} s (limit ${seconds(maxAgeMs)} s)`;
    }
    return { ready: reason === null, state, reason, last_sync_age_ms: age, sync_source: source };
  }

  close(): void {
    this.#offWire();
    this.#client.off('state_change', this.#onState);
    this.#client.off('receive_message', this.#onMessage);
    this.#client.off('send_message', this.#onMessage);
    this.#client.off('friend_request', this.#mark);
  }
}
