/**
 * Prometheus metrics (prom-client) with their own Registry (no global state; one per API, or shared by several
 * accounts): WeChat request latency (sync latency = `name="webwxsync"`; synccheck is the long poll) and errors
 * from the transport's diagnostics channel, last successful sync, messages in/out by format, sends by result,
 * post_api deliveries by result and queue depth, relogins, state. docs/operations.md lists every family.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SendResult, WxClient } from '../client/interface.ts';
import { isOpenwxError } from '../errors.ts';
import { STATES, type Message } from '../model/types.ts';
import { wireRequestChannel, type WireRequestEvent } from '../diagnostics.ts';
import type { SyncWatch } from './sync-watch.ts';

/** A post_api sink as metrics see it: its depth, and `delivered`/`failed`/`dead` events when it emits them. */
export interface DeliverySource {
  readonly depth: number;
  on?(event: 'delivered' | 'failed' | 'dead', listener: (...args: any[]) => void): unknown;
  off?(event: 'delivered' | 'failed' | 'dead', listener: (...args: any[]) => void): unknown;
  /** Every 2xx answer (the Delivery interface); used when the sink emits no events. */
  onDelivered?(handler: (...args: any[]) => void): void;
}

export interface MetricsOptions {
  /** prom-client's default process/Node.js metrics (`process_*`, `nodejs_*`). Default true. */
  processMetrics?: boolean;
  /** Reported as `openwx_build_info{version}`. */
  version?: string;
}

/** The `result` label of a send: `ok`, the coded error (`OWX_ERR_WX_RATE_LIMITED`, …) or `ret_<Ret>`. */
export function sendResultLabel(r: SendResult): string {
  if (r.code === 0) return 'ok';
  return r.error?.code ?? `ret_${r.code}`;
}

export class Metrics {
  readonly registry = new Registry();
  readonly #accounts = new Set<string>();
  readonly #wireHist: Histogram<'account' | 'name'>;
  readonly #wireErrors: Counter<'account' | 'name'>;
  readonly #messages: Counter<'account' | 'direction' | 'format'>;
  readonly #sends: Counter<'account' | 'result'>;
  readonly #deliveries: Counter<'account' | 'result'>;
  readonly #relogins: Counter<'account'>;
  readonly #state: Gauge<'account' | 'state'>;
  readonly #depthSources = new Map<string, DeliverySource>();
  readonly #syncWatches = new Map<string, SyncWatch>();
  readonly #onWire = (m: unknown) => this.#wire(m as WireRequestEvent);

