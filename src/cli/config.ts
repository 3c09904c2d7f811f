/**
 * Settings of the `openwx` command: one zod schema for every setting, read from flags, `OPENWX_*` env vars and a
 * YAML/JSON config file (`--config`), with precedence flags > env > file > defaults. Setting names are
 * snake_case (`post_api`); the flag is the kebab-case form (`--post-api`), the env var the upper-case form with
 * the `OPENWX_` prefix (`OPENWX_POST_API`); config files may use either snake_case or kebab-case keys. A bad value
 * is one line naming the setting: `invalid setting port: expected integer 0-65535, got "abc"`.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml, YAMLError } from 'yaml';
import { z } from 'zod';
import type { ClientOptionsInput } from '../client/options.ts';
import type { OpenwxOptions } from '../api/options.ts';
import { HOUR_MS, POSTABLE_EVENTS, SETTING_DEFAULTS as D } from '../settings/defaults.ts';
import { accessToken, oneBotOptionsOf, OneBotSettingSchema, wsUrl, type OneBotOptions } from '../onebot/settings.ts';

export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}

// --- coercion of strings (flags, env) into the types settings hold

const BOOL_TRUE = new Set(['1', 'true', 'yes', 'on']);
const BOOL_FALSE = new Set(['0', 'false', 'no', 'off', '']);

function toBool(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const s = v.trim().toLowerCase();
  return BOOL_TRUE.has(s) ? true : BOOL_FALSE.has(s) ? false : v;
}

function toNumber(v: unknown): unknown {
  return typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v;
}

function toList(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

const bool = () => z.preprocess(toBool, z.boolean({ error: 'expected true or false' }));
const int = (min: number, max: number) => {
  const msg = `expected integer ${min}-${max}`;
  return z.preprocess(toNumber, z.number({ error: msg }).int({ error: msg }).min(min, { error: msg }).max(max, { error: msg }));
};
const httpUrl = () =>
  z.string({ error: 'expected an http(s) URL' }).refine((s) => {
    try {
      const u = new URL(s);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'expected an http(s) URL');
const nonEmpty = (what: string) => z.string({ error: `expected ${what}` }).min(1, { error: `expected ${what}` });
/**
 * A secret string (list its setting in SECRET_SETTINGS). Surrounding whitespace is refused: a token with it can never
 * match (an Authorization header's value is trimmed), and a post_api secret with it is a copy-paste slip that makes
 * every signature differ from the receiver's.
 */
