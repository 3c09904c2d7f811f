/**
 * OneBot 11 over real HTTP and WebSocket against the sandbox: token rules (401 missing, 403 wrong), 1404, the
 * actions, integer ids persisted and stable across a restart, CQ-code and array formats, message ids both ways.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, type Stack } from '../helpers/stack.ts';
import { Peer, get, post, TOKEN } from './helpers.ts';
import { fromCq, toCq } from '../../src/onebot/v11/cq.ts';
import { IdMap, IdWriter } from '../../src/onebot/ids.ts';
import { openDatabase } from '../../src/store/db.ts';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';

let s: Stack;
let base: string;
const auth = { authorization: `Bearer ${TOKEN}` };
const v11 = { http: true, ws: true, http_post: [], ws_reverse: [], heartbeat_ms: 0, message_format: 'array' as const };
const act = async (action: string, params: Record<string, unknown> = {}) => (await post(`${base}/onebot/v11/${action}`, params, auth)).json;

before(async () => {
  s = await startStack({ openwx: { onebot: { accessToken: TOKEN, v11 } } });
  base = s.base;
});
after(() => s.close());

test('v11 token: missing → 401, wrong → 403, Bearer / Token header / access_token query → served; unknown action → 404 1404', async () => {
  assert.equal((await get(`${base}/onebot/v11/get_status`)).status, 401);
  assert.equal((await get(`${base}/onebot/v11/get_status`, { authorization: 'Bearer wrong-token-x' })).status, 403);
  assert.equal((await get(`${base}/onebot/v11/get_status`, auth)).json.data.online, true);
  assert.equal((await get(`${base}/onebot/v11/get_status`, { authorization: `Token ${TOKEN}` })).status, 200);
  assert.equal((await get(`${base}/onebot/v11/get_status?access_token=${TOKEN}`)).status, 200);
  const nf = await get(`${base}/onebot/v11/set_qq_avatar`, auth);
  assert.equal(nf.status, 404);
  assert.equal(nf.json.retcode, 1404);
  const ws = `${base.replace('http', 'ws')}/onebot/v11/ws`;
  await assert.rejects(Peer.connect(ws), (e: any) => e.status === 401);
  await assert.rejects(Peer.connect(ws, { authorization: 'Bearer wrong-token-x' }), (e: any) => e.status === 403);
});

test('v11 info actions with integer ids; wx.get_wechat_id gives the WeChat id behind one', async () => {
  const me = await act('get_login_info');
  assert.equal(typeof me.data.user_id, 'number');
  assert.ok(Number.isSafeInteger(me.data.user_id) && me.data.user_id > 0);
  const friends = (await act('get_friend_list')).data as any[];
  const zw = friends.find((f) => f.remark === '老张' || f.nickname === '张伟');
  assert.ok(zw);
  assert.equal(typeof zw.user_id, 'number');
  assert.equal((await act('get_stranger_info', { user_id: zw.user_id })).data.user_id, zw.user_id);
  const w = await act('wx.get_wechat_id', { user_id: zw.user_id });
  assert.equal(w.data.wechat_id, s.friendId('张伟'));
  const groups = (await act('get_group_list')).data as any[];
  const fam = groups.find((g) => g.group_name === '相亲相爱一家人');
  assert.equal(typeof fam.group_id, 'number');
  assert.equal((await act('get_group_info', { group_id: String(fam.group_id) })).data.group_name, '相亲相爱一家人');
  const members = (await act('get_group_member_list', { group_id: fam.group_id })).data as any[];
  const m = await act('get_group_member_info', { group_id: fam.group_id, user_id: members[0].user_id });
  assert.equal(m.data.user_id, members[0].user_id);
  assert.equal((await act('get_group_info', { group_id: 12345 })).retcode, 100);
  assert.equal((await act('get_group_info', { group_id: 'abc' })).retcode, 100);
  assert.deepEqual((await act('can_send_image')).data, { yes: true });
  assert.deepEqual((await act('can_send_record')).data, { yes: false });
  assert.equal((await act('get_version_info')).data.protocol_version, 'v11');
  // GET with a query works as POST does
  assert.equal((await get(`${base}/onebot/v11/get_group_info?group_id=${fam.group_id}`, auth)).json.data.group_name, '相亲相爱一家人');
});

test('v11 send (CQ string and array, at, base64 image), get_msg and delete_msg with integer message ids', async () => {
  const zw = ((await act('get_friend_list')).data as any[]).find((f) => f.remark === '老张' || f.nickname === '张伟');
  const r = await act('send_private_msg', { user_id: zw.user_id, message: 'hi &#91;1&#93;' });
  assert.equal(r.status, 'ok', JSON.stringify(r));
  assert.equal(typeof r.data.message_id, 'number');
  const rec = s.sb.handle.sent().at(-1)!;
  assert.equal(rec.Content, 'hi [1]');
  assert.equal((await act('delete_msg', { message_id: r.data.message_id })).status, 'ok');
  assert.equal(s.sb.handle.sent().find((x) => x.MsgID === rec.MsgID)?.revoked, true);
  assert.equal((await act('delete_msg', { message_id: 42 })).retcode, 100);

  const fam = ((await act('get_group_list')).data as any[]).find((g) => g.group_name === '相亲相爱一家人');
  const members = (await act('get_group_member_list', { group_id: fam.group_id })).data as any[];
  const me = (await act('get_login_info')).data.user_id;
  const other = members.find((m) => m.user_id !== me);
  const g = await act('send_group_msg', { group_id: fam.group_id, message: [{ type: 'at', data: { qq: String(other.user_id) } }, { type: 'text', data: { text: ' 到' } }] });
  assert.equal(g.status, 'ok', JSON.stringify(g));
  assert.match(s.sb.handle.sent().at(-1)!.Content, /^@.+\u2005 到$/);

  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(100, 3)]);
  const img = await act('send_msg', { message_type: 'private', user_id: zw.user_id, message: `看图[CQ:image,file=base64://${png.toString('base64')}]` });
  assert.equal(img.status, 'ok', JSON.stringify(img));
  const last2 = s.sb.handle.sent().slice(-2);
  assert.equal(last2[0]!.Content, '看图');
  assert.ok(last2[1]!.MediaId);
  // both parts revoked by the one id
  assert.equal((await act('delete_msg', { message_id: img.data.message_id })).status, 'ok');
  assert.ok(s.sb.handle.sent().slice(-2).every((x) => x.revoked));
  assert.equal((await act('send_private_msg', { user_id: zw.user_id, message: [{ type: 'face', data: { id: '1' } }] })).retcode, 100);
});

test('v11 forward WebSocket: lifecycle, message events in array format with integer ids, actions with echo, get_msg', async () => {
  const ws = await Peer.connect(`${base.replace('http', 'ws')}/onebot/v11/ws`, auth);
  try {
    const life = await ws.next((m) => m.meta_event_type === 'lifecycle', 'lifecycle');
    assert.equal(life.sub_type, 'connect');
    s.sb.handle.inject({ type: 'text', from: '张伟', content: '十一' });
    const ev = await ws.next((m) => m.post_type === 'message' && m.raw_message === '十一', 'message');
    assert.equal(ev.message_type, 'private');
    assert.deepEqual(ev.message, [{ type: 'text', data: { text: '十一' } }]);
    assert.equal(ev.self_id, life.self_id);
    const zw = ((await ws.call('get_friend_list')).data as any[]).find((f) => f.remark === '老张' || f.nickname === '张伟');
    assert.equal(ev.user_id, zw.user_id);
    const got = await ws.call('get_msg', { message_id: ev.message_id });
    assert.equal(got.status, 'ok', JSON.stringify(got));
    assert.equal(got.data.message, '十一');
    const reply = await ws.call('send_private_msg', { user_id: ev.user_id, message: '收到' });
    assert.equal(reply.status, 'ok');
    assert.equal((await ws.call('nope')).retcode, 1404);
    s.sb.handle.inject({ type: 'image', from: '张伟' } as never);
    const im = await ws.next((m) => m.post_type === 'message' && m.message?.[0]?.type === 'image', 'image event');
    assert.match(im.message[0].data.file, /^file:\/\/\//, 'the downloaded file, in the event itself');
    assert.equal(im.message[0].data.url, im.message[0].data.file);
    const asyncR = await ws.call('send_private_msg_async', { user_id: ev.user_id, message: '异步' });
    assert.equal(asyncR.retcode, 1);
  } finally {
    ws.close();
  }
});

test('v11 ids: persisted per account, stable across a reopen, collisions resolved, both ways', () => {
  const dir = mkdtempSync(join(tmpdir(), 'owx-ids-'));
  const db = openDatabase(join(dir, 'openwx.db'));
  const a = new IdMap(db, 'acc');
  const n = a.num('user', 'stable-1');
  assert.equal(a.num('user', 'stable-1'), n);
  assert.equal(a.key('user', n), 'stable-1');
  assert.notEqual(new IdMap(db, 'other').num('user', 'stable-1'), n, 'keyed by account');
  // another key already holding the number a key would get: the later key gets another number
  db.prepare('INSERT INTO onebot_ids (account, kind, key, num) VALUES (?, ?, ?, ?)').run('acc', 'user', 'squatter', new IdMap(null, 'acc').num('user', 'stable-2'));
  const fresh = new IdMap(db, 'acc');
  const n2 = fresh.num('user', 'stable-2');
  assert.notEqual(n2, new IdMap(null, 'acc').num('user', 'stable-2'));
  assert.equal(fresh.key('user', n2), 'stable-2');
  db.close();
  const reopened = new IdMap(openDatabase(join(dir, 'openwx.db')), 'acc');
  assert.equal(reopened.num('user', 'stable-1'), n);
  assert.equal(reopened.num('user', 'stable-2'), n2);
});

test('v11 ids through the host\'s IdWriter: every bot\'s new rows written together at the end of the turn, the same numbers, kept', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'owx-ids-'));
  const db = openDatabase(join(dir, 'openwx.db'));
  const writer = new IdWriter(db);
  const a = new IdMap(db, 'a', undefined, 0, writer);
  const b = new IdMap(db, 'b', undefined, 0, writer);
  const nums = Array.from({ length: 50 }, (_, i) => [a.num('msg', `m${i}`), b.num('msg', `m${i}`)]);
  const count = () => (db.prepare('SELECT count(*) AS n FROM onebot_ids').get() as { n: number }).n;
  assert.equal(count(), 0, 'nothing written during the turn');
  assert.equal(writer.pending, 100);
  // Within the turn the map answers from memory, both ways, and a repeat gives the same number.
  assert.equal(a.num('msg', 'm3'), nums[3]![0]);
  assert.equal(b.key('msg', nums[7]![1]!), 'm7');
  assert.deepEqual(nums[0], [new IdMap(null, 'a').num('msg', 'm0'), new IdMap(null, 'b').num('msg', 'm0')], 'derived as without a writer');
  await new Promise((r) => setImmediate(r));
  assert.equal(count(), 100, 'written at the end of the turn');
  assert.equal(writer.pending, 0);
  a.num('user', 'late');
  writer.flush();
  assert.equal(count(), 101, 'flush writes what waits (close)');
  db.close();
  const again = new IdMap(openDatabase(join(dir, 'openwx.db')), 'a');
  assert.equal(again.key('msg', nums[49]![0]!), 'm49');
});

test('v11 ids: message ids are kept as long as the history keeps messages, people and groups for good', () => {
  const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'owx-ids-')), 'openwx.db'));
  const a = new IdMap(db, 'acc');
  const old = a.num('msg', '111');
  a.num('msg', '222');
  const person = a.num('user', 'p');
  db.prepare("UPDATE onebot_ids SET created_ms = ? WHERE key IN ('111', 'p')").run(Date.now() - 3 * 86_400_000);
  const b = new IdMap(db, 'acc', undefined, 2 * 86_400_000);
  assert.equal(b.key('msg', old), undefined, 'the old message id is gone');
  assert.equal(b.key('msg', b.num('msg', '222')), '222');
  assert.equal(b.key('user', person), 'p', 'a person is kept');
  db.close();
});

test('CQ codes: escapes both ways', () => {
  const segs = [
    { type: 'text', data: { text: 'a[b]&c,' } },
    { type: 'image', data: { file: 'x,y]' } },
  ];
  const cq = toCq(segs);
  assert.equal(cq, 'a&#91;b&#93;&amp;c,[CQ:image,file=x&#44;y&#93;]');
  assert.deepEqual(fromCq(cq), segs);
  assert.deepEqual(fromCq('[CQ:at,qq=1]', true), [{ type: 'text', data: { text: '[CQ:at,qq=1]' } }]);
});
