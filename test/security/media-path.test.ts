import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolveMediaPath } from '../../src/security/media-path.ts';
import { fetchMediaUrl } from '../../src/security/fetch-url.ts';
import { isOpenwxError } from '../../src/errors.ts';

test('media paths: inside the folders only, no .., no symlink escape, files only', async () => {
  const root = mkdtempSync(join(tmpdir(), 'owx-media-'));
  const media = join(root, 'media');
  mkdirSync(join(media, 'sub'), { recursive: true });
  writeFileSync(join(media, 'sub', 'a.jpg'), 'x');
  writeFileSync(join(root, 'secret.txt'), 'secret');
  symlinkSync(join(root, 'secret.txt'), join(media, 'link.txt'));
  symlinkSync(join(media, 'sub', 'a.jpg'), join(media, 'ok-link.jpg'));
  assert.equal(await resolveMediaPath(join(media, 'sub', 'a.jpg'), [media]), join(media, 'sub', 'a.jpg'));
  assert.equal(await resolveMediaPath('sub/a.jpg', [media]), join(media, 'sub', 'a.jpg'));
  assert.equal(await resolveMediaPath(join(media, 'ok-link.jpg'), [media]), join(media, 'sub', 'a.jpg'));
  for (const bad of [join(root, 'secret.txt'), join(media, '..', 'secret.txt'), '../secret.txt', join(media, 'link.txt'), join(media, 'sub'), join(media, 'none.jpg'), '', 'a\0b']) {
    await assert.rejects(resolveMediaPath(bad, [media]), (e) => isOpenwxError(e, 'OWX_ERR_MEDIA_INVALID'), bad);
  }
  await assert.rejects(resolveMediaPath(join(media, 'sub', 'a.jpg'), []), (e) => isOpenwxError(e, 'OWX_ERR_MEDIA_INVALID'));
});

test('URL fetch: http(s) only, size cap (declared and streamed), HTTP errors, redirects', async (t) => {
  const srv = createServer((req, res) => {
    if (req.url === '/big') {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.write(Buffer.alloc(600));
      res.end(Buffer.alloc(600));
    } else if (req.url === '/declared') {
      res.writeHead(200, { 'content-length': '5000' });
      res.end(Buffer.alloc(5000));
    } else if (req.url === '/moved') {
      res.writeHead(302, { location: '/files/%E5%9B%BE.png' });
      res.end();
    } else if (req.url?.startsWith('/files/')) {
      res.writeHead(200, { 'content-type': 'image/png; charset=binary', 'content-length': '3' });
      res.end('abc');
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => srv.close());
  const base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  // The server is local: loopback is refused unless allowed (test/security/fetch-url.test.ts).
  const o = { maxBytes: 1000, timeoutMs: 5000, allowPrivate: true };
  await assert.rejects(fetchMediaUrl('file:///etc/passwd', o), (e) => isOpenwxError(e, 'OWX_ERR_MEDIA_INVALID'));
  await assert.rejects(fetchMediaUrl(`${base}/nope`, o), (e) => isOpenwxError(e, 'OWX_ERR_MEDIA_URL_FAILED'));
  await assert.rejects(fetchMediaUrl(`${base}/declared`, o), (e) => isOpenwxError(e, 'OWX_ERR_MEDIA_TOO_LARGE'));
  const big = await fetchMediaUrl(`${base}/big`, o);
  await assert.rejects(async () => {
    for await (const _ of big.stream) void _;
  }, (e) => isOpenwxError(e, 'OWX_ERR_MEDIA_TOO_LARGE'));
  const ok = await fetchMediaUrl(`${base}/moved`, o);
  assert.equal(ok.mime, 'image/png');
  assert.equal(ok.size, 3);
  assert.equal(ok.name, '图.png');
  const chunks: Buffer[] = [];
  for await (const c of ok.stream) chunks.push(c as Buffer);
  assert.equal(Buffer.concat(chunks).toString(), 'abc');
  await assert.rejects(fetchMediaUrl('http://127.0.0.1:1/x', { maxBytes: 10, timeoutMs: 2000, allowPrivate: true }), (e) => isOpenwxError(e, 'OWX_ERR_MEDIA_URL_FAILED'));
});