const secret = (min: number) => {
  const msg = `expected a string of at least ${min} characters`;
  return z
    .string({ error: msg })
    .min(min, { error: msg })
    .refine((v) => v === v.trim(), { error: 'expected no spaces or line breaks at either end' });
};

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** Every setting, with its default (src/settings/defaults.ts holds them all). Keys are the setting names. */
export const SettingsSchema = z
  .object({
    host: nonEmpty('a host name or IP address').default(D.host),
    port: int(0, 65535).default(D.port),
    post_api: httpUrl().optional(),
    data_dir: nonEmpty('a directory').default(D.data_dir),
    token: secret(8).optional(),
    insecure_no_auth: bool().default(D.insecure_no_auth),
    wechat_origin: httpUrl().optional(),
    /** true: the built-in sandbox world; a string: a world JSON file. */
    sandbox: z.preprocess(
      (v) => (typeof v === 'string' && BOOL_TRUE.has(v.trim().toLowerCase()) ? true : typeof v === 'string' && BOOL_FALSE.has(v.trim().toLowerCase()) ? false : v),
      z.union([z.boolean(), z.string().min(1)], { error: 'expected true, false or a world JSON file' }),
    ).default(D.sandbox),
    sandbox_port: int(0, 65535).default(D.sandbox_port),
    log_level: z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` }).default(D.log_level),
    /** auto: readable lines when stdout is a terminal, JSON lines otherwise (files, pipes, log collectors). */
    log_format: z.enum(['auto', 'pretty', 'json'], { error: 'expected auto, pretty or json' }).default(D.log_format),
    quiet: bool().default(D.quiet),
    account: z
      .string({ error: 'expected letters, digits, _ . @ -' })
      .regex(/^[\w.@-]+$/, { error: 'expected letters, digits, _ . @ -' })
      .default(D.account),
    desktop_mode: bool().default(D.desktop_mode),
    download_media: bool().default(D.download_media),
    send_interval_ms: int(0, 600_000).optional(),
    media_dirs: z.preprocess(toList, z.array(z.string().min(1), { error: 'expected a list of directories' })).optional(),
    /** Fetch media URLs from loopback/private/internal addresses too (docs/security.md, "Media URL destinations"). */
    allow_private_media_urls: bool().default(D.allow_private_media_urls),
    post_event: bool().default(D.post_event),
    post_event_list: z
      .preprocess(
        toList,
        z.array(z.enum(POSTABLE_EVENTS, { error: `expected event names among ${POSTABLE_EVENTS.join(', ')}` }), {
          error: 'expected a list of event names',
        }),
      )
      .default([...D.post_event_list]),
    post_media_data: bool().default(D.post_media_data),
    post_message_filter: z
      .preprocess(
        (v) => {
          if (typeof v !== 'string') return v;
          try {
            return JSON.parse(v) as unknown;
          } catch {
            return v;
          }
        },
        z.record(z.string(), z.preprocess((x) => (typeof x === 'number' || typeof x === 'boolean' ? String(x) : x), z.string()), {
          error: 'expected an object of key: value',
        }),
      )
      .optional(),
    check_event_list_max_size: int(1, 100_000).default(D.check_event_list_max_size),
    broadcast_max: int(0, 100_000).default(D.broadcast_max),
    stop_delay_ms: int(0, 600_000).default(D.stop_delay_ms),
    /** Serve /metrics without the token (docs/operations.md). */
    metrics_public: bool().default(D.metrics_public),
    // --- post_api delivery (docs/delivery.md)
    post_api_secret: secret(16).optional(),
    post_api_max_attempts: int(1, 1_000_000).default(D.post_api_max_attempts),
    post_api_max_age_hours: int(1, 24 * 365).default(D.post_api_max_age_hours),
    post_api_backoff_base_ms: int(1, 3_600_000).default(D.post_api_backoff_base_ms),
    post_api_backoff_max_ms: int(1, 86_400_000).default(D.post_api_backoff_max_ms),
    /** One attempt as a whole (request, answer headers and body); covers a handler that runs a consult (30 s). */
    post_api_timeout_ms: int(100, 600_000).default(D.post_api_timeout_ms),
    /** Reports in flight at once per account, pipelined on one connection (docs/delivery.md); 1 = one at a time. */
    post_api_concurrency: int(1, 128).default(D.post_api_concurrency),
    /** bounded: a refused / unanswered report holds the ones behind it for post_api_hold_ms at most; strict: until delivered or dead. */
    post_api_order: z.enum(['bounded', 'strict'], { error: 'expected bounded or strict' }).default(D.post_api_order),
    post_api_hold_ms: int(0, 3_600_000).default(D.post_api_hold_ms),
    /** Answers refusing a report (500, 400, …; not 408/429/502/503/504) before it becomes a dead letter. */
    post_api_rejected_max_attempts: int(1, 1_000_000).default(D.post_api_rejected_max_attempts),
    /** Days messages are kept in the history (0 = no history). */
    history_retention_days: int(0, 36_500).default(D.history_retention_days),
    // --- API security (docs/security.md)
    access_token_param: bool().default(D.access_token_param),
    cors_origins: z
      .preprocess(
        toList,
        z.array(
          z.string().refine((o) => o === '*' || /^https?:\/\/[^/\s]+$/i.test(o), { error: 'expected * or origins like https://example.com' }),
          { error: 'expected a list of origins' },
        ),
      )
      .optional(),
    jsonp: bool().default(D.jsonp),
    body_limit_bytes: int(1024, 1024 * 1024 * 1024).default(D.body_limit_bytes),
    /** Host names served besides localhost, IP literals and the host setting: `name` or `name:port` (reverse proxies). */
    allowed_hosts: z
      .preprocess(
        toList,
        z.array(
          z.string().refine((h) => /^([a-z0-9_-]+(\.[a-z0-9_-]+)*\.?|\[[0-9a-f:.]+\])(:\d{1,5})?$/i.test(h), { error: 'expected host names like proxy.example.com or proxy.example.com:8443' }),
          { error: 'expected a list of host names' },
        ),
      )
      .optional(),
    /** A request's headers and body must arrive within this (HTTP 408); headers within headers_timeout_ms. */
    request_timeout_ms: int(1_000, 3_600_000).default(D.request_timeout_ms),
    headers_timeout_ms: int(1_000, 3_600_000).default(D.headers_timeout_ms),
    /** Open API connections at once; further ones are closed at once. */
    connections_max: int(1, 1_000_000).default(D.connections_max),
    /** After WeChat logs the session out: log in again, or stop. */
    relogin: z.enum(['relogin', 'stop'], { error: 'expected relogin or stop' }).default(D.relogin),
    // --- OneBot v11/v12 (docs/onebot.md); off unless configured
    onebot: OneBotSettingSchema.optional(),
    onebot_access_token: accessToken().optional(),
    onebot_v12_ws_reverse: z.preprocess(toList, z.array(wsUrl(), { error: 'expected a list of ws(s) URLs' })).optional(),
    onebot_v11_ws_reverse: z.preprocess(toList, z.array(wsUrl(), { error: 'expected a list of ws(s) URLs' })).optional(),
  })
  .strict();

export type Settings = z.output<typeof SettingsSchema>;
export type SettingName = keyof Settings;
export const SETTING_NAMES = Object.keys(SettingsSchema.shape) as SettingName[];

export const envName = (s: string) => `OPENWX_${s.toUpperCase()}`;
export const flagName = (s: string) => `--${s.replace(/_/g, '-')}`;

/**
 * Settings whose value is never printed, not even in a settings error (only its length is): every secret setting
 * (a token, a signing secret, a password, a URL with a password in it) must be listed here.
 */
export const SECRET_SETTINGS: ReadonlySet<string> = new Set<string>(['token', 'post_api_secret', 'onebot_access_token', 'database_url']);
/** Keys of a mapping setting whose value is a secret (never printed): `onebot: {access_token}`. */
const NESTED_SECRET_KEYS: ReadonlySet<string> = new Set(['access_token', 'secret']);
/** URL settings: printed without user:password and query values (either may be a credential). */
const URL_SETTINGS: ReadonlySet<string> = new Set<SettingName>(['post_api', 'wechat_origin', 'onebot_v12_ws_reverse', 'onebot_v11_ws_reverse']);

function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
}

/** A setting's value as a settings error may print it: secrets only by length, URLs without their credentials. */
function shown(name: string, v: unknown): string {
  if (v === undefined) return 'nothing';
  if (SECRET_SETTINGS.has(name)) {
    if (v === null) return 'nothing';
    if (typeof v === 'string') return `a value of ${[...v].length} characters`;
    return Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a mapping' : `a ${typeof v}`;
  }
  if (URL_SETTINGS.has(name) && typeof v === 'string') return JSON.stringify(withoutCredentials(v));
  return show(v);
}

function withoutCredentials(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // not a URL (that is the error): still hide what would be a user:password@ or a query
    return url.replace(/^([^@/]*\/\/)?[^@]*@/, '$1…@').replace(/\?.*$/s, '?…');
  }
  if (!u.username && !u.password && !u.search) return url;
  const query = [...new Set(u.searchParams.keys())].map((k) => `${k}=…`).join('&');
  return `${u.protocol}//${u.username || u.password ? '…@' : ''}${u.host}${u.pathname}${query ? `?${query}` : ''}`;
}

/** Reads a YAML or JSON config file into raw settings (keys normalised to snake_case). */
export function readConfigFile(path: string, names: readonly string[] = SETTING_NAMES): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new SettingsError(`invalid setting config: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let data: unknown;
  const json = /\.json$/i.test(path);
  try {
    // logLevel error: yaml would print its warnings (an unknown tag, quoted from the file) on stderr
    data = json ? JSON.parse(text) : parseYaml(text, { logLevel: 'error' });
  } catch (e) {
    throw new SettingsError(`invalid setting config: ${path} is not valid ${json ? 'JSON' : 'YAML'}${syntaxProblem(e as Error)}`);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new SettingsError(`invalid setting config: ${path} must hold a mapping of settings`);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data as Record<string, unknown>)) {
    const name = k.replace(/-/g, '_');
    if (!names.includes(name)) throw new SettingsError(`unknown setting ${k} in ${path}`);
    out[name] = v;
  }
  return out;
}

/**
 * Where a config file's syntax is wrong, without quoting the file: the parsers' messages may carry a piece of its
 * text (V8: an excerpt around the bad token; yaml: an alias, a tag, an escape), and that text may be a secret.
 */
function syntaxProblem(e: Error): string {
  if (e instanceof YAMLError && e.linePos) return ` (${e.code}) at line ${e.linePos[0].line}, column ${e.linePos[0].col}`;
  const first = e.message.split('\n')[0]!;
  // V8's JSON messages name a position, except "Unexpected token 'x', "…excerpt…" is not valid JSON"
  if (e instanceof SyntaxError && / in JSON at position \d+( \(line \d+ column \d+\))?$|^Unexpected end of JSON input$/.test(first)) return `: ${first}`;
  if (e instanceof SyntaxError) return ': unexpected token';
  return /^Unresolved alias/.test(first) ? ': an alias (*name) without its anchor; quote a value that starts with *' : '';
}

/** Raw settings from `OPENWX_*` env vars (OPENWX_CONFIG names the config file and is not a setting). */
export function readEnv(env: NodeJS.ProcessEnv, names: readonly string[] = SETTING_NAMES): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of names) {
    const v = env[envName(name)];
    if (v !== undefined) out[name] = v;
  }
  return out;
}

export interface SettingsSources {
  /** Flags given on the command line, keyed by setting name (absent = not given). */
  flags?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  /** The config file (flag --config, else OPENWX_CONFIG). */
  configFile?: string | undefined;
}

/** Merges the sources (flags > env > file > defaults) and validates; throws SettingsError with one line. */
export function loadSettings(src: SettingsSources): Settings {
  const env = src.env ?? {};
  const configFile = src.configFile ?? env['OPENWX_CONFIG'];
  const file = configFile ? readConfigFile(configFile) : {};
  const raw: Record<string, unknown> = { ...file, ...readEnv(env) };
  for (const [k, v] of Object.entries(src.flags ?? {})) if (v !== undefined) raw[k] = v;
  return parseSettings(SettingsSchema, raw);
}

/** Validates raw settings with `schema` (a layer of SettingsSchema, or the controller's); throws SettingsError with one line. */
export function parseSettings<T extends z.ZodType>(schema: T, raw: Record<string, unknown>): z.output<T> {
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') throw new SettingsError(`unknown setting ${issue.keys.join(', ')}`);
    const name = String(issue.path[0] ?? '');
    const value = raw[name];
    // A secret inside a mapping (onebot.access_token) is shown as a secret is.
    const inner = issue.path.slice(1);
    const innerSecret = inner.some((k) => NESTED_SECRET_KEYS.has(String(k)));
    const got = innerSecret
      ? shown('token', pick(value, inner))
      : issue.path.length > 1 && !SECRET_SETTINGS.has(name) ? show(pick(value, inner)) : shown(name, value);
    throw new SettingsError(`invalid setting ${name}: ${issue.message}, got ${got}`);
  }
  return r.data;
}

function pick(v: unknown, path: PropertyKey[]): unknown {
  let cur = v;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return cur;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

/** The client options these settings imply (src/client/options.ts). */
export function clientOptionsOf(s: Settings, wechatOrigin = s.wechat_origin): ClientOptionsInput {
  return {
    account: s.account,
    dataDir: resolve(s.data_dir),
    downloadMedia: s.download_media,
    desktopMode: s.desktop_mode,
    relogin: s.relogin,
    allowPrivateMediaUrls: s.allow_private_media_urls,
    ...(wechatOrigin ? { wechatOrigin } : {}),
    ...(s.send_interval_ms !== undefined ? { sendIntervalMs: s.send_interval_ms } : {}),
  };
}

/** Folders local media may come from: the setting, else `<data_dir>/media` (where downloads go too). */
export function mediaDirsOf(s: Settings): string[] {
  return (s.media_dirs ?? [join(s.data_dir, 'media')]).map((d) => resolve(d));
}

/** The Openwx plugin options these settings imply. */
export function openwxOptionsOf(s: Settings): OpenwxOptions & { onebot?: OneBotOptions | undefined } {
  return {
    onebot: oneBotOptionsOf(s),
    listen: [{ host: s.host, port: s.port }],
    post_api: s.post_api,
    post_event: s.post_event,
    post_event_list: s.post_event_list,
    post_media_data: s.post_media_data,
    ...(s.post_message_filter ? { post_message_filter: s.post_message_filter } : {}),
    check_event_list_max_size: s.check_event_list_max_size,
    token: s.token,
    insecureNoAuth: s.insecure_no_auth,
    mediaDirs: mediaDirsOf(s),
    broadcastMax: s.broadcast_max,
    stopDelayMs: s.stop_delay_ms,
    metricsPublic: s.metrics_public,
    logLevel: s.log_level,
    dataDir: resolve(s.data_dir),
    postApiSecret: s.post_api_secret,
    postMaxAttempts: s.post_api_max_attempts,
    postMaxAgeMs: s.post_api_max_age_hours * HOUR_MS,
    postBackoffBaseMs: s.post_api_backoff_base_ms,
    postBackoffMaxMs: s.post_api_backoff_max_ms,
    postTimeoutMs: s.post_api_timeout_ms,
    postConcurrency: s.post_api_concurrency,
    postOrder: s.post_api_order,
    postHoldMs: s.post_api_hold_ms,
    postRejectedMaxAttempts: s.post_api_rejected_max_attempts,
    historyRetentionDays: s.history_retention_days,
    accessTokenParam: s.access_token_param,
    corsOrigins: s.cors_origins ?? [],
    jsonp: s.jsonp,
    bodyLimitBytes: s.body_limit_bytes,
    allowedHosts: s.allowed_hosts ?? [],
    requestTimeoutMs: s.request_timeout_ms,
    headersTimeoutMs: s.headers_timeout_ms,
    connectionsMax: s.connections_max,
  };
}
