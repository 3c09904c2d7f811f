/**
 * Options of the Openwx plugin. Keys Mojo-Weixin's `load("Openwx", data => {...})` knows keep its spelling
 * (`listen`, `post_api`, `post_event`, …); openwx's own additions are camelCase with the unit in the name.
 * An option named after a setting defaults to that setting's default (SETTING_DEFAULTS, src/settings/defaults.ts, the
 * one source the settings schema uses too); the others to LIBRARY_DEFAULTS.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { Logger } from 'pino';
import type { Delivery } from '../delivery/sink.ts';
import { DEFAULT_POST_EVENT_LIST, HOUR_MS, LIBRARY_DEFAULTS, POSTABLE_EVENTS, SETTING_DEFAULTS as D } from '../settings/defaults.ts';

export interface ListenAddress {
  host?: string;
  port?: number;
}

export { DEFAULT_POST_EVENT_LIST, POSTABLE_EVENTS };

/** Events check_event never queues (Mojo: only contact events, friend_request and messages are queued). */
export const NOT_QUEUED_EVENTS: ReadonlySet<string> = new Set([
  'login',
  'stop',
  'state_change',
  'input_qrcode',
  'update_user',
  'update_friend',
  'update_group',
  'logout',
  'relogin',
  'qrcode_expire',
]);

export interface OpenwxOptions {
  /** Where the API listens; default `[{host:"127.0.0.1", port:3000}]` (Mojo: 0.0.0.0; openwx stays on loopback). */
  listen?: ListenAddress[] | ListenAddress;
  post_api?: string | undefined;
  /** Post (and queue for check_event) account events. Default true, as Mojo's code. */
  post_event?: boolean;
  post_event_list?: readonly string[];
  /** Include base64 `media_data` in posted media messages. Default true. */
  post_media_data?: boolean;
  /** A message is not posted (nor queued) if any key here exists in its JSON with a different value. */
  post_message_filter?: Record<string, string>;
  check_event_list_max_size?: number;

