/**
 * `openwx [options]`: log one account in, show its messages (ShowMsg), serve the Openwx API and report to
 * post_api. With `--sandbox` it first starts an embedded sandbox and logs in to it with auto-confirm, so the whole
 * system runs offline (`npm run demo`). Settings: src/cli/config.ts. Exits 0 after stop_client, SIGINT or SIGTERM;
 * exit 2 on a bad setting; exit 1 when startup fails or the client stops without being asked to.
 */
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { printableUrl } from '../security/redact.ts';
import { commandLogger, prettyOutput, say, SANDBOX_AUTO_LOGIN_MS, VERSION } from './output.ts';
import { isLoopback } from '../api/options.ts';
import { startOpenwx, type OpenwxHandle } from '../host/index.ts';
import { clientOptionsOf, loadSettings, openwxOptionsOf, SETTING_NAMES, SettingsError, SettingsSchema, type Settings } from './config.ts';
import { addSettingFlags, flagsGiven } from './flags.ts';
import { stopOnSignals } from './signals.ts';
import { Weixin } from '../index.ts';
// The sandbox and pino-pretty are imported only when used (--sandbox, a terminal): ~2 MiB of heap otherwise.
import type { Sandbox } from '../sandbox/index.ts';

export function registerRunCommand(program: Command): void {
  // Every setting's flag comes from one table (src/cli/flags.ts), its default from the schema.
  const keys = addSettingFlags(program, SETTING_NAMES, SettingsSchema.parse({}));
  program
    .version(VERSION, '-V, --version')
    .option('--config <file>', 'YAML or JSON file of settings (also OPENWX_CONFIG)')
    .addHelpText(
      'after',
      '\nEvery setting is also read from OPENWX_<NAME> env vars (OPENWX_POST_API, …) and from --config;\n' +
        'precedence: flags > env > config file > defaults. See README.md and docs/api.md.\n' +
        '\nExamples:\n  openwx --sandbox                     # the offline demo (npm run demo)\n' +
        '  openwx --post-api http://127.0.0.1:4000/post_api\n',
    )
    .action(async (_opts: Record<string, unknown>, cmd: Command) => {
      const flags = flagsGiven(cmd, keys);
      const configFile = cmd.getOptionValue('config') as string | undefined;
      let settings: Settings;
      try {
        settings = loadSettings({ flags, env: process.env, configFile });
      } catch (e) {
        if (e instanceof SettingsError) {
          process.stderr.write(`openwx: ${e.message}\n`);
          process.exit(2);
        }
        throw e;
      }
      await runOpenwx(settings);
    });
}

export async function runOpenwx(settings: Settings): Promise<void> {
  // Secrets (token, post_api secret, cookies, skey, sid, pass_ticket, tickets) never reach the log: src/security/redact.ts.
  const logger: Logger = await commandLogger(settings);
  let sandbox: Sandbox | null = null;
  let client: Weixin | null = null;
  let api: OpenwxHandle | null = null;
  let exiting = false;
  /** Set when a stop was asked for (stop_client, SIGINT, SIGTERM): exit 0. Any other stop means the client cannot work: exit 1. */
  let asked: string | null = null;
  /** Why the client stopped by itself, as far as known (WeChat logged the session out). */
  let failure: string | null = null;

  const shutdown = async (code: number, why: string) => {
    if (exiting) return;
    exiting = true;
    logger.info({ why }, 'openwx stopping');
    const hard = setTimeout(() => process.exit(code), 10_000);
    hard.unref();
    try {
      if (client && client.state !== 'stop') await client.stop(why);
      await api?.close(3_000);
      await sandbox?.close();
    } catch (err) {
      logger.error({ err }, 'error while stopping');
      code = code || 1;
    }
    say(`openwx: stopped (${why})`);
    process.exit(code);
  };

  // From the start: a signal before the ready lines stops cleanly too (src/cli/signals.ts).
  const signals = stopOnSignals((signal) => {
    asked ??= signal;
    void shutdown(0, signal);
  });
  try {
    let origin = settings.wechat_origin;
    if (settings.sandbox) {
      const { startSandbox } = await import('../sandbox/index.ts');
      sandbox = await startSandbox({
        port: settings.sandbox_port,
        ...(typeof settings.sandbox === 'string' ? { world: settings.sandbox } : {}),
        autoLoginMs: SANDBOX_AUTO_LOGIN_MS,
        chatter: true,
        logger: logger.child({ module: 'sandbox' }),
      });
      origin = sandbox.url;
      say(`openwx: sandbox (fake WeChat) at ${sandbox.url}, control API ${sandbox.url}/__sandbox/`);
    }
    client = new Weixin({
      ...clientOptionsOf(settings, origin),
      // The sandbox confirms the QR by itself: no terminal QR to scan.
      ...(settings.sandbox ? { showQrInTerminal: false } : {}),
      logger,
    });
    // Readable output prints messages as plain lines; JSON output keeps them in the log stream.
    if (!settings.quiet) client.load('ShowMsg', prettyOutput(settings) ? { output: process.stdout } : {});
    // Started here rather than through load('Openwx') so a failure to listen stops the command with exit 1.
    api = await startOpenwx(client, {
      ...openwxOptionsOf(settings),
      logger,
      version: VERSION,
      onStopClientRequest: () => {
        asked ??= 'stop_client';
      },
      onStopClient: () => shutdown(0, 'stop_client'),
    });
    say(`openwx: Openwx API at ${api.urls[0]}/openwx/ (account ${client.account})`);
    say(`openwx: web console at ${api.urls[0]}/ (API docs ${api.urls[0]}/docs, health /healthz /readyz, metrics /metrics)`);
    if (settings.post_api) {
      say(`openwx: reporting to ${printableUrl(settings.post_api)}${settings.post_api_secret ? ' (signed)' : ''}, outbox ${settings.data_dir}/openwx.db`);
    }
    if (!settings.token && !isLoopback(settings.host)) {
      logger.warn({ host: settings.host }, 'the API listens beyond loopback WITHOUT a token (--insecure-no-auth): anyone who can reach it controls the account');
    }
  } catch (e) {
    const msg = (e as Error)?.message ?? String(e);
    process.stderr.write(`openwx: cannot start: ${msg}\n`);
    await api?.close(0).catch(() => undefined);
    await sandbox?.close().catch(() => undefined);
    process.exit((e as { code?: string }).code === 'OWX_ERR_CONFIG' ? 2 : 1);
  }

  const c = client!;
  c.on('logout', (reason) => {
    failure = reason;
  });
  // Exit codes (docs/operations.md, "Running as a service"): 0 after a stop that was asked for; 1 after any stop that
  // was not (login impossible, WeChat unreachable, logged out by WeChat with relogin=stop, a relogin that failed), so
  // a service manager restarts it (systemd Restart=on-failure).
  const ran = c.run().then(
    () => undefined,
    (err: unknown) => {
      if (asked !== null) return; // stopped on request while logging in
      const msg = (err as Error)?.message ?? String(err);
      logger.error({ err }, 'login failed');
      process.stderr.write(`openwx: ${msg}\n`);
      void shutdown(1, `login failed: ${msg}`);
    },
  );
  c.on('stop', () => {
    if (exiting) return;
    if (asked !== null) {
      void shutdown(0, asked);
      return;
    }
    // A failed login emits stop before run() rejects: wait for run() so the exit says why.
    void ran.then(() => shutdown(1, failure ?? 'the client stopped by itself'));
  });
  signals.started();
}
