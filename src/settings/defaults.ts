/**
 * The default of every setting, once. The settings schema (src/cli/config.ts, src/cli/layers.ts) gives these as its
 * defaults (so `--help`, the README table's test and a parse of nothing show them), and the layers below the command
 * take theirs from here too: the library's API options (src/api/options.ts `resolveOptions`), the post_api delivery
 * (src/delivery/worker.ts), the client's options (src/client/options.ts), the host (max clients) and the cluster
 * (src/cluster/, src/store/pg/).
 *
 * Plain data with no imports: every layer may import it (cli → host → api → client → wire all point down to it).
 * Keys are the setting names (snake_case, the unit in the name); a setting without a default (post_api, token, …) is
 * not here. docs/decisions.md, "Settings: one source of defaults".
 */

/** Mojo-Weixin's default post_event_list (Openwx.pm). */
export const DEFAULT_POST_EVENT_LIST = [
  'login',
  'stop',
  'state_change',
  'input_qrcode',
  'new_group',
  'new_friend',
  'new_group_member',
  'lose_group',
  'lose_friend',
  'lose_group_member',
  'friend_request',
] as const;

/** Every event name post_event_list may hold. */
export const POSTABLE_EVENTS = [
  ...DEFAULT_POST_EVENT_LIST,
  'group_property_change',
  'group_member_property_change',
  'friend_property_change',
  'user_property_change',
  'update_user',
  'update_friend',
  'update_group',
  'logout',
  'relogin',
  'qrcode_expire',
] as const;

export const HOUR_MS = 3_600_000;

/** The default of every setting of `openwx` (and of the library options named after them). */
export const SETTING_DEFAULTS = Object.freeze({
  host: '127.0.0.1',
  port: 3000,
  data_dir: './data',
  insecure_no_auth: false,
  sandbox: false,
  sandbox_port: 5030,
  log_level: 'info',
  log_format: 'auto',
  quiet: false,
  account: 'default',
  desktop_mode: true,
  download_media: true,
  allow_private_media_urls: false,
  post_event: true,
  post_event_list: DEFAULT_POST_EVENT_LIST,
  post_media_data: true,
  check_event_list_max_size: 20,
  broadcast_max: 500,
  stop_delay_ms: 3_000,
  metrics_public: false,
  post_api_max_attempts: 50,
  post_api_max_age_hours: 24,
  post_api_backoff_base_ms: 500,
  post_api_backoff_max_ms: 60_000,
  post_api_timeout_ms: 40_000,
  post_api_concurrency: 8,
  post_api_order: 'bounded',
  post_api_hold_ms: 5_000,
  post_api_rejected_max_attempts: 3,
  history_retention_days: 30,
  access_token_param: false,
  jsonp: false,
  body_limit_bytes: 32 * 1024 * 1024,
  request_timeout_ms: 120_000,
  headers_timeout_ms: 20_000,
  connections_max: 256,
  relogin: 'relogin',
} as const);

/**
 * Defaults of the library options that are no setting of the command (src/api/options.ts `resolveOptions`; the
 * check_event queue and the in-memory post_api sink have the same).
 */
export const LIBRARY_DEFAULTS = Object.freeze({
  checkEventTimeoutMs: 30_000,
  postAttempts: 3,
  postQueueMax: 1_000,
  version: '0.1.0',
  historyPurgeIntervalMs: HOUR_MS,
  timeoutCheckIntervalMs: 5_000,
  accessTokenBodyMaxBytes: 64 * 1024,
  jsonDepthMax: 64,
} as const);

/** Defaults of the cluster settings of `openwx controller` (docs/cluster.md). */
export const CLUSTER_DEFAULTS = Object.freeze({
  events_retention_hours: 168,
  lease_ttl_ms: 15_000,
  lease_renew_interval_ms: 3_000,
  worker_dead_after_ms: 10_000,
  forward_timeout_ms: 90_000,
  forward_owner_wait_ms: 5_000,
} as const);

/** The defaults `openwx controller` has of its own (the rest are SETTING_DEFAULTS, and CLUSTER_DEFAULTS). */
export const CONTROLLER_DEFAULTS = Object.freeze({
  port: 2000,
  max_clients: 100,
  sandbox_users: 1,
} as const);