  /** Bearer token every request must carry (`Authorization: Bearer <token>`). */
  token?: string | undefined;
  /** Allow a non-loopback listen address without a token. */
  insecureNoAuth?: boolean;
  /** Folders a post_api `media` reply may name local files in. */
  mediaDirs?: readonly string[];
  checkEventTimeoutMs?: number;
  /** Delay between the stop_client answer and the stop (Mojo: 3 s). */
  stopDelayMs?: number;
  /** Called when stop_client's delay is over, just before the client stops. */
  onStopClientRequest?: () => void;
  /** Called after stop_client stopped the client (the command exits the process here). */
  onStopClient?: () => void | Promise<void>;
  /** Most friends one `id=@all` send may address. */
  broadcastMax?: number;
  /** Largest accepted request body (media_data uploads). */
  bodyLimitBytes?: number;
  /** One post_api attempt as a whole (request, answer headers and body) fails after this. Default 40 s (covers a consult). */
  postTimeoutMs?: number;
  /** Attempts per post_api report before it is dropped (in-memory delivery). */
  postAttempts?: number;
  /** Reports held in memory while post_api is slow; the oldest are dropped beyond this. */
  postQueueMax?: number;
  /** Swaps the post_api delivery sink (default: the durable outbox with a data folder, else in memory). */
  delivery?: Delivery;
  /** The data folder: `<dataDir>/openwx.db` holds the post_api outbox and the message history (0600, WAL). */
  dataDir?: string;
  /** Secret of the post_api signature (`X-Openwx-Signature`, `X-Openwx-Timestamp`; docs/delivery.md). */
  postApiSecret?: string | undefined;
  /** Outbox: attempts before a report moves to the dead letters. Default 50. */
  postMaxAttempts?: number;
  /** Outbox: age (since written, or replayed) after which a failing report moves to the dead letters. Default 24 h. */
  postMaxAgeMs?: number;
  /** Outbox retry backoff: first wait and cap (capped exponential, jitter in the upper half). Default 500 ms, 60 s. */
  postBackoffBaseMs?: number;
  postBackoffMaxMs?: number;
  /**
   * Outbox: reports in flight at once per account, pipelined on one connection (docs/delivery.md, "Order").
   * 1 = strictly one at a time. Default 8.
   */
  postConcurrency?: number;
  /**
   * Outbox order under failures (docs/delivery.md, "Failures and retries"): `bounded` (default) — a report the
   * receiver refused or did not answer holds the ones behind it for `postHoldMs` at most; `strict` — until it is
   * delivered or dead.
   */
  postOrder?: 'bounded' | 'strict';
  /** Bounded order: longest hold of a failing report over the ones behind it. Default 5 s. */
  postHoldMs?: number;
  /** Outbox: answers refusing a report (500, 400, …; not 408/429/502/503/504) before it is a dead letter. Default 3. */
  postRejectedMaxAttempts?: number;
  /** Days received and sent messages are kept in the history (0 = no history). Default 30. */
  historyRetentionDays?: number;
  /** How often old history is purged. Default 1 h. */
  historyPurgeIntervalMs?: number;
  /** Also accept the token as an `access_token` parameter (Openwx-compatible clients). Default false. */
  accessTokenParam?: boolean;
  /** Origins allowed by CORS (`*` = any); absent or empty = no CORS headers (default). */
  corsOrigins?: readonly string[];
  /**
   * Host names (`name` = any port, `name:port`) served besides localhost, IP literals and the listen host: the
   * names a reverse proxy or DNS gives this server (DNS rebinding guard, docs/security.md "Host names").
   */
  allowedHosts?: readonly string[];
  /** A request's headers and body must have arrived within this (HTTP 408 and the connection closed). Default 120 s. */
  requestTimeoutMs?: number;
  /** Its headers within this (at most requestTimeoutMs). Default 20 s. */
  headersTimeoutMs?: number;
  /** How often the request and header timeouts are checked (Node's connectionsCheckingInterval). Default 5 s. */
  timeoutCheckIntervalMs?: number;
  /** Open connections at once; further ones are closed at once. Default 256. */
  connectionsMax?: number;
  /**
   * With accessTokenParam, the largest urlencoded or JSON body an `access_token` is looked for in (declared by
   * Content-Length). A request carrying the token neither in the Authorization header nor in the query string and
   * with a larger, multipart or length-less body is refused (401) before any of it is read. Default 64 KiB.
   */
  accessTokenBodyMaxBytes?: number;
  /** Deepest nesting of arrays/objects in a JSON body (HTTP 400 beyond). Default 64. */
  jsonDepthMax?: number;
  /** Answer `datatype=jsonp` requests as `callback(json)` (Mojo's JSONP). Default false. */
  jsonp?: boolean;
  /** Serve `/metrics` without the token (health and the console page always are). Default false. */
  metricsPublic?: boolean;
  /** `/readyz` answers 503 when the last successful sync with WeChat is older than this. Default 60 s. */
  readySyncMaxAgeMs?: number;
  /** What get_client_info reports. */
  logLevel?: string;
  version?: string;
  logger?: Logger;
}

export { LIBRARY_DEFAULTS };

export interface ResolvedOptions {
  postApi: string | undefined;
  postEvent: boolean;
  postEventList: ReadonlySet<string>;
  postMediaData: boolean;
  postMessageFilter: Record<string, string> | undefined;
  checkEventMax: number;
  checkEventTimeoutMs: number;
  stopDelayMs: number;
  broadcastMax: number;
  bodyLimitBytes: number;
  postTimeoutMs: number;
  postAttempts: number;
  postQueueMax: number;
  mediaDirs: readonly string[];
  logLevel: string;
  version: string;
  dataDir: string | undefined;
  postApiSecret: string | undefined;
  postMaxAttempts: number;
  postMaxAgeMs: number;
  postBackoffBaseMs: number;
  postBackoffMaxMs: number;
  postConcurrency: number;
  postOrder: 'bounded' | 'strict';
  postHoldMs: number;
  postRejectedMaxAttempts: number;
  historyRetentionDays: number;
  historyPurgeIntervalMs: number;
  accessTokenParam: boolean;
  corsOrigins: readonly string[];
  jsonp: boolean;
  /** The configured listen hosts (names among them are accepted Host names). */
  listenHosts: readonly string[];
  allowedHosts: readonly string[];
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  timeoutCheckIntervalMs: number;
  connectionsMax: number;
  accessTokenBodyMaxBytes: number;
  jsonDepthMax: number;
}

