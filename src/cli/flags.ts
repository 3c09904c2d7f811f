/**
 * The command-line flag of every setting (src/cli/config.ts), with its help line: one table both commands build
 * their options from (`openwx` takes every setting; `openwx controller` the process layer and, as defaults for its
 * accounts, the account layer: src/cli/layers.ts). The setting a flag sets is the table's key; the flag's value is
 * read by commander's attribute name, so there is no second, hand-written map.
 */
import { Option, type Command } from 'commander';
import type { SettingName } from './config.ts';

const collect = (v: string, prev: string[] | undefined) => [...(prev ?? []), v];

export interface FlagSpec {
  /** commander flag syntax: `--port <port>`, `--quiet`, `--no-download-media`, `--sandbox [world]`. */
  flags: string;
  help: string;
  /** Repeatable: every use adds to a list. */
  repeat?: boolean;
}

export const SETTING_FLAGS: Partial<Record<SettingName, FlagSpec>> = {
  host: { flags: '--host <host>', help: 'API listen address (beyond loopback a --token is required)' },
  port: { flags: '--port <port>', help: 'API port (0 = any free port)' },
  post_api: { flags: '--post-api <url>', help: 'URL that receives every message and event as JSON (its answer can reply)' },
  data_dir: { flags: '--data-dir <dir>', help: 'session, QR code and downloaded media' },
  token: { flags: '--token <secret>', help: 'API access token, sent as "Authorization: Bearer <secret>" (8+ characters)' },
  insecure_no_auth: { flags: '--insecure-no-auth', help: 'allow a non-loopback --host without a token' },
  account: { flags: '--account <name>', help: 'account name' },
  wechat_origin: { flags: '--wechat-origin <url>', help: 'send all WeChat traffic to this origin (e.g. a sandbox)' },
  desktop_mode: { flags: '--no-desktop-mode', help: 'plain web login instead of the UOS desktop mode' },
  download_media: { flags: '--no-download-media', help: 'do not download received media' },
  send_interval_ms: { flags: '--send-interval-ms <ms>', help: 'minimum spacing between two sends' },
  media_dirs: {
    flags: '--media-dir <dir>',
    help: 'folder local media_path / post_api media files may come from (repeatable; default <data-dir>/media)',
    repeat: true,
  },
  allow_private_media_urls: {
    flags: '--allow-private-media-urls',
    help: 'fetch media URLs from loopback, private and other internal addresses too (default: public addresses only)',
  },
  sandbox: { flags: '--sandbox [world]', help: 'start an embedded sandbox (optionally with a world JSON file) and log in to it' },
  sandbox_port: { flags: '--sandbox-port <port>', help: 'port of the embedded sandbox and its control API' },
  log_level: { flags: '--log-level <level>', help: 'trace, debug, info, warn, error, fatal or silent' },
  log_format: { flags: '--log-format <format>', help: 'auto (readable in a terminal, JSON lines otherwise), pretty or json' },
  quiet: { flags: '--quiet', help: 'do not print messages (no ShowMsg)' },
  post_event: { flags: '--no-post-event', help: 'do not report events to post_api / check_event' },
  post_event_list: { flags: '--post-event-list <events>', help: "comma-separated events to report (default: Mojo-Weixin's list)" },
  post_media_data: { flags: '--no-post-media-data', help: 'no base64 media_data in media reports' },
  post_message_filter: {
    flags: '--post-message-filter <json>',
    help: 'only report messages matching this JSON object, e.g. {"type":"group_message"}',
  },
  check_event_list_max_size: { flags: '--check-event-list-max-size <n>', help: 'check_event queue size' },
  broadcast_max: { flags: '--broadcast-max <n>', help: 'most friends one id=@all send may reach' },
  stop_delay_ms: { flags: '--stop-delay-ms <ms>', help: 'delay between the stop_client answer and the stop' },
  metrics_public: { flags: '--metrics-public', help: 'serve /metrics without the token (health and the console page always are)' },
  post_api_secret: {
    flags: '--post-api-secret <secret>',
    help: 'sign every post_api request (X-Openwx-Signature: sha256=HMAC of timestamp.body; 16+ characters)',
  },
  post_api_max_attempts: { flags: '--post-api-max-attempts <n>', help: 'attempts before a report becomes a dead letter' },
  post_api_max_age_hours: {
    flags: '--post-api-max-age-hours <h>',
    help: 'hours a failing report is retried before it becomes a dead letter',
  },
  post_api_backoff_base_ms: { flags: '--post-api-backoff-base-ms <ms>', help: 'first retry wait; doubles per attempt' },
  post_api_backoff_max_ms: { flags: '--post-api-backoff-max-ms <ms>', help: 'longest retry wait' },
  post_api_timeout_ms: { flags: '--post-api-timeout-ms <ms>', help: 'timeout of one post_api request' },
  post_api_concurrency: {
    flags: '--post-api-concurrency <n>',
    help: 'post_api reports in flight at once, pipelined in order (1 = one at a time)',
  },
  post_api_order: { flags: '--post-api-order <order>', help: 'bounded or strict: how long a failing report holds the ones behind it' },
  post_api_hold_ms: { flags: '--post-api-hold-ms <ms>', help: 'bounded order: longest hold of a failing report' },
  post_api_rejected_max_attempts: {
    flags: '--post-api-rejected-max-attempts <n>',
    help: 'refusing answers (500, 400, …) before a report becomes a dead letter',
  },
  history_retention_days: {
    flags: '--history-retention-days <days>',
    help: 'days received and sent messages are kept (0 = no history)',
  },
  access_token_param: {
    flags: '--access-token-param',
    help: 'also accept the token as an access_token parameter (Openwx-compatible clients)',
  },
  cors_origins: { flags: '--cors-origin <origin>', help: 'allow this origin (or *) by CORS (repeatable; default: no CORS)', repeat: true },
  jsonp: { flags: '--jsonp', help: 'answer datatype=jsonp requests as callback(json) (default off)' },
  body_limit_bytes: { flags: '--body-limit-bytes <n>', help: 'largest request body' },
  allowed_hosts: {
    flags: '--allowed-host <host>',
    help: 'also serve requests for this Host name (reverse proxy; name or name:port; repeatable)',
    repeat: true,
  },
  request_timeout_ms: { flags: '--request-timeout-ms <ms>', help: 'a request (headers and body) must arrive within this' },
  headers_timeout_ms: { flags: '--headers-timeout-ms <ms>', help: 'its headers within this' },
  connections_max: { flags: '--connections-max <n>', help: 'open API connections at once' },
  relogin: { flags: '--relogin <policy>', help: 'after WeChat logs the session out: relogin or stop' },
  onebot: { flags: '--onebot <json>', help: 'OneBot v11/v12 settings as JSON (the config key onebot:; docs/onebot.md)' },
  onebot_access_token: { flags: '--onebot-access-token <secret>', help: 'OneBot access token (Authorization: Bearer, or access_token query; 8+ characters)' },
  onebot_v12_ws_reverse: { flags: '--onebot-v12-ws-reverse <url>', help: 'OneBot 12 reverse WebSocket to connect to (repeatable)', repeat: true },
  onebot_v11_ws_reverse: { flags: '--onebot-v11-ws-reverse <url>', help: 'OneBot 11 reverse WebSocket to connect to (repeatable)', repeat: true },
};

