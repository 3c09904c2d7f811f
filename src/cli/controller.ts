/**
 * `openwx controller [options]`: many WeChat accounts in one process behind Mojo-Weixin's Controller API
 * (start_client, stop_client, check_client, get_qrcode, and every Openwx route with `client=NAME`). Every
 * per-account setting of `openwx` is accepted as the default of new accounts (src/cli/layers.ts); start_client's
 * parameters, or a settings file's `clients:` entries, override it per account. Same precedence as `openwx`
 * (flags > env > file > defaults) and the same one-line errors (exit 2). With `--sandbox` an embedded sandbox of
 * `--sandbox-users` WeChat users confirms every login by itself: the offline demo. docs/controller.md.
 */
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { printableUrl } from '../security/redact.ts';
import { commandLogger, say, SANDBOX_AUTO_LOGIN_MS, VERSION } from './output.ts';
import { isLoopback } from '../api/options.ts';
import { startController, type AccountFactory, type Host } from '../host/index.ts';
import { ClusterNode, type ClusterOptions } from '../cluster/node.ts';
import { clientNameProblem } from '../host/names.ts';
import { builtinPlugins } from '../plugins/builtin.ts';
import type { PluginRegistry } from '../plugins/registry.ts';
import { Weixin } from '../weixin.ts';
import type { Sandbox } from '../sandbox/index.ts';
import {
  clientOptionsOf,
  openwxOptionsOf,
  parseSettings,
  readConfigFile,
  readEnv,
  SettingsError,
  type Settings,
} from './config.ts';
import { watchLauncher } from './launch.ts';
import { addSettingFlags, flagsGiven } from './flags.ts';
import { stopOnSignals } from './signals.ts';
import {
  ACCOUNT_SETTING_NAMES,
  AccountSettingsSchema,
  CLUSTER_SETTING_NAMES,
  CONTROLLER_SETTING_NAMES,
  ControllerSettingsSchema,
  PROCESS_SETTING_NAMES,
  settingString,
  type ControllerSettings,
} from './layers.ts';

const ACCOUNT_NAMES: ReadonlySet<string> = new Set(ACCOUNT_SETTING_NAMES);
const PROCESS_NAMES: ReadonlySet<string> = new Set([...PROCESS_SETTING_NAMES, 'account', 'max_clients', 'sandbox_users', 'clients', ...CLUSTER_SETTING_NAMES]);

export interface ControllerSources {
  flags?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  configFile?: string | undefined;
}

/** Merges flags > env > file > defaults and validates, `clients:` entries included; throws SettingsError (one line). */
export function loadControllerSettings(src: ControllerSources): ControllerSettings {
  const env = src.env ?? {};
  const configFile = src.configFile ?? env['OPENWX_CONFIG'];
  const file = configFile ? readConfigFile(configFile, CONTROLLER_SETTING_NAMES) : {};
  const raw: Record<string, unknown> = { ...file, ...readEnv(env, CONTROLLER_SETTING_NAMES.filter((n) => n !== 'clients')) };
  for (const [k, v] of Object.entries(src.flags ?? {})) if (v !== undefined) raw[k] = v;
  const s = parseSettings(ControllerSettingsSchema, raw);
  const seen = new Set<string>();
  for (const [i, entry] of s.clients.entries()) {
    const { client, ...rest } = entry;
    const why = clientNameProblem(client);
    if (why) throw new SettingsError(`invalid setting clients[${i}]: client name ${JSON.stringify(client)}: ${why}`);
    if (seen.has(client)) throw new SettingsError(`invalid setting clients[${i}]: client ${client} is listed twice`);
    seen.add(client);
    try {
      accountOverrides(stringSettings(rest));
    } catch (e) {
      throw new SettingsError(`invalid setting clients[${i}] (${client}): ${(e as Error).message}`);
    }
  }
  return s;
}

/** Settings as request parameters carry them (strings, snake_case keys). */
function stringSettings(o: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== null) out[k.replace(/-/g, '_')] = settingString(v);
  return out;
}

/**
 * The account-layer settings named in `raw` (start_client's parameters), validated. Process-layer settings are
 * ignored (the controller's apply, as Mojo's controller overrode log_level & co.); any other name is refused.
 */
