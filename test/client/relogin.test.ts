import { test } from 'node:test';
import assert from 'node:assert/strict';
import { account, sandbox, tempDir, testWorld } from './helpers.ts';
import { nextEvent, recordEvents } from '../helpers/wait-for.ts';
import { isOpenwxError } from '../../src/errors.ts';

test('restart with a dead session: push login (the phone confirms), no QR, login 1', async () => {
  const sb = await sandbox({ world: testWorld(), autoLoginMs: undefined });
  const tmp = tempDir();
  try {
    const a = account(sb, tmp.dir);
    const first = a.run();
    await nextEvent(a, 'input_qrcode');
    sb.handle.confirm();
    await first;
    await a.stop();
    sb.handle.logout(); // the server ends the saved session while we are down

    const b = account(sb, tmp.dir);
    const log = recordEvents(b, ['state_change', 'input_qrcode', 'login']);
    const run = b.run();
    await nextEvent(b, 'state_change', (_f, to) => to === 'confirming');
    sb.handle.confirm();
    await run;
    assert.deepEqual(log.filter((e) => e.name === 'state_change').map((e) => e.args.join('>')), [
      'init>loading', 'loading>confirming', 'confirming>updating', 'updating>running',
    ]);
    assert.equal(log.filter((e) => e.name === 'input_qrcode').length, 0);
    assert.deepEqual(log.find((e) => e.name === 'login')!.args, [1]);
    await b.stop();
  } finally {
    await sb.close();
    tmp.cleanup();
  }
});

test('push login refused or unanswered falls back to a QR code', async () => {
  const sb = await sandbox({ world: testWorld(), autoLoginMs: 30 });
  const tmp = tempDir();
  try {
    const a = account(sb, tmp.dir);
    await a.run();
    await a.stop();
    sb.handle.logout();
    sb.handle.fault({ endpoint: 'webwxpushloginurl', ret: 1, times: 1 });
    const b = account(sb, tmp.dir);
    const qr = nextEvent(b, 'input_qrcode');
    await b.run();
    await qr;
    await b.stop();
  } finally {
    await sb.close();
    tmp.cleanup();
  }
});

test('web login forbidden (ret 1203): login -1 with the server message, bounded QR attempts, then stop', async () => {
  const sb = await sandbox({ world: testWorld({ loginForbidden: true }), autoLoginMs: 30 });
  const tmp = tempDir();
  try {
    const a = account(sb, tmp.dir, { desktopMode: false, maxLoginRefusedRetries: 1 });
    const log = recordEvents(a, ['login', 'input_qrcode', 'stop', 'state_change']);
    await assert.rejects(a.run(), (e: unknown) => isOpenwxError(e, 'OWX_ERR_LOGIN_FORBIDDEN') && e.ret === 1203);
    assert.equal(a.state, 'stop');
    const logins = log.filter((e) => e.name === 'login');
    assert.equal(logins.length, 2);
    for (const l of logins) {
      assert.equal(l.args[0], -1);
      assert.ok(String(l.args[1]).length > 0, 'server message');
    }
    assert.equal(log.filter((e) => e.name === 'input_qrcode').length, 2);
    assert.equal(log.filter((e) => e.name === 'stop').length, 1);
    // the same account in UOS desktop mode gets in
    const b = account(sb, tmp.dir);
    await b.run();
    assert.equal(b.state, 'running');
    await b.stop();
  } finally {
    await sb.close();
    tmp.cleanup();
  }
});

test('QR attempts are bounded: no confirmation within maxQrAttempts stops with OWX_ERR_QR_LIMIT', async () => {
  const sb = await sandbox({ world: testWorld(), autoLoginMs: undefined, longPollMs: 50 });
  const tmp = tempDir();
  try {
    const a = account(sb, tmp.dir, { maxQrAttempts: 2, qrExpireAfterPolls: 2 });
    const log = recordEvents(a, ['input_qrcode', 'qrcode_expire']);
    await assert.rejects(a.run(), (e: unknown) => isOpenwxError(e, 'OWX_ERR_QR_LIMIT'));
    assert.equal(log.filter((e) => e.name === 'input_qrcode').length, 2);
    assert.equal(log.filter((e) => e.name === 'qrcode_expire').length, 2);
    assert.equal(a.state, 'stop');
  } finally {
    await sb.close();
    tmp.cleanup();
  }
});

test('logged out by the server: logout event, then relogin (push) with relogin + login 1; or stop with policy stop', async () => {
  const sb = await sandbox({ world: testWorld(), autoLoginMs: 30 });
  const tmp = tempDir();
  try {
    const a = account(sb, tmp.dir);
    await a.run();
    const oldId = a.user()!.id;
    const logout = nextEvent<[string, number]>(a, 'logout');
    const confirming = nextEvent(a, 'state_change', (_f, to) => to === 'confirming');
    const relogin = nextEvent(a, 'relogin', () => true, 15_000);
    sb.handle.logout();
    const [reason, ret] = await logout;
    assert.equal(ret, 1101);
    assert.match(reason, /1101/);
    await confirming;
    sb.handle.confirm();
    await relogin;
    assert.equal(a.state, 'running');
    assert.notEqual(a.user()!.id, oldId);
    await a.stop();

    const tmp2 = tempDir();
    const b = account(sb, tmp2.dir, { relogin: 'stop' });
    await b.run();
    const stopped = nextEvent(b, 'stop');
    sb.handle.logout();
    await stopped;
    assert.equal(b.state, 'stop');
    await assert.rejects(b.sendText('filehelper', 'x'), (e: unknown) => isOpenwxError(e, 'OWX_ERR_STOPPED'));
    tmp2.cleanup();
  } finally {
    await sb.close();
    tmp.cleanup();
  }
});
