/**
 * `openwx sandbox [--port 5030] [--host 127.0.0.1] [--world FILE] [--world-size F,G,M] [--users N] [--auto-login MS]
 *  [--chatter on|off] [--seed N] [--login-forbidden] [--page-host HOST] [--long-poll-ms MS] [--max-stored-messages N]`
 * Prints exactly one line with the base URL when ready; stops cleanly on SIGINT/SIGTERM.
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { SandboxOptions } from '../sandbox/index.ts';
import { MAX_USERS } from '../sandbox/world.ts';
import { SETTING_DEFAULTS } from '../settings/defaults.ts';

function int(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (v: string): number => {
    if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${name} must be a whole number`);
    const n = Number(v);
    if (n < min || n > max) throw new InvalidArgumentError(`${name} must be between ${min} and ${max}`);
    return n;
  };
}

function worldSize(v: string): { friends: number; groups: number; members: number } {
  const m = /^(\d+),(\d+),(\d+)$/.exec(v.trim());
  if (!m) throw new InvalidArgumentError('--world-size is F,G,M (friends, groups, members per group), e.g. 5000,500,200');
  const [friends, groups, members] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (friends > 100000 || groups > 20000 || members > 500) throw new InvalidArgumentError('--world-size: at most 100000 friends, 20000 groups, 500 members');
  return { friends, groups, members };
}

function onOff(v: string): boolean {
  if (v === 'on') return true;
  if (v === 'off') return false;
  throw new InvalidArgumentError('--chatter is on or off');
}

interface Flags {
  port: number;
  host: string;
  world?: string;
  worldSize?: { friends: number; groups: number; members: number };
  users?: number;
  autoLogin?: number;
  chatter: boolean;
  seed?: number;
  loginForbidden?: boolean;
  pageHost?: string;
  longPollMs?: number;
  maxStoredMessages?: number;
}

export function registerSandboxCommand(program: Command): void {
  program
    .command('sandbox')
    .description('run the sandbox: a protocol-faithful fake WeChat web server with a control API under /__sandbox/')
    .option('--port <port>', 'port to listen on (0 = any free port)', int('--port', 0, 65535), SETTING_DEFAULTS.sandbox_port)
    .option('--host <host>', 'address to bind', SETTING_DEFAULTS.host)
    .option('--world <file>', 'world JSON file (format: docs/sandbox.md; GET /__sandbox/world dumps one)')
    .option('--world-size <F,G,M>', 'generate F friends and G groups of M members for each user (deterministic from --seed)', worldSize)
    .option('--users <n>', `host N independent WeChat users, each with its own world (1-${MAX_USERS}; with --world: the file's count)`, int('--users', 1, MAX_USERS))
    .option('--auto-login <ms>', 'scan and confirm each new QR code this many ms after it is first fetched (as the next free user)', int('--auto-login', 0))
    .option('--chatter <on|off>', 'demo-world live traffic (a chatting group, a posting public account)', onOff, true)
    .option('--seed <n>', 'seed for --world-size and chatter', int('--seed', 0))
    .option('--login-forbidden', 'plain web login answers ret 1203 (UOS desktop mode still works)')
    .option('--page-host <host>', 'page host real-name clients are redirected to (wx.qq.com, wx2.qq.com, …)')
    .option('--long-poll-ms <ms>', 'long-poll hold time of synccheck and the login poll', int('--long-poll-ms', 1))
    .option('--max-stored-messages <n>', 'messages each session keeps for media downloads once the client has them (default 20000)', int('--max-stored-messages', 1))
    .action(async (f: Flags, cmd: Command) => {
      // Options are positional (src/cli/main.ts): the bridge's options given before `sandbox` would be ignored.
      const misplaced = cmd.parent?.options.filter((o) => cmd.parent?.getOptionValueSource(o.attributeName()) === 'cli') ?? [];
      if (misplaced.length > 0) {
        const given = misplaced.map((o) => o.long).join(', ');
        cmd.error(`error: ${given} given before "sandbox": options there belong to the bridge; put sandbox options after it (openwx sandbox --port 5031)`);
      }
      if (f.world && f.worldSize) throw new InvalidArgumentError('give either --world or --world-size, not both');
      const opts: SandboxOptions = { port: f.port, host: f.host, chatter: f.chatter };
      if (f.world) opts.world = f.world;
      if (f.worldSize) opts.worldSize = f.worldSize;
      if (f.users !== undefined) opts.users = f.users;
      if (f.autoLogin !== undefined) opts.autoLoginMs = f.autoLogin;
      if (f.seed !== undefined) opts.seed = f.seed;
      if (f.loginForbidden) opts.loginForbidden = true;
      if (f.pageHost) opts.pageHost = f.pageHost;
      if (f.longPollMs !== undefined) opts.longPollMs = f.longPollMs;
      if (f.maxStoredMessages !== undefined) opts.maxStoredMessages = f.maxStoredMessages;
      let sb;
      try {
        const { startSandbox } = await import('../sandbox/index.ts');
        sb = await startSandbox(opts);
      } catch (e) {
        process.stderr.write(`openwx sandbox: ${(e as Error).message}\n`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write(`openwx sandbox listening on ${sb.url}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await sb.close();
    },
  );
}
