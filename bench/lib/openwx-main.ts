/**
 * The measured openwx process: what `openwx --wechat-origin … --post-api …` runs (src/cli/run.ts: settings through
 * the CLI's own loadSettings / clientOptionsOf / openwxOptionsOf, a Weixin client, startOpenwx), plus the
 * client-option overrides a benchmark needs (e.g. the send token bucket off) and an IPC channel to the runner:
 * `ready` (API URL), `state` (every state change with its wall-clock time), `stop`. Spawned by openwx-proc.ts.
 *
 *   node --import tsx --import ./bench/lib/probe.ts bench/lib/openwx-main.ts '<settings JSON>' '<client options JSON>'
 */
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { REDACT_PATHS } from '../../src/client/logger.ts';
import { startOpenwx } from '../../src/api/index.ts';
import { clientOptionsOf, loadSettings, openwxOptionsOf } from '../../src/cli/config.ts';
import { Weixin } from '../../src/index.ts';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const flags = JSON.parse(process.argv[2] ?? '{}') as Record<string, unknown>;
const overrides = JSON.parse(process.argv[3] ?? '{}') as Record<string, unknown>;
const send = (m: unknown) => process.send?.(m);

const settings = loadSettings({ flags, env: {} });
const logger = pino({ level: settings.log_level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, pino.destination(2));
const client = new Weixin({ ...clientOptionsOf(settings), showQrInTerminal: false, ...overrides, logger });
client.on('state_change', (from, to) => send({ op: 'state', from, to, t: Date.now() }));
const api = await startOpenwx(client, { ...openwxOptionsOf(settings), logger, version: VERSION });
send({ op: 'ready', url: api.urls[0], pid: process.pid });

let stopping = false;
async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  await client.stop('bench done').catch(() => undefined);
  await api.close(1_000).catch(() => undefined);
  process.exit(code);
}
process.on('message', (m) => {
  if ((m as { op?: string })?.op === 'stop') void stop(0);
});
process.on('disconnect', () => void stop(0));
client.run().catch((err: unknown) => {
  if (!stopping) {
    process.stderr.write(`openwx (bench): ${(err as Error)?.message ?? String(err)}\n`);
    void stop(1);
  }
});
