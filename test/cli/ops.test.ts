/**
 * The `openwx` command serves the operator surface next to the API: the console page (no token), health, readiness
 * once logged in, metrics (public with --metrics-public), the console data and the OpenAPI document (token).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSettings, openwxOptionsOf } from '../../src/cli/config.ts';
import { callApi } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait-for.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'src/cli/main.ts');
const env = { ...process.env, OPENWX_LOG_LEVEL: undefined, OPENWX_PORT: undefined } as NodeJS.ProcessEnv;

test('metrics_public: flag, env and default', () => {
  assert.equal(loadSettings({}).metrics_public, false);
  assert.equal(loadSettings({ flags: { metrics_public: true } }).metrics_public, true);
  assert.equal(openwxOptionsOf(loadSettings({ env: { OPENWX_METRICS_PUBLIC: 'yes' } })).metricsPublic, true);
});

test('openwx --sandbox serves the console, health, readiness, metrics and the OpenAPI document', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'owx-cli-ops-'));
  const token = 'cli-console-token';
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', MAIN, '--sandbox', '--port', '0', '--sandbox-port', '0', '--data-dir', dir, '--stop-delay-ms', '0', '--log-level', 'warn', '--quiet', '--token', token, '--metrics-public'],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const auth = { authorization: `Bearer ${token}` };
  try {
    const base = await waitFor(() => /web console at (http:\/\/[^/\s]+)\//.exec(out)?.[1], `console URL in output:\n${out}\n${err}`, 20_000);
    const page = await callApi(base, '/');
    assert.equal(page.status, 200);
    assert.match(page.text, /<title>openwx console<\/title>/);
    assert.equal((await callApi(base, '/healthz')).status, 200);
    await waitFor(async () => (await callApi(base, '/readyz')).status === 200, 'ready after the sandbox login', 20_000);
    const metrics = await callApi(base, '/metrics');
    assert.equal(metrics.status, 200, '--metrics-public');
    assert.match(metrics.text, /^openwx_state\{account="default",state="running"\} 1$/m);
    assert.equal((await callApi(base, '/console/api/overview')).status, 401);
    assert.equal((await callApi(base, '/console/api/overview', {}, 'query', auth)).json.state, 'running');
    const doc = await callApi(base, '/openwx/openapi.json', {}, 'query', auth);
    assert.equal(doc.json.openapi, '3.1.0');
    assert.equal((await callApi(base, 'stop_client', {}, 'query', auth)).json.code, 0);
    assert.equal(await exited, 0, `exit code; stderr:\n${err}`);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