export function resolveOptions(o: OpenwxOptions): ResolvedOptions {
  const requestTimeoutMs = o.requestTimeoutMs ?? D.request_timeout_ms;
  return {
    postApi: o.post_api || undefined,
    postEvent: o.post_event ?? D.post_event,
    postEventList: new Set(o.post_event_list ?? D.post_event_list),
    postMediaData: o.post_media_data ?? D.post_media_data,
    postMessageFilter: o.post_message_filter,
    checkEventMax: o.check_event_list_max_size ?? D.check_event_list_max_size,
    checkEventTimeoutMs: o.checkEventTimeoutMs ?? LIBRARY_DEFAULTS.checkEventTimeoutMs,
    stopDelayMs: o.stopDelayMs ?? D.stop_delay_ms,
    broadcastMax: o.broadcastMax ?? D.broadcast_max,
    bodyLimitBytes: o.bodyLimitBytes ?? D.body_limit_bytes,
    postTimeoutMs: o.postTimeoutMs ?? D.post_api_timeout_ms,
    postAttempts: o.postAttempts ?? LIBRARY_DEFAULTS.postAttempts,
    postQueueMax: o.postQueueMax ?? LIBRARY_DEFAULTS.postQueueMax,
    mediaDirs: o.mediaDirs ?? [],
    logLevel: o.logLevel ?? D.log_level,
    version: o.version ?? LIBRARY_DEFAULTS.version,
    dataDir: o.dataDir || undefined,
    postApiSecret: o.postApiSecret || undefined,
    postMaxAttempts: o.postMaxAttempts ?? D.post_api_max_attempts,
    postMaxAgeMs: o.postMaxAgeMs ?? D.post_api_max_age_hours * HOUR_MS,
    postBackoffBaseMs: o.postBackoffBaseMs ?? D.post_api_backoff_base_ms,
    postBackoffMaxMs: o.postBackoffMaxMs ?? D.post_api_backoff_max_ms,
    postConcurrency: o.postConcurrency ?? D.post_api_concurrency,
    postOrder: o.postOrder ?? D.post_api_order,
    postHoldMs: o.postHoldMs ?? D.post_api_hold_ms,
    postRejectedMaxAttempts: o.postRejectedMaxAttempts ?? D.post_api_rejected_max_attempts,
    historyRetentionDays: o.historyRetentionDays ?? D.history_retention_days,
    historyPurgeIntervalMs: o.historyPurgeIntervalMs ?? LIBRARY_DEFAULTS.historyPurgeIntervalMs,
    accessTokenParam: o.accessTokenParam ?? D.access_token_param,
    corsOrigins: o.corsOrigins ?? [],
    jsonp: o.jsonp ?? D.jsonp,
    listenHosts: listenAddresses(o).map((a) => a.host),
    allowedHosts: o.allowedHosts ?? [],
    requestTimeoutMs,
    // Node refuses a header timeout above the request timeout.
    headersTimeoutMs: Math.min(o.headersTimeoutMs ?? D.headers_timeout_ms, requestTimeoutMs),
    timeoutCheckIntervalMs: o.timeoutCheckIntervalMs ?? LIBRARY_DEFAULTS.timeoutCheckIntervalMs,
    connectionsMax: o.connectionsMax ?? D.connections_max,
    accessTokenBodyMaxBytes: o.accessTokenBodyMaxBytes ?? LIBRARY_DEFAULTS.accessTokenBodyMaxBytes,
    jsonDepthMax: o.jsonDepthMax ?? LIBRARY_DEFAULTS.jsonDepthMax,
  };
}

export function listenAddresses(o: OpenwxOptions): { host: string; port: number }[] {
  const l = o.listen === undefined ? [{}] : Array.isArray(o.listen) ? o.listen : [o.listen];
  return (l.length ? l : [{}]).map((a) => ({ host: a.host ?? D.host, port: a.port ?? D.port }));
}

/**
 * True only for a loopback address — IPv4 127.0.0.0/8, IPv6 ::1 and IPv4-mapped ::ffff:127.x.x.x, in any spelling
 * (`0:0:0:0:0:0:0:1`, `::ffff:7f00:1`, a `%zone`) — or the name `localhost`. A name that merely starts with `127.`
 * (`127.evil.example`) is not.
 */
export function isLoopback(host: string): boolean {
  if (host.toLowerCase() === 'localhost') return true;
  const ip = host.replace(/%[^%]*$/, '');
  if (isIPv4(ip)) return ip.startsWith('127.');
  if (!isIPv6(ip)) return false;
  const canonical = new URL(`http://[${ip}]`).hostname; // e.g. [::ffff:7f00:1] for ::ffff:127.0.0.1
  return canonical === '[::1]' || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(canonical);
}