export function accountOverrides(raw: Record<string, string>): Partial<Settings> {
  const given: Record<string, string> = {};
  for (const [k0, v] of Object.entries(raw)) {
    const k = k0.replace(/-/g, '_');
    if (ACCOUNT_NAMES.has(k)) given[k] = v;
    else if (!PROCESS_NAMES.has(k)) throw new SettingsError(`unknown setting ${k0} (per-account settings: ${ACCOUNT_SETTING_NAMES.join(', ')})`);
  }
  const parsed = parseSettings(AccountSettingsSchema, given) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(given)) out[k] = parsed[k];
  return out as Partial<Settings>;
}

/** The settings of the `openwx` command these controller settings stand for (process layer + account defaults). */
function baseSettings(s: ControllerSettings): Settings {
  const { max_clients: _m, sandbox_users: _u, clients: _c, ...cluster } = s;
  const rest: Record<string, unknown> = { ...cluster };
  for (const k of CLUSTER_SETTING_NAMES) delete rest[k];
  return { ...(rest as Omit<ControllerSettings, 'max_clients' | 'sandbox_users' | 'clients' | (typeof CLUSTER_SETTING_NAMES)[number]>), account: 'controller' };
}

export interface FactoryOptions {
  logger: Logger;
  plugins: PluginRegistry;
  /** The embedded sandbox's origin: the accounts' default WeChat origin. */
  origin?: string | undefined;
  /** Show each account's QR in the terminal (no sandbox, a terminal). */
  showQr?: boolean;
}

/** Makes the Controller's accounts: a Weixin per name, its files under `<data_dir>/accounts/NAME/`. */
export function accountFactory(s: ControllerSettings, o: FactoryOptions): AccountFactory {
  const base = baseSettings(s);
  return {
    check: (raw) => void accountOverrides(raw),
    create(name, raw) {
      const full: Settings = { ...base, ...accountOverrides(raw), account: name, data_dir: join(resolve(s.data_dir), 'accounts', name) };
      const origin = raw['wechat_origin'] !== undefined ? full.wechat_origin : (o.origin ?? full.wechat_origin);
      const client = new Weixin({
        ...clientOptionsOf(full, origin),
        showQrInTerminal: o.showQr === true,
        logger: o.logger,
        plugins: o.plugins,
      });
      if (!s.quiet) client.load('ShowMsg');
      return { client, options: openwxOptionsOf(full) };
    },
  };
}

