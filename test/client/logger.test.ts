import { test } from 'node:test';
import assert from 'node:assert/strict';
import { safeUrl } from '../../src/client/logger.ts';

test('safeUrl hides session secrets in logged URLs', () => {
  const u = safeUrl('https://wx.qq.com/cgi-bin/mmwebwx-bin/webwxsync?sid=AbC%2B1&skey=@crypt_1_2&lang=zh_CN&pass_ticket=x%252B');
  assert.ok(!u.includes('AbC') && !u.includes('crypt') && !u.includes('x%25'), u);
  assert.ok(u.includes('lang=zh_CN'));
  assert.ok(!safeUrl('https://x/webwxnewloginpage?ticket=T@qrticket_0&uuid=U==').includes('qrticket'));
  assert.equal(safeUrl('not a url ?skey=abc'), 'not a url ?skey=…');
});

test('a whole login + send + receive at trace level logs no session secret', async () => {
  const { Writable } = await import('node:stream');
  const { pino } = await import('pino');
  const { readFileSync } = await import('node:fs');
  const { Account } = await import('../../src/client/account.ts');
  const { sandbox, tempDir, testWorld } = await import('./helpers.ts');
  const { nextEvent } = await import('../helpers/wait-for.ts');
  const sb = await sandbox({ world: testWorld() });
  const tmp = tempDir();
  let logs = '';
  const sink = new Writable({ write(c, _e, cb) { logs += String(c); cb(); } });
  const a = new Account({ wechatOrigin: sb.url, dataDir: tmp.dir, showQrInTerminal: false, sendIntervalMs: 0 }, { logger: pino({ level: 'trace' }, sink), output: null });
  try {
    await a.run();
    const ann = a.searchFriends({ name: 'Ann' })[0]!.id;
    await a.sendText(ann, 'x');
    const got = nextEvent(a, 'receive_message');
    sb.handle.inject({ type: 'image', from: 'Ann' } as never);
    await got;
    await a.stop();
    const saved = JSON.parse(readFileSync(`${tmp.dir}/session-default.json`, 'utf8'));
    const secrets = [saved.session.skey, saved.session.sid, saved.session.passTicket, decodeURIComponent(saved.session.passTicket)];
    for (const c of saved.session.cookies.cookies) if (['wxsid', 'webwx_data_ticket', 'webwx_auth_ticket'].includes(c.key)) secrets.push(c.value);
    assert.ok(logs.length > 1000, 'trace logs were written');
    for (const s of secrets) {
      assert.ok(s && s.length > 4);
      assert.ok(!logs.includes(s), `secret ${s.slice(0, 6)}… appears in the logs`);
      assert.ok(!logs.includes(encodeURIComponent(s)), `encoded secret ${s.slice(0, 6)}… appears in the logs`);
    }
  } finally {
    await a.stop();
    await sb.close();
    tmp.cleanup();
  }
});

test('the client default redaction list covers API and webhook secrets too (one list for the process)', async () => {
  const { Writable } = await import('node:stream');
  const { pino } = await import('pino');
  const { REDACT_PATHS } = await import('../../src/client/logger.ts');
  let out = '';
  const sink = new Writable({ write(c, _e, cb) { out += String(c); cb(); } });
  const log = pino({ level: 'info', redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink);
  log.info({ token: 'T0K', webwx_data_ticket: 'DT1', authorization: 'Bearer B2', skey: '@crypt_S3', req: { headers: { cookie: 'wxsid=C4' } } }, 'x');
  for (const s of ['T0K', 'DT1', 'B2', 'S3', 'C4']) assert.ok(!out.includes(s), `${s} leaked: ${out}`);
});
