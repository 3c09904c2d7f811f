/** The library launcher `load('Openwx', …)` gets the same operator surface as the command. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Weixin, type OpenwxHandle } from '../../src/index.ts';
import { startSandbox } from '../../src/sandbox/index.ts';
import { callApi, silent } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait-for.ts';

test('load("Openwx"): console page, /readyz once logged in, /metrics and the OpenAPI document behind the token', async () => {
  const sb = await startSandbox({ port: 0, chatter: false, longPollMs: 300, autoLoginMs: 30 });
  const dataDir = mkdtempSync(join(tmpdir(), 'owx-ops-lib-'));
  const client = new Weixin({ wechatOrigin: sb.url, dataDir, showQrInTerminal: false, logger: silent, output: null });
  let handle: OpenwxHandle | null = null;
  const token = 'library-token-1';
  try {
    client.load('Openwx', { listen: { host: '127.0.0.1', port: 0 }, token, onStart: (h: OpenwxHandle) => (handle = h) });
    void client.run().catch(() => undefined);
    const base = (await waitFor(() => handle, 'Openwx started')).urls[0]!;
    assert.equal((await callApi(base, '/')).status, 200);
    await waitFor(async () => (await callApi(base, '/readyz')).status === 200, 'ready');
    assert.equal((await callApi(base, '/metrics')).status, 401);
    const m = await callApi(base, '/metrics', {}, 'query', { authorization: `Bearer ${token}` });
    assert.match(m.text, /^openwx_state\{account="default",state="running"\} 1$/m);
    const doc = await callApi(base, '/openwx/openapi.json', {}, 'query', { authorization: `Bearer ${token}` });
    assert.ok(doc.json.paths['/openwx/get_qrcode']);
  } finally {
    await client.stop('test done');
    await sb.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