export function registerControllerCommand(program: Command): void {
  const cmd = program
    .command('controller')
    .description("many WeChat accounts in one process behind Mojo-Weixin's Controller API (docs/controller.md)");
  const defaults = ControllerSettingsSchema.parse({});
  const keys = addSettingFlags(cmd, [...PROCESS_SETTING_NAMES, ...ACCOUNT_SETTING_NAMES], defaults, {
    port: 'Controller API port (0 = any free port)',
    data_dir: 'the shared database (openwx.db) and each account under accounts/NAME/',
    post_api: "accounts' default post_api (client=NAME is added to its query; start_client may give its own)",
    sandbox: 'start an embedded sandbox of --sandbox-users WeChat users (optionally a world JSON file) and log in to it',
  });
  cmd
    .option('--max-clients <n>', `most accounts at once (default ${defaults.max_clients})`)
    .option('--sandbox-users <n>', `WeChat users of the embedded sandbox (default ${defaults.sandbox_users})`)
    .option('--database <url>', 'cluster: the PostgreSQL shared by the controllers, postgres://USER:PASS@HOST:PORT/DB (docs/cluster.md)')
    .option('--worker-id <id>', "cluster: this controller's id (default <hostname>:<port>)")
    .option('--advertise-url <url>', 'cluster: the URL the other controllers reach this API at (default the listen address)')
    .option('--events-retention-hours <n>', `cluster: hours openwx_events rows are kept (default ${defaults.events_retention_hours})`)
    .option('--lease-ttl-ms <ms>', `cluster: an account's lease length, at most 15000 (default ${defaults.lease_ttl_ms})`)
    .option('--lease-renew-interval-ms <ms>', `cluster: lease renewal period (default ${defaults.lease_renew_interval_ms})`)
    .option('--worker-dead-after-ms <ms>', `cluster: a controller silent this long gets no new accounts (default ${defaults.worker_dead_after_ms})`)
    .option('--forward-timeout-ms <ms>', `cluster: a forwarded request's time limit (default ${defaults.forward_timeout_ms})`)
    .option('--forward-owner-wait-ms <ms>', `cluster: how long a request for an account changing owner waits for the new one (default ${defaults.forward_owner_wait_ms})`)
    .option('--config <file>', 'YAML or JSON file of settings, with `clients:` to start at launch (also OPENWX_CONFIG)')
    .addHelpText(
      'after',
      '\nEvery per-account setting is the default of new accounts; start_client?client=NAME&<setting>=… overrides it.\n' +
        'Settings are also read from OPENWX_<NAME> env vars and --config; precedence: flags > env > config file > defaults.\n' +
        '\nExamples:\n  openwx controller --sandbox --sandbox-users 3   # the offline demo\n' +
        '  openwx controller --post-api http://127.0.0.1:4000/post_api\n',
    )
    .action(async (_opts: Record<string, unknown>, c: Command) => {
      const flags = flagsGiven(c, keys);
      for (const [setting, key] of [
        ['max_clients', 'maxClients'],
        ['sandbox_users', 'sandboxUsers'],
        ['database_url', 'database'],
        ['worker_id', 'workerId'],
        ['advertise_url', 'advertiseUrl'],
        ['events_retention_hours', 'eventsRetentionHours'],
        ['lease_ttl_ms', 'leaseTtlMs'],
        ['lease_renew_interval_ms', 'leaseRenewIntervalMs'],
        ['worker_dead_after_ms', 'workerDeadAfterMs'],
        ['forward_timeout_ms', 'forwardTimeoutMs'],
        ['forward_owner_wait_ms', 'forwardOwnerWaitMs'],
      ] as const) {
        if (c.getOptionValueSource(key) === 'cli') flags[setting] = c.getOptionValue(key);
      }
      let settings: ControllerSettings;
      try {
        settings = loadControllerSettings({ flags, env: process.env, configFile: c.getOptionValue('config') as string | undefined });
      } catch (e) {
        if (e instanceof SettingsError) {
          process.stderr.write(`openwx controller: ${e.message}\n`);
          process.exit(2);
        }
        throw e;
      }
      await runController(settings);
    });
}

export interface ControllerRuntime {
  logger: Logger;
  /** The embedded sandbox's origin (the accounts' default WeChat origin). */
  origin?: string | undefined;
  showQr?: boolean;
  /** Cluster timings (tests: short leases); the settings give the rest. */
  cluster?: Partial<Pick<ClusterOptions, 'leaseTtlMs' | 'leaseRenewIntervalMs' | 'leaseSafetyMs' | 'heartbeatIntervalMs' | 'workerDeadAfterMs' | 'claimIntervalMs' | 'forwardTimeoutMs' | 'forwardOwnerWaitMs' | 'queryTimeoutMs' | 'connectTimeoutMs'>> | undefined;
}

/** The default worker id of a cluster member: `<hostname>:<port>`, or `<hostname>:<pid>` when the port is 0. */
export function defaultWorkerId(port: number): string {
  return `${hostname()}:${port || process.pid}`;
}

/**
 * The Controller these settings describe, listening (what `openwx controller` runs; tests start it too). With
 * `database_url` it joins the cluster of that PostgreSQL (docs/cluster.md): the schema is migrated first, the account
 * list lives there (settings file `clients:` are added to it) and start_client places accounts cluster-wide.
 */