/** `(default X)` for a help line, from the schema's default (plain numbers and strings; the rest say it in words). */
function defaultNote(help: string, dflt: unknown): string {
  if (/\bdefault\b/.test(help)) return help;
  if (typeof dflt === 'number' || (typeof dflt === 'string' && dflt !== '')) return `${help} (default ${dflt})`;
  return help;
}

/**
 * Adds the flags of these settings to `cmd`, each help line ending with the default the command's schema gives
 * (`defaults`: the schema parsed from nothing); returns setting name → commander attribute name.
 */
export function addSettingFlags(
  cmd: Command,
  names: readonly string[],
  defaults: Record<string, unknown>,
  help: Record<string, string> = {},
): Map<string, string> {
  const keys = new Map<string, string>();
  for (const name of names) {
    const spec = SETTING_FLAGS[name as SettingName];
    if (!spec) continue;
    const opt = new Option(spec.flags, defaultNote(help[name] ?? spec.help, defaults[name]));
    if (spec.repeat) opt.argParser(collect);
    cmd.addOption(opt);
    keys.set(name, opt.attributeName());
  }
  return keys;
}

/** The settings given on the command line (not commander defaults), keyed by setting name. */
export function flagsGiven(cmd: Command, keys: Map<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [setting, key] of keys) if (cmd.getOptionValueSource(key) === 'cli') out[setting] = cmd.getOptionValue(key);
  return out;
}
