/**
 * The two layers of the settings (src/cli/config.ts has every setting, its type and default):
 * - the **account layer**: what each account may have its own of (post_api and its delivery settings, events,
 *   media folders, send pacing, relogin, desktop mode, downloads, history, check_event size, broadcast_max, the
 *   WeChat origin). Under the Controller these are the defaults of new accounts, and start_client's parameters
 *   (or a settings file's `clients:` entries) override them per account;
 * - the **process layer**: everything else (listen address, token, request guards and limits, data folder, logs,
 *   sandbox, metrics), plus the Controller's own (max_clients, sandbox_users, clients).
 * Both are picks of SettingsSchema, so flags, env names, config keys and defaults have one source.
 */
import { z } from 'zod';
import { SETTING_NAMES, SettingsSchema, type SettingName } from './config.ts';
import { CLUSTER_DEFAULTS, CONTROLLER_DEFAULTS } from '../settings/defaults.ts';

/** Defaults of the cluster settings (docs/cluster.md): src/settings/defaults.ts, which the cluster reads too. */
export { CLUSTER_DEFAULTS };
/** The cluster's settings: the Controller's only. */
export const CLUSTER_SETTING_NAMES = [
  'database_url',
  'worker_id',
  'advertise_url',
  'events_retention_hours',
  'lease_ttl_ms',
  'lease_renew_interval_ms',
  'worker_dead_after_ms',
  'forward_timeout_ms',
  'forward_owner_wait_ms',
] as const;

export const ACCOUNT_SETTING_NAMES = [
  'post_api',
  'post_api_secret',
  'post_api_max_attempts',
  'post_api_max_age_hours',
  'post_api_backoff_base_ms',
  'post_api_backoff_max_ms',
  'post_api_timeout_ms',
  'post_api_concurrency',
  'post_api_order',
  'post_api_hold_ms',
  'post_api_rejected_max_attempts',
  'post_event',
  'post_event_list',
  'post_media_data',
  'post_message_filter',
  'check_event_list_max_size',
  'broadcast_max',
  'stop_delay_ms',
  'history_retention_days',
  'media_dirs',
  'allow_private_media_urls',
  'send_interval_ms',
  'relogin',
  'desktop_mode',
  'download_media',
  'wechat_origin',
] as const satisfies readonly SettingName[];

export type AccountSettingName = (typeof ACCOUNT_SETTING_NAMES)[number];

const pickMask = <K extends string>(names: readonly K[]) => Object.fromEntries(names.map((n) => [n, true])) as { [P in K]: true };

export const AccountSettingsSchema = SettingsSchema.pick(pickMask(ACCOUNT_SETTING_NAMES)).strict();
export type AccountSettings = z.output<typeof AccountSettingsSchema>;

/** Process settings of the single-account command that mean nothing to the Controller (its accounts are named by client=). */
const NOT_CONTROLLER: readonly SettingName[] = ['account'];

export const PROCESS_SETTING_NAMES = SETTING_NAMES.filter(
  (n) => !(ACCOUNT_SETTING_NAMES as readonly string[]).includes(n) && !NOT_CONTROLLER.includes(n),
) as Exclude<SettingName, AccountSettingName | 'account'>[];

export const DEFAULT_CONTROLLER_PORT = CONTROLLER_DEFAULTS.port;
export const MAX_CLIENTS_LIMIT = 10_000;

const toNumber = (v: unknown) => (typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v);
const count = (min: number, max: number) => {
  const msg = `expected integer ${min}-${max}`;
  return z.preprocess(toNumber, z.number({ error: msg }).int({ error: msg }).min(min, { error: msg }).max(max, { error: msg }));
};

/** A `clients:` entry of a controller settings file: a name and its per-account settings (any of the account layer). */
const ClientEntrySchema = z.looseObject({ client: z.string({ error: 'each entry needs a client name' }).min(1, { error: 'each entry needs a client name' }) });

/** Every setting of `openwx controller`: the process layer, the account layer (defaults of new accounts), its own. */
export const ControllerSettingsSchema = SettingsSchema.omit(pickMask(NOT_CONTROLLER as ['account']))
  .extend({
    port: count(0, 65535).default(DEFAULT_CONTROLLER_PORT),
    /** Most accounts at once; start_client beyond answers code 5 "max clients exceed". */
    max_clients: count(1, MAX_CLIENTS_LIMIT).default(CONTROLLER_DEFAULTS.max_clients),
    /** With --sandbox: the number of independent WeChat users the embedded sandbox hosts. */
    sandbox_users: count(1, 1000).default(CONTROLLER_DEFAULTS.sandbox_users),
    /** Accounts to start at launch (settings file only). */
    clients: z.array(ClientEntrySchema, { error: 'expected a list of {client: NAME, …settings}' }).default([]),
    // --- cluster (docs/cluster.md): absent database_url = this controller alone, on SQLite
    /** The PostgreSQL the controllers of a cluster share (`--database`): postgres://USER:PASS@HOST:PORT/DB. A secret. */
    database_url: z
      .string({ error: 'expected a postgres:// URL' })
      .refine((v) => /^postgres(ql)?:\/\/[^\s]+$/i.test(v) && URL.canParse(v), { error: 'expected a postgres://USER:PASS@HOST:PORT/DB URL' })
      .optional(),
    /** This controller's id in the cluster; default `<hostname>:<port>` (`<hostname>:<pid>` with port 0). */
    worker_id: z
      .string({ error: 'expected letters, digits, _ . @ : -' })
      .regex(/^[\w.@:-]{1,128}$/, { error: 'expected 1-128 letters, digits, _ . @ : -' })
      .optional(),
    /** How the other controllers reach this one's API (forwarded requests); default the listen address. */
    advertise_url: z
      .string({ error: 'expected an http(s) URL' })
      .refine((v) => /^https?:\/\/[^\s]+$/i.test(v) && URL.canParse(v), { error: 'expected an http(s) URL' })
      .optional(),
    /** Rows of openwx_events older than this many hours are deleted. */
    events_retention_hours: count(1, 24 * 365 * 10).default(CLUSTER_DEFAULTS.events_retention_hours),
    /** An account's lease lasts this long after each renewal (at most 15 s): the failover delay of a dead controller. */
    lease_ttl_ms: count(1_000, 15_000).default(CLUSTER_DEFAULTS.lease_ttl_ms),
    /** How often leases are renewed (well below lease_ttl_ms); also the heartbeat and claim period (at most 2 s). */
    lease_renew_interval_ms: count(100, 10_000).default(CLUSTER_DEFAULTS.lease_renew_interval_ms),
    /** A controller without a heartbeat for this long gets no new accounts. */
    worker_dead_after_ms: count(1_000, 600_000).default(CLUSTER_DEFAULTS.worker_dead_after_ms),
    /** A request forwarded to an account's owner that is not answered within this gets an error (never repeated). */
    forward_timeout_ms: count(1_000, 3_600_000).default(CLUSTER_DEFAULTS.forward_timeout_ms),
    /** An account route for an account that is changing owner waits this long for its new owner before it is refused. */
    forward_owner_wait_ms: count(0, 60_000).default(CLUSTER_DEFAULTS.forward_owner_wait_ms),
  })
  .strict();
export type ControllerSettings = z.output<typeof ControllerSettingsSchema>;
export const CONTROLLER_SETTING_NAMES = Object.keys(ControllerSettingsSchema.shape);

/** A setting's value as the string a request parameter would carry (what the persisted account list stores). */
export function settingString(v: unknown): string {
  if (Array.isArray(v)) return v.map(String).join(',');
  if (v !== null && typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