export async function startControllerFrom(settings: ControllerSettings, rt: ControllerRuntime): Promise<Host> {
  const plugins = builtinPlugins();
  const initialClients = settings.clients.map(({ client, ...rest }) => ({ client, settings: stringSettings(rest) }));
  const cluster = settings.database_url
    ? await ClusterNode.open({
        databaseUrl: settings.database_url,
        workerId: settings.worker_id ?? defaultWorkerId(settings.port),
        advertiseUrl: settings.advertise_url,
        logger: rt.logger,
        eventsRetentionHours: settings.events_retention_hours,
        leaseTtlMs: settings.lease_ttl_ms,
        leaseRenewIntervalMs: settings.lease_renew_interval_ms,
        workerDeadAfterMs: settings.worker_dead_after_ms,
        forwardTimeoutMs: settings.forward_timeout_ms,
        forwardOwnerWaitMs: settings.forward_owner_wait_ms,
        initialClients,
        ...rt.cluster,
      })
    : null;
  let host: Host | null = null;
  try {
    host = await startController({
      ...openwxOptionsOf(baseSettings(settings)),
      logger: rt.logger,
      version: VERSION,
      maxClients: settings.max_clients,
      accounts: accountFactory(settings, { logger: rt.logger, plugins, origin: rt.origin, showQr: rt.showQr === true }),
      initialClients: cluster ? [] : initialClients,
      cluster: cluster ?? undefined,
    });
    await cluster?.start();
    return host;
  } catch (e) {
    if (host) await host.close(0).catch(() => undefined);
    else await cluster?.close().catch(() => undefined);
    throw e;
  }
}

export async function runController(settings: ControllerSettings): Promise<void> {
  const logger: Logger = await commandLogger(settings);
  let sandbox: Sandbox | null = null;
  let host: Host | null = null;
  let exiting = false;
  const shutdown = async (code: number, why: string) => {
    if (exiting) return;
    exiting = true;
    logger.info({ why }, 'openwx controller stopping');
    const hard = setTimeout(() => process.exit(code), 15_000);
    hard.unref();
    try {
      await host?.close(3_000);
      await sandbox?.close();
    } catch (err) {
      logger.error({ err }, 'error while stopping');
      code = code || 1;
    }
    say(`openwx controller: stopped (${why})`);
    process.exit(code);
  };

  // From the start: a signal before the ready lines stops cleanly too (src/cli/signals.ts).
  const signals = stopOnSignals((signal) => void shutdown(0, signal));
  try {
    let origin: string | undefined;
    if (settings.sandbox) {
      const { startSandbox } = await import('../sandbox/index.ts');
      sandbox = await startSandbox({
        port: settings.sandbox_port,
        users: settings.sandbox_users,
        ...(typeof settings.sandbox === 'string' ? { world: settings.sandbox } : {}),
        autoLoginMs: SANDBOX_AUTO_LOGIN_MS,
        chatter: true,
        logger: logger.child({ module: 'sandbox' }),
      });
      origin = sandbox.url;
      say(`openwx controller: sandbox (fake WeChat, ${settings.sandbox_users} users) at ${sandbox.url}, control API ${sandbox.url}/__sandbox/`);
    }
    host = await startControllerFrom(settings, { logger, origin, showQr: !settings.sandbox && process.stdout.isTTY === true });
    const url = host.urls[0]!;
    say(`openwx controller: Controller API at ${url}/openwx/ (start_client, stop_client, check_client; max ${settings.max_clients} accounts)`);
    say(`openwx controller: ${host.accounts().length} account(s) started; health /healthz /readyz, metrics /metrics`);
    if (settings.database_url) say(`openwx controller: cluster member ${settings.worker_id ?? defaultWorkerId(settings.port)} of ${printableUrl(settings.database_url)} (docs/cluster.md)`);
    if (settings.post_api) say(`openwx controller: accounts report to ${printableUrl(settings.post_api)} (with client=NAME) unless start_client gives a post_api`);
    if (settings.sandbox) say(`openwx controller: try ${url}/openwx/start_client?client=alice then ${url}/openwx/check_client`);
    if (!settings.token && !isLoopback(settings.host)) {
      logger.warn({ host: settings.host }, 'the Controller API listens beyond loopback WITHOUT a token (--insecure-no-auth): anyone who can reach it controls every account');
    }
  } catch (e) {
    process.stderr.write(`openwx controller: cannot start: ${(e as Error)?.message ?? String(e)}\n`);
    await host?.close(0).catch(() => undefined);
    await sandbox?.close().catch(() => undefined);
    process.exit((e as { code?: string }).code === 'OWX_ERR_CONFIG' ? 2 : 1);
  }
  // Under the launcher (src/cli/launch.ts) a terminal's Ctrl-C arrives twice (the terminal signals both processes, the
  // launcher forwards it): the second must not end the stop half-way; shutdown() runs once.
  signals.started();
  watchLauncher(() => void shutdown(0, 'the launcher process is gone'));
}