  constructor(o: MetricsOptions = {}) {
    if (o.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    new Gauge({ name: 'openwx_build_info', help: 'openwx version (always 1)', labelNames: ['version'], registers }).set(
      { version: o.version ?? 'unknown' },
      1,
    );
    this.#wireHist = new Histogram({
      name: 'openwx_wechat_request_duration_seconds',
      help: 'Duration of web-protocol requests to WeChat by step; sync latency is name="webwxsync" (synccheck is a long poll)',
      labelNames: ['account', 'name'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.#wireErrors = new Counter({
      name: 'openwx_wechat_request_errors_total',
      help: 'Web-protocol requests to WeChat that failed (network error, timeout or non-2xx), by step',
      labelNames: ['account', 'name'],
      registers,
    });
    const watches = this.#syncWatches;
    new Gauge({
      name: 'openwx_last_sync_timestamp_seconds',
      help: 'Unix time of the last successful sync with WeChat (or login); 0 when there is none since the last login started',
      labelNames: ['account'],
      registers,
      collect() {
        this.reset(); // an account no longer watched has no series
        for (const [account, w] of watches) this.set({ account }, w.lastOk === null ? 0 : w.lastOk / 1000);
      },
    });
    this.#messages = new Counter({
      name: 'openwx_messages_total',
      help: 'Messages received (direction="in") and sent (direction="out", from the API, post_api replies or the phone), by format',
      labelNames: ['account', 'direction', 'format'],
      registers,
    });
    this.#sends = new Counter({
      name: 'openwx_sends_total',
      help: 'Sends (text and media) through the API, post_api replies and the console, by result: ok or the error code',
      labelNames: ['account', 'result'],
      registers,
    });
    this.#deliveries = new Counter({
      name: 'openwx_webhook_deliveries_total',
      help: 'post_api delivery attempts by result: delivered, failed (retried later), dead (given up)',
      labelNames: ['account', 'result'],
      registers,
    });
    const sources = this.#depthSources;
    new Gauge({
      name: 'openwx_webhook_queue_depth',
      help: 'post_api reports waiting to be delivered',
      labelNames: ['account'],
      registers,
      collect() {
        this.reset();
        for (const [account, src] of sources) this.set({ account }, src.depth);
      },
    });
    this.#relogins = new Counter({
      name: 'openwx_relogins_total',
      help: 'Logins again after WeChat ended the session (the relogin event)',
      labelNames: ['account'],
      registers,
    });
    this.#state = new Gauge({
      name: 'openwx_state',
      help: 'Client state: 1 for the current one, 0 for the others',
      labelNames: ['account', 'state'],
      registers,
    });
    wireRequestChannel.subscribe(this.#onWire);
  }

  #wire(e: WireRequestEvent): void {
    if (!this.#accounts.has(e.account)) return;
    this.#wireHist.observe({ account: e.account, name: e.name }, e.durationMs / 1000);
    if (!e.ok) this.#wireErrors.inc({ account: e.account, name: e.name });
  }

  /** Counts this client's state, messages and relogins (and its last sync, given its SyncWatch). Returns the undo. */
  watchClient(client: WxClient, sync?: SyncWatch): () => void {
    const account = client.account;
    this.#accounts.add(account);
    if (sync) this.#syncWatches.set(account, sync);
    const setState = (s: string) => {
      for (const st of STATES) this.#state.set({ account, state: st }, st === s ? 1 : 0);
    };
    setState(client.state);
    this.#relogins.inc({ account }, 0);
    this.#sends.inc({ account, result: 'ok' }, 0);
    const onState = (_o: string, n: string) => setState(n);
    const onRelogin = () => this.#relogins.inc({ account });
    const onIn = (m: Message) => this.#messages.inc({ account, direction: 'in', format: m.format });
    const onOut = (m: Message) => this.#messages.inc({ account, direction: 'out', format: m.format });
    client.on('state_change', onState);
    client.on('relogin', onRelogin);
    client.on('receive_message', onIn);
    client.on('send_message', onOut);
    return () => {
      client.off('state_change', onState);
      client.off('relogin', onRelogin);
      client.off('receive_message', onIn);
      client.off('send_message', onOut);
      this.#accounts.delete(account);
      this.#syncWatches.delete(account);
      // A removed account (Controller stop_client) leaves no state series behind; its counters stay (they only grow).
      for (const st of STATES) this.#state.remove({ account, state: st });
    };
  }

  countSend(account: string, result: string): void {
    this.#sends.inc({ account, result });
  }

  /**
   * The client as the API should use it: the same object, but every sendText/sendMedia outcome is counted in
   * `openwx_sends_total` (a resolved SendResult by its code, a rejection by its error code).
   */
  instrument(client: WxClient): WxClient {
    const count = (result: string) => this.countSend(client.account, result);
    return new Proxy(client, {
      get(target, prop) {
        const v: unknown = Reflect.get(target, prop, target);
        if (typeof v !== 'function') return v;
        if (prop === 'sendText' || prop === 'sendMedia') {
          return async (...args: unknown[]) => {
            try {
              const r = (await (v as (...a: unknown[]) => Promise<SendResult>).apply(target, args)) as SendResult;
              count(sendResultLabel(r));
              return r;
            } catch (e) {
              count(isOpenwxError(e) ? e.code : 'error');
              throw e;
            }
          };
        }
        return (v as (...a: unknown[]) => unknown).bind(target);
      },
    });
  }

  /** Counts the deliveries of a post_api sink and reports its depth. Returns the undo. */
  watchDelivery(account: string, src: DeliverySource): () => void {
    this.#depthSources.set(account, src);
    const delivered = () => this.#deliveries.inc({ account, result: 'delivered' });
    const failed = () => this.#deliveries.inc({ account, result: 'failed' });
    const dead = () => this.#deliveries.inc({ account, result: 'dead' });
    let active = true;
    if (typeof src.on === 'function') {
      for (const result of ['delivered', 'failed', 'dead']) this.#deliveries.inc({ account, result }, 0);
      src.on('delivered', delivered);
      src.on('failed', failed);
      src.on('dead', dead);
    } else {
      // A sink without events (the in-memory one): its 2xx answers are all that can be counted, so only the
      // `delivered` series exists (a 0 for failed/dead would claim what cannot be seen).
      this.#deliveries.inc({ account, result: 'delivered' }, 0);
      src.onDelivered?.(() => {
        if (active) delivered();
      });
    }
    return () => {
      active = false;
      src.off?.('delivered', delivered);
      src.off?.('failed', failed);
      src.off?.('dead', dead);
      if (this.#depthSources.get(account) === src) this.#depthSources.delete(account);
    };
  }

  /** The text exposition (`/metrics`). */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  close(): void {
    wireRequestChannel.unsubscribe(this.#onWire);
    this.registry.clear();
  }
}
