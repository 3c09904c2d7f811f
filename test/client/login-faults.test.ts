import { test } from 'node:test';
import assert from 'node:assert/strict';
import { account, sandbox, tempDir, testWorld } from './helpers.ts';
import { recordEvents } from '../helpers/wait-for.ts';

test('login steps survive 5xx, garbage answers and server exceptions', async () => {
  const sb = await sandbox({ world: testWorld(), autoLoginMs: 30 });
  const tmp = tempDir();
  try {
    sb.handle.fault({ endpoint: 'jslogin', status: 500, times: 1 });
    sb.handle.fault({ endpoint: 'jslogin', body: 'window.QRLogin.code = 500;', times: 1 });
    sb.handle.fault({ endpoint: 'qrcode', status: 404, times: 1 }); // QR rendered locally instead
    sb.handle.fault({ endpoint: 'login', body: 'garbage', times: 1 });
    sb.handle.fault({ endpoint: 'webwxinit', status: 502, times: 1 });
    sb.handle.fault({ endpoint: 'webwxgetcontact', status: 500, times: 1 });
    sb.handle.fault({ endpoint: 'webwxbatchgetcontact', body: 'nope', times: 1 });
    const a = account(sb, tmp.dir);
    const log = recordEvents(a, ['input_qrcode', 'login']);
    await a.run();
    assert.equal(a.state, 'running');
    assert.match(String(log.find((e) => e.name === 'input_qrcode')!.args[0]), /qrcode-default\.png$/);
    assert.equal(a.groups().length, 3);
    await a.stop();
  } finally {
    await sb.close();
    tmp.cleanup();
  }
});

test('login poll answers 500 (server exception) and 400 (expired): a new QR each time', async () => {
  const sb = await sandbox({ world: testWorld(), autoLoginMs: 30 });
  const tmp = tempDir();
  try {
    sb.handle.fault({ endpoint: 'login', ret: 500, times: 1 });
    sb.handle.fault({ endpoint: 'login', ret: 400, times: 1 });
    sb.handle.fault({ endpoint: 'login', ret: 202, times: 1 });
    const a = account(sb, tmp.dir);
    const log = recordEvents(a, ['input_qrcode', 'qrcode_expire']);
    await a.run();
    assert.equal(log.filter((e) => e.name === 'input_qrcode').length, 4);
    assert.equal(log.filter((e) => e.name === 'qrcode_expire').length, 1);
    await a.stop();
  } finally {
    await sb.close();
    tmp.cleanup();
  }
});
