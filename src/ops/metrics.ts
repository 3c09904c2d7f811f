/**
 * Prometheus metrics (prom-client) for one process: sync latency, messages in/out by format, sends by result,
 * post_api deliveries/failures/queue depth, relogins and state. One Registry per Metrics object (no global state).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { WxClient } from '../client/interface.ts';
import { STATES } from '../model/types.ts';
import { wireRequestChannel, type WireRequestEvent } from '../diagnostics.ts';

export interface DeliverySource {
  on(event: 'delivered' | 'failed' | 'dead', listener: (...args: any[]) => void): unknown;
  readonly depth: number;
}

export class Metrics {
  readonly registry = new Registry();
  readonly #lastSyncOk = new Map<string, number>();
  readonly #wireHist: Histogram<'account' | 'name'>;
  readonly #wireErrors: Counter<'account' | 'name'>;
  readonly #messages: Counter<'account' | 'direction' | 'format'>;
  readonly #sends: Counter<'account' | 'result'>;
  readonly #deliveries: Counter<'account' | 'result'>;
  readonly #relogins: Counter<'account'>;
  readonly #state: Gauge<'account' | 'state'>;
  readonly #depthSources = new Map<string, DeliverySource>();
  readonly #onWire = (m: unknown) => this.#wire(m as WireRequestEvent);

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'openwx_process_' });
    const r = [this.registry];
    this.#wireHist = new Histogram({
      name: 'openwx_wechat_request_duration_seconds',
      help: 'Duration of web-protocol requests to WeChat, by step (synccheck is a long poll)',
      labelNames: ['account', 'name'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: r,
    });
    this.#wireErrors = new Counter({
      name: 'openwx_wechat_request_errors_total',
      help: 'Web-protocol requests that failed (network error or non-2xx)',
      labelNames: ['account', 'name'],
      registers: r,
    });
    this.#messages = new Counter({
      name: 'openwx_messages_total',
      help: 'Messages received (in) and sent (out), by format',
      labelNames: ['account', 'direction', 'format'],
      registers: r,
    });
    this.#sends = new Counter({
      name: 'openwx_sends_total',
      help: 'Sends through the API/library, by result (ok, or the error code)',
      labelNames: ['account', 'result'],
      registers: r,
    });
    this.#deliveries = new Counter({
      name: 'openwx_webhook_deliveries_total',
      help: 'post_api delivery attempts by result: delivered, failed (will retry), dead (dead-lettered)',
      labelNames: ['account', 'result'],
      registers: r,
    });
    const sources = this.#depthSources;
    new Gauge({
      name: 'openwx_webhook_queue_depth',
      help: 'post_api reports waiting in the outbox',
      labelNames: ['account'],
      registers: r,
      collect() {
        for (const [account, src] of sources) this.set({ account }, src.depth);
      },
    });
    this.#relogins = new Counter({
      name: 'openwx_relogins_total',
      help: 'Logins after the first one (QR or resumed)',
      labelNames: ['account'],
      registers: r,
    });
    this.#state = new Gauge({
      name: 'openwx_state',
      help: 'Client state (1 for the current one)',
      labelNames: ['account', 'state'],
      registers: r,
    });
    wireRequestChannel.subscribe(this.#onWire);
  }

  #wire(e: WireRequestEvent): void {
    this.#wireHist.observe({ account: e.account, name: e.name }, e.durationMs / 1000);
    if (!e.ok) this.#wireErrors.inc({ account: e.account, name: e.name });
    else if (e.name === 'synccheck' || e.name === 'webwxsync') this.#lastSyncOk.set(e.account, Date.now());
  }

  /** When the account last completed a synccheck/webwxsync successfully (ms epoch), if ever. */
  lastSyncOk(account: string): number | undefined {
    return this.#lastSyncOk.get(account);
  }

  /** A synccheck/webwxsync success seen by other means (e.g. the client's own bookkeeping). */
  markSync(account: string, at = Date.now()): void {
    this.#lastSyncOk.set(account, at);
  }

  watchClient(client: WxClient): void {
    const account = client.account;
    const setState = (s: string) => {
      for (const st of STATES) this.#state.set({ account, state: st }, st === s ? 1 : 0);
    };
    setState(client.state);
    let logins = 0;
    client.on('state_change', (_o, n) => setState(n));
    client.on('login', (code) => {
      if (code >= 0 && ++logins > 1) this.#relogins.inc({ account });
    });
    client.on('receive_message', (m) => this.#messages.inc({ account, direction: 'in', format: m.format }));
    client.on('send_message', (m) => {
      this.#messages.inc({ account, direction: 'out', format: m.format });
    });
  }

  countSend(account: string, result: string): void {
    this.#sends.inc({ account, result });
  }

  watchDelivery(account: string, src: DeliverySource): void {
    this.#depthSources.set(account, src);
    src.on('delivered', () => this.#deliveries.inc({ account, result: 'delivered' }));
    src.on('failed', () => this.#deliveries.inc({ account, result: 'failed' }));
    src.on('dead', () => this.#deliveries.inc({ account, result: 'dead' }));
  }

  close(): void {
    wireRequestChannel.unsubscribe(this.#onWire);
    this.registry.clear();
  }
}
