import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Weixin, isOpenwxError } from '../../src/index.ts';
import { sandbox, silent, tempDir, testWorld } from './helpers.ts';
import { nextEvent, waitFor } from '../helpers/wait-for.ts';

function sink() {
  const lines: string[] = [];
  const out = new Writable({
    write(c, _e, cb) {
      lines.push(...String(c).split('\n').filter(Boolean));
      cb();
    },
  });
  return { lines, out };
}

test('Weixin: plugins by priority, ShowMsg lines, searchFriend, sendMessage to an object, terminal QR with the URL line', async () => {
  const sb = await sandbox({ world: testWorld() });
  const tmp = tempDir();
  const term = sink();
  const shown = sink();
  const order: string[] = [];
  try {
    const c = new Weixin({ wechatOrigin: sb.url, dataDir: tmp.dir, sendIntervalMs: 0, logger: silent, output: term.out });
    c.plugins.register('TestLow', () => void order.push('low'), 1);
    c.load('TestLow');
    c.load('ShowMsg', { output: shown.out });
    c.load((client, data: { tag: string }) => {
      assert.equal(client, c);
      order.push(data.tag);
    }, { tag: 'high' }, { priority: 200 });
    assert.throws(() => c.load('NoSuchPlugin'), (e: unknown) => isOpenwxError(e, 'OWX_ERR_CONFIG'));
    await c.run();
    assert.deepEqual(order, ['high', 'low']);
    assert.ok(term.lines.some((l) => /open: https:\/\/login\.weixin\.qq\.com\/l\/\S+/.test(l)), 'plain URL line');
    assert.ok(term.lines.length > 10, 'the QR drawn in the terminal');

    const ann = c.searchFriend({ name: 'Ann' })!;
    assert.equal(ann.markname, 'ann-r');
    assert.equal(c.searchGroup({ name: 'Team' })!.name, 'Team');
    assert.equal(c.searchFriend({ name: 'Nobody' }), undefined);
    const r = await c.sendMessage(ann, 'hi from the library');
    assert.equal(r.code, 0);
    await waitFor(() => shown.lines.find((l) => l.includes('hi from the library')), 'ShowMsg line of the send');
    assert.match(shown.lines.find((l) => l.includes('hi from the library'))!, /^\[好友消息\] 我 → ann-r : hi from the library$/);
    sb.handle.inject({ type: 'text', from: 'Bob', group: 'Team', content: 'two\nlines' } as never);
    const line = await waitFor(() => shown.lines.find((l) => l.startsWith('[群消息] Bob')), 'group line');
    assert.equal(line, '[群消息] Bob | Team : two ⏎ lines');
    const renamed = nextEvent(c, 'group_property_change');
    sb.handle.contacts({ op: 'rename_group', group: 'Team', topic: 'Team X' } as never);
    await renamed;
    await waitFor(() => shown.lines.find((l) => l === '[群属性变化] Team X name: Team → Team X'), 'property line');
    await c.stop();
  } finally {
    await sb.close();
    tmp.cleanup();
  }
});

test('stop() while waiting for a scan: run() rejects, state stop, QR file removed', async () => {
  const sb = await sandbox({ world: testWorld(), autoLoginMs: undefined });
  const tmp = tempDir();
  try {
    const c = new Weixin({ wechatOrigin: sb.url, dataDir: tmp.dir, logger: silent, output: null });
    const run = c.run();
    const [path] = await nextEvent<[string]>(c, 'input_qrcode');
    assert.equal(c.qrcodePath(), path);
    await c.stop('test');
    await assert.rejects(run, (e: unknown) => isOpenwxError(e, 'OWX_ERR_STOPPED'));
    assert.equal(c.state, 'stop');
    assert.equal(c.qrcodePath(), null);
    await assert.rejects(c.sendText('filehelper', 'x'), (e: unknown) => isOpenwxError(e, 'OWX_ERR_STOPPED'));
  } finally {
    await sb.close();
    tmp.cleanup();
  }
});

test('stable_id stays the same across a QR relogin (new wire ids), also for a renamed friend', async () => {
  const sb = await sandbox({ world: testWorld() });
  const tmp = tempDir();
  const c = new Weixin({ wechatOrigin: sb.url, dataDir: tmp.dir, logger: silent, output: null, pushLogin: false, sendIntervalMs: 0 });
  try {
    await c.run();
    const before = new Map(c.friends().map((f) => [f.name, f.stable_id]));
    const groupsBefore = new Map(c.groups().map((g) => [g.name, g.stable_id]));
    // Cat is in no group (the sandbox shows a friend's remark as its member NickName, which feeds group keys)
    const catId = c.searchFriend({ name: 'Cat' })!.id;
    const annId = c.searchFriend({ name: 'Ann' })!.id;
    const changed = nextEvent(c, 'friend_property_change');
    await c.setRemark(catId, 'Kitty');
    await changed;
    assert.equal(c.friend(catId)!.stable_id, before.get('Cat'));
    const relogin = nextEvent(c, 'relogin', () => true, 15_000);
    sb.handle.logout();
    await relogin;
    assert.notEqual(c.searchFriend({ name: 'Ann' })!.id, annId, 'WeChat ids changed');
    for (const f of c.friends()) assert.equal(f.stable_id, before.get(f.name), `${f.name} ${JSON.stringify(f)}`);
    for (const g of c.groups()) assert.equal(g.stable_id, groupsBefore.get(g.name), g.name);
    assert.equal(c.searchFriend({ name: 'Cat' })!.markname, 'Kitty');
  } finally {
    await c.stop();
    await sb.close();
    tmp.cleanup();
  }
});

test('fetchGroupMemberDetails: members carry full details (sex, province) after login', async () => {
  const sb = await sandbox({ world: testWorld() });
  const tmp = tempDir();
  try {
    const c = new Weixin({ wechatOrigin: sb.url, dataDir: tmp.dir, logger: silent, output: null, fetchGroupMemberDetails: true });
    await c.run();
    const team = c.searchGroup({ name: 'Team' })!;
    const ann = team.member.find((m) => m.markname === 'Ann')!;
    assert.equal(ann.sex, 'female');
    assert.equal(ann.province, '广东');
    await c.stop();
  } finally {
    await sb.close();
    tmp.cleanup();
  }
});
