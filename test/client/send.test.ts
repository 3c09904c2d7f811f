import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { account, sandbox, tempDir, testWorld } from './helpers.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { isOpenwxError } from '../../src/errors.ts';
import type { Account } from '../../src/client/account.ts';
import type { Sandbox } from '../../src/sandbox/index.ts';

let sb: Sandbox;
let a: Account;
const tmp = tempDir();
const jpg = Buffer.from(jpeg.encode({ width: 16, height: 16, data: Buffer.alloc(16 * 16 * 4, 200) }, 80).data);
const gif = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

before(async () => {
  sb = await sandbox({ world: testWorld() });
  // allowPrivateMediaUrls: the URL media test fetches from a local server (loopback is refused by default).
  a = account(sb, tmp.dir, { mediaSizeMaxBytes: 4 * 1024 * 1024, allowPrivateMediaUrls: true });
  await a.run();
});
after(async () => {
  await a.stop();
  await sb.close();
  tmp.cleanup();
});

const ann = () => a.searchFriends({ name: 'Ann' })[0]!.id;
const team = () => a.searchGroups({ name: 'Team' })[0]!.id;
const record = (msgId: string) => waitFor(() => sb.handle.sent().find((s) => s.MsgID === msgId), `sent record ${msgId}`);

test('image from a path: uploaded, sent with webwxsendmsgimg, media_id returned', async () => {
  const p = join(tmp.dir, 'pic.jpg');
  writeFileSync(p, jpg);
  const r = await a.sendMedia(ann(), { path: p });
  assert.equal(r.code, 0, r.status);
  assert.match(r.mediaId!, /^@crypt_.+:3$|^.+:3$/);
  const rec = await record(r.msgId);
  assert.equal(rec.endpoint, 'webwxsendmsgimg');
  assert.equal(rec.Type, 3);
  assert.equal(rec.MediaId, r.mediaId!.slice(0, r.mediaId!.lastIndexOf(':')));
  assert.equal(r.message!.format, 'media');
  assert.equal(r.message!.media_type, 'image');
});

test('gif goes as an emoticon, mp4 as a video, to a group', async () => {
  const g = await a.sendMedia(team(), { data: gif, name: 'x.gif' });
  assert.equal(g.code, 0, g.status);
  assert.equal((await record(g.msgId)).endpoint, 'webwxsendemoticon');
  assert.equal((await record(g.msgId)).Type, 47);
  const v = await a.sendMedia(team(), { data: randomBytes(3000), name: 'clip.mp4' });
  assert.equal(v.code, 0, v.status);
  const rec = await record(v.msgId);
  assert.equal(rec.endpoint, 'webwxsendvideomsg');
  assert.equal(rec.Type, 43);
  assert.equal(v.message!.group_id, team());
});

test('a 1.3 MB file goes up in 512 KiB chunks and is sent as an appmsg; its media_id is reused without upload', async () => {
  const p = join(tmp.dir, 'big file.bin');
  writeFileSync(p, randomBytes(1300 * 1024));
  const r = await a.sendMedia(ann(), { path: p });
  assert.equal(r.code, 0, r.status);
  const rec = await record(r.msgId);
  assert.equal(rec.endpoint, 'webwxsendappmsg');
  assert.equal(rec.Type, 6);
  assert.match(rec.Content, /<totallen>1331200<\/totallen>/);
  assert.match(rec.Content, /big file\.bin/);
  // any upload now would fail: the reuse must not upload
  sb.handle.fault({ endpoint: 'webwxuploadmedia', status: 500, times: 1 });
  const again = await a.sendMedia(team(), { mediaId: r.mediaId! });
  assert.equal(again.code, 0, again.status);
  const rec2 = await record(again.msgId);
  assert.equal(rec2.MediaId, rec.MediaId);
  assert.match(rec2.Content, /big file\.bin/);
  const { pending } = sb.handle.fault({ endpoint: 'webwxsendmsg', delayMs: 0, times: 1 });
  assert.ok(pending.some((f) => f.endpoint === 'webwxuploadmedia'), 'the upload fault is still pending');
  // the next real upload meets it: a typed failure, resolved (not thrown) for a send
  const failed = await a.sendMedia(ann(), { data: jpg, name: 'y.jpg' });
  assert.equal(failed.code, -1);
  assert.ok(isOpenwxError(failed.error, 'OWX_ERR_UPLOAD_FAILED'), failed.status);
  await a.sendText(ann(), 'consume the webwxsendmsg delay fault');
});

test('media from an http URL is streamed, measured and sent', async () => {
  const srv = createServer((_req, res) => {
    res.setHeader('content-type', 'image/jpeg');
    res.end(jpg);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/photos/cat.jpg`;
    const r = await a.sendMedia(ann(), { url });
    assert.equal(r.code, 0, r.status);
    assert.equal(r.message!.media_name, 'cat.jpg');
    assert.equal((await record(r.msgId)).endpoint, 'webwxsendmsgimg');
  } finally {
    srv.close();
  }
});

test('limits and bad input are typed errors', async () => {
  await assert.rejects(a.sendMedia(ann(), { data: Buffer.alloc(5 * 1024 * 1024), name: 'x.bin' }), (e: unknown) => isOpenwxError(e, 'OWX_ERR_MEDIA_TOO_LARGE'));
  await assert.rejects(a.sendMedia(ann(), { path: join(tmp.dir, 'nope.jpg') }), (e: unknown) => isOpenwxError(e, 'OWX_ERR_MEDIA_INVALID'));
  await assert.rejects(a.sendText(ann(), ''), (e: unknown) => isOpenwxError(e, 'OWX_ERR_BAD_PARAM'));
});

test('upload media alone, then revoke a sent text', async () => {
  const up = await a.uploadMedia({ data: jpg, name: 'u.jpg' });
  assert.match(up.media_id, /:3$/);
  assert.equal(up.media_type, 'image');
  assert.equal(up.media_size, jpg.length);
  const r = await a.sendText(ann(), 'to be revoked');
  assert.equal(r.code, 0);
  assert.equal(await a.revokeMessage(r.msgId, ann()), true);
  await waitFor(() => sb.handle.sent().find((s) => s.MsgID === r.msgId)?.revoked, 'revoked flag');
  // Mojo's "<MsgID>:<ToUserName>" id form works too
  const r2 = await a.sendText(ann(), 'again');
  assert.equal(await a.revokeMessage(r2.message!.id, ''), true);
});
