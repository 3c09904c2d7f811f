import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { account, sandbox, tempDir } from './helpers.ts';
import { nextEvent, recordEvents, waitFor } from '../helpers/wait-for.ts';

test('QR login: states, input_qrcode, login 1, user/friends/groups loaded; then resume without a scan after restart', async () => {
  const sb = await sandbox({ autoLoginMs: undefined });
  const tmp = tempDir();
  try {
    const a = account(sb, tmp.dir);
    const log = recordEvents(a, ['state_change', 'input_qrcode', 'login', 'update_user', 'update_friend', 'update_group']);
    const running = a.run();
    await nextEvent(a, 'input_qrcode');
    sb.handle.scan();
    await nextEvent(a, 'state_change', (_from, to) => to === 'confirming');
    sb.handle.confirm();
    await running;
    assert.equal(a.state, 'running');
    const states = log.filter((e) => e.name === 'state_change').map((e) => e.args.join('>'));
    assert.deepEqual(states, ['init>loading', 'loading>scaning', 'scaning>confirming', 'confirming>updating', 'updating>running']);
    const qr = log.find((e) => e.name === 'input_qrcode')!;
    assert.ok(existsSync(qr.args[0] as string) || a.qrcodePath() === null);
    assert.ok((qr.args[1] as string).length > 100, 'base64 QR image');
    assert.match(qr.args[2] as string, /^https:\/\/login\.weixin\.qq\.com\/l\//);
    assert.deepEqual(log.find((e) => e.name === 'login')!.args, [1]);
    const st = sb.handle.state();
    assert.equal(a.user()!.id, st.self.UserName);
    assert.equal(typeof a.user()!.uid, 'number');
    assert.ok(a.friends().length >= st.friends, `${a.friends().length} friends vs ${st.friends}`);
    assert.equal(a.groups().length, st.groups);
    const uid = a.user()!.id;
    const friendIds = a.friends().map((f) => f.id).sort();
    await a.stop();
    assert.equal(a.state, 'stop');

    const b = account(sb, tmp.dir);
    const log2 = recordEvents(b, ['state_change', 'input_qrcode', 'login']);
    await b.run();
    assert.deepEqual(log2.filter((e) => e.name === 'state_change').map((e) => e.args.join('>')), ['init>loading', 'loading>updating', 'updating>running']);
    assert.equal(log2.filter((e) => e.name === 'input_qrcode').length, 0);
    assert.deepEqual(log2.find((e) => e.name === 'login')!.args, [0]);
    assert.equal(b.user()!.id, uid);
    assert.deepEqual(b.friends().map((f) => f.id).sort(), friendIds);
    await b.stop();
  } finally {
    await sb.close();
    tmp.cleanup();
  }
});

test('text send is observed by the server and reported with Ret, MsgID and LocalID', async () => {
  const sb = await sandbox();
  const tmp = tempDir();
  const a = account(sb, tmp.dir);
  try {
    await a.run();
    const f = a.friends().find((x) => x.category === '好友' && x.id.startsWith('@'))!;
    const sent: unknown[] = [];
    a.on('send_message', (m) => sent.push(m));
    const r = await a.sendText(f.id, 'hello <b>&amp; 世界\nline2');
    assert.equal(r.code, 0);
    assert.match(r.msgId, /^\d+$/);
    assert.match(r.localId, /^\d{17}$/);
    const rec = await waitFor(() => sb.handle.sent().find((s) => JSON.stringify(s).includes(r.msgId)), 'sent record');
    assert.ok(JSON.stringify(rec).includes('hello'));
    assert.equal(sent.length, 1);
  } finally {
    await a.stop();
    await sb.close();
    tmp.cleanup();
  }
});

test('host family from the redirect (wx2): push/file hosts follow, kept across a resume; plain web mode logs in too', async () => {
  const sb = await sandbox({ pageHost: 'wx2.qq.com' });
  const tmp = tempDir();
  try {
    const a = account(sb, tmp.dir, { desktopMode: false });
    await a.run();
    assert.equal(a.info().pageHost, 'wx2.qq.com');
    const f = a.friends().find((x) => x.id.startsWith('@'))!;
    assert.equal((await a.sendText(f.id, 'on wx2')).code, 0);
    await a.stop();
    const b = account(sb, tmp.dir, { desktopMode: false });
    const login = nextEvent(b, 'login');
    await b.run();
    assert.deepEqual(await login, [0]);
    assert.equal(b.info().pageHost, 'wx2.qq.com');
    await b.stop();
  } finally {
    await sb.close();
    tmp.cleanup();
  }
});

test('logout(): webwxlogout, the session is forgotten (next start needs a login), logout + stop events', async () => {
  const sb = await sandbox();
  const tmp = tempDir();
  try {
    const a = account(sb, tmp.dir);
    await a.run();
    const log = recordEvents(a, ['logout', 'stop']);
    await a.logout();
    assert.deepEqual(log.map((e) => e.name), ['logout', 'stop']);
    await waitFor(() => sb.handle.state().login !== 'online', 'server-side logout');
    const b = account(sb, tmp.dir, { pushLogin: false });
    const events = recordEvents(b, ['input_qrcode', 'login']);
    await b.run();
    assert.equal(events.filter((e) => e.name === 'input_qrcode').length, 1);
    assert.deepEqual(events.find((e) => e.name === 'login')!.args, [1]);
    await b.stop();
  } finally {
    await sb.close();
    tmp.cleanup();
  }
});
