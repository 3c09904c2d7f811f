/**
 * The measured openwx process: what `openwx --wechat-origin … --post-api …` runs (src/cli/run.ts: settings through
 * the CLI's own loadSettings / clientOptionsOf / openwxOptionsOf, a Weixin client, startOpenwx), plus the
 * client-option overrides a benchmark needs (e.g. the send token bucket off) and an IPC channel to the runner:
 * `ready` (API URL), `state` (every state change with its wall-clock time), `stop`. Spawned by openwx-proc.ts.
 *
 * Plain JavaScript that runs the compiled dist/ (what bin/openwx.js and `npm start` run; `npm run bench` builds
 * first). With BENCH_OPENWX_SRC=1 it runs src/ through tsx instead (openwx-proc.ts then adds `--import tsx`), to
 * compare the two.
 *
 *   node --import ./bench/lib/probe.mjs bench/lib/openwx-main.mjs '<settings JSON>' '<client options JSON>'
 */
import { readFileSync } from 'node:fs';
import { pino } from 'pino';

const fromSrc = process.env['BENCH_OPENWX_SRC'] === '1';
const mod = (p) => new URL(fromSrc ? `../../src/${p}.ts` : `../../dist/${p}.js`, import.meta.url).href;
const { REDACT_PATHS } = await import(mod('client/logger'));
const { startOpenwx } = await import(mod('api/index'));
const { clientOptionsOf, loadSettings, openwxOptionsOf } = await import(mod('cli/config'));
const { Weixin } = await import(mod('index'));

const VERSION = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;
const flags = JSON.parse(process.argv[2] ?? '{}');
const overrides = JSON.parse(process.argv[3] ?? '{}');
const send = (m) => process.send?.(m);

const settings = loadSettings({ flags, env: {} });
const logger = pino({ level: settings.log_level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, pino.destination(2));
const client = new Weixin({ ...clientOptionsOf(settings), showQrInTerminal: false, ...overrides, logger });
client.on('state_change', (from, to) => send({ op: 'state', from, to, t: Date.now() }));
const api = await startOpenwx(client, { ...openwxOptionsOf(settings), logger, version: VERSION });
send({ op: 'ready', url: api.urls[0], pid: process.pid });

let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  await client.stop('bench done').catch(() => undefined);
  await api.close(1_000).catch(() => undefined);
  process.exit(code);
}
process.on('message', (m) => {
  if (m?.op === 'stop') void stop(0);
});
process.on('disconnect', () => void stop(0));
client.run().catch((err) => {
  if (!stopping) {
    process.stderr.write(`openwx (bench): ${err?.message ?? String(err)}\n`);
    void stop(1);
  }
});
