/**
 * What the client puts on the wire, compared with the official client's captures. A recording proxy sits between
 * the Account and the sandbox (the Account's `wechatOrigin` is the proxy), so every request is seen as sent.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';

const gunzipMaybe = (b: Buffer) => (b[0] === 0x1f && b[1] === 0x8b ? gunzipSync(b) : b);
import { account, recordingProxy, sandbox, tempDir, testWorld } from './helpers.ts';
import { fixtureJson, httpExchanges } from '../helpers/fixtures.ts';
import type { Account } from '../../src/client/account.ts';
import type { Sandbox } from '../../src/sandbox/index.ts';

interface Seen {
  method: string;
  host: string;
  path: string;
  query: [string, string][];
  rawQuery: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

let sb: Sandbox;
let proxy: Server;
let a: Account;
const seen: Seen[] = [];
let loginPageBody = Buffer.alloc(0);
const tmp = tempDir();

before(async () => {
  sb = await sandbox({ world: testWorld() });
  let url: string;
  ({ server: proxy, url } = await recordingProxy(sb, {
    request(req, body) {
      const u = new URL(req.url!, 'http://x');
      seen.push({
        method: req.method!, host: String(req.headers.host), path: u.pathname, rawQuery: u.search.slice(1),
        query: u.search.slice(1).split('&').filter(Boolean).map((p) => { const i = p.indexOf('='); return [p.slice(0, i), p.slice(i + 1)] as [string, string]; }),
        headers: req.headers, body,
      });
    },
    answer({ req, upstream }) {
      if (!req.url!.split('?')[0]!.endsWith('/webwxnewloginpage')) return;
      const out: Buffer[] = [];
      upstream.on('data', (c: Buffer) => out.push(c));
      upstream.on('end', () => (loginPageBody = Buffer.concat(out)));
    },
  }));
  a = account({ ...sb, url }, tmp.dir);
  await a.run();
});
after(async () => {
  await a.stop();
  proxy.close();
  await sb.close();
  tmp.cleanup();
});

const find = (name: string) => seen.filter((s) => s.path.endsWith(`/${name}`));
const keys = (s: Seen) => s.query.map(([k]) => k);
const captureKeys = (file: string, i = 0) => {
  const line = httpExchanges(file)[i]!.request.split('\n')[0]!;
  const q = line.split(' ')[1]!.split('?')[1] ?? '';
  return q.split('&').filter(Boolean).map((p) => p.split('=')[0]!);
};

test('jslogin and the login poll: hosts, parameter order, r = ~ms, tip 1 then 0, desktop redirect', () => {
  const js = find('jslogin')[0]!;
  assert.equal(js.host, 'login.wx.qq.com');
  assert.deepEqual(keys(js), captureKeys('http-jslogin.qjesus.txt'));
  assert.equal(decodeURIComponent(js.query.find(([k]) => k === 'redirect_uri')![1]), 'https://wx.qq.com/cgi-bin/mmwebwx-bin/webwxnewloginpage?mod=desktop');
  const polls = find('login').filter((s) => s.host.startsWith('login.'));
  assert.deepEqual(keys(polls[0]!), captureKeys('http-login.qjesus.txt'));
  assert.equal(polls[0]!.query.find(([k]) => k === 'tip')![1], '1');
  if (polls[1]) assert.equal(polls[1].query.find(([k]) => k === 'tip')![1], '0');
  assert.ok(Number(polls[0]!.query.find(([k]) => k === 'r')![1]) < 0);
});

test('webwxnewloginpage: fun=new&version=v2&mod=desktop and the UOS headers, which no other request carries', () => {
  const p = find('webwxnewloginpage')[0]!;
  assert.deepEqual(keys(p).slice(-3), ['fun', 'version', 'mod']);
  assert.equal(p.headers['client-version'], '2.0.0');
  assert.match(String(p.headers['extspam']), /^Go8FCIkFEok/);
  assert.equal(p.headers['referer'], 'https://wx.qq.com/?&lang=zh_CN&target=t');
  assert.equal(seen.filter((s) => s.headers['extspam'] !== undefined).length, 1);
});

test('webwxinit: Uin as a string, r negative, pass_ticket double-encoded; later bodies carry a numeric Uin and a fresh DeviceID', () => {
  const init = find('webwxinit')[0]!;
  assert.deepEqual(keys(init), captureKeys('http-webwxinit.qjesus.txt'));
  const body = JSON.parse(init.body.toString());
  assert.deepEqual(Object.keys(body.BaseRequest), Object.keys(fixtureJson('webwxinit-request.wx2-2019.json').BaseRequest));
  assert.equal(typeof body.BaseRequest.Uin, 'string');
  assert.ok(Number(init.query[0]![1]) < 0);
  const pt = init.query.find(([k]) => k === 'pass_ticket')![1];
  const xml = gunzipMaybe(loginPageBody).toString();
  const fromXml = /<pass_ticket>(.*?)<\/pass_ticket>/.exec(xml)![1]!;
  assert.equal(pt, encodeURIComponent(fromXml), 'the XML value (already encoded) is encoded once more');
  const devices = new Set<string>();
  for (const s of seen.filter((x) => x.method === 'POST' && x.headers['content-type']?.toString().startsWith('application/json'))) {
    const b = JSON.parse(s.body.toString());
    if (!b.BaseRequest) continue;
    assert.match(b.BaseRequest.DeviceID, /^e\d{15}$/);
    devices.add(b.BaseRequest.DeviceID);
    if (!s.path.endsWith('/webwxinit')) assert.equal(typeof b.BaseRequest.Uin, 'number', s.path);
  }
  const posts = seen.filter((x) => x.method === 'POST' && String(x.headers['content-type']).startsWith('application/json')).length;
  assert.equal(devices.size, posts, 'DeviceID regenerated per request');
});

test('statusnotify, getcontact, batchgetcontact: order of the official client', () => {
  const sn = find('webwxstatusnotify')[0]!;
  assert.deepEqual(keys(sn), captureKeys('http-webwxstatusnotify.qjesus.txt'));
  const snb = JSON.parse(sn.body.toString());
  assert.deepEqual(Object.keys(snb), Object.keys(fixtureJson('webwxstatusnotify-request.qjesus.json')));
  assert.equal(snb.Code, 3);
  assert.equal(snb.FromUserName, snb.ToUserName);
  assert.deepEqual(keys(find('webwxgetcontact')[0]!), captureKeys('http-webwxgetcontact.qjesus.txt'));
  const bg = find('webwxbatchgetcontact')[0]!;
  assert.deepEqual(keys(bg), captureKeys('http-webwxbatchgetcontact.qjesus.txt'));
  const bb = JSON.parse(bg.body.toString());
  assert.ok(bb.Count <= 50 && bb.Count === bb.List.length);
  assert.deepEqual(Object.keys(bb.List[0]), ['UserName', 'EncryChatRoomId']);
});

test('synccheck on the push host and webwxsync: parameters, synckey, rr', async () => {
  // make sure a sync happened
  sb.handle.inject({ type: 'text', from: 'Ann', content: 'sync me' } as never);
  await new Promise<void>((resolve) => a.once('receive_message', () => resolve()));
  const sc = find('synccheck')[0]!;
  assert.equal(sc.host, 'webpush.wx.qq.com');
  assert.deepEqual(keys(sc), captureKeys('http-synccheck.qjesus.txt'));
  assert.match(decodeURIComponent(sc.query.find(([k]) => k === 'synckey')![1]), /^\d+_\d+(\|\d+_\d+)+$/);
  const sy = find('webwxsync')[0]!;
  assert.deepEqual(keys(sy), captureKeys('http-webwxsync.qjesus.txt'));
  const b = JSON.parse(sy.body.toString());
  assert.deepEqual(Object.keys(b), Object.keys(fixtureJson('webwxsync-request.qjesus.json')));
  assert.ok(b.rr < 0);
});

test('webwxsendmsg body like the capture; LocalID = ClientMsgId, 17 digits', async () => {
  const ann = a.searchFriends({ name: 'Ann' })[0]!.id;
  await a.sendText(ann, 'shape');
  const s = find('webwxsendmsg').at(-1)!;
  assert.deepEqual(keys(s), captureKeys('http-webwxsendmsg.qjesus.txt'));
  const b = JSON.parse(s.body.toString());
  const cap = fixtureJson('webwxsendmsg-request.qjesus.json');
  assert.deepEqual(Object.keys(b), Object.keys(cap));
  assert.deepEqual(Object.keys(b.Msg), Object.keys(cap.Msg));
  assert.equal(b.Msg.LocalID, b.Msg.ClientMsgId);
  assert.match(b.Msg.LocalID, /^\d{17}$/);
});

test('webwxuploadmedia: file host, multipart fields in browser order, chunks of 512 KiB', async () => {
  const ann = a.searchFriends({ name: 'Ann' })[0]!.id;
  const data = randomBytes(600 * 1024);
  await a.sendMedia(ann, { data, name: 'two-chunks.bin' });
  const ups = find('webwxuploadmedia');
  assert.equal(ups.length, 2);
  assert.equal(ups[0]!.host, 'file.wx.qq.com');
  const fields = (s: Seen) => [...s.body.toString('latin1').matchAll(/; name="([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(fields(ups[0]!), [
    'id', 'name', 'type', 'lastModifiedDate', 'size', 'chunks', 'chunk', 'mediatype', 'uploadmediarequest', 'webwx_data_ticket', 'pass_ticket', 'filename',
  ]);
  const umr = JSON.parse(/name="uploadmediarequest"\r\n\r\n(.*?)\r\n/s.exec(ups[0]!.body.toString())![1]!);
  assert.deepEqual(Object.keys(umr), ['UploadType', 'BaseRequest', 'ClientMediaId', 'TotalLen', 'StartPos', 'DataLen', 'MediaType', 'FromUserName', 'ToUserName', 'FileMd5']);
  assert.equal(umr.TotalLen, data.length);
  assert.match(umr.FileMd5, /^[0-9a-f]{32}$/);
  assert.ok(ups[0]!.body.length > 512 * 1024 && ups[0]!.body.length < 512 * 1024 + 4096);
});
