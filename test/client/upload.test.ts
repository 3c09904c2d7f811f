/**
 * Uploads end to end: the Account → a recording proxy → the sandbox. Every webwxuploadmedia body is parsed as sent,
 * and the uploaded file is read back from the sandbox (webwxgetmedia) and compared byte for byte.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, Server } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { Response, request } from 'undici';
import { account, recordingProxy, sandbox, tempDir, testWorld } from './helpers.ts';
import { isOpenwxError } from '../../src/errors.ts';
import { parseClientOptions } from '../../src/client/options.ts';
import { HttpTransport } from '../../src/client/transport.ts';
import { Session } from '../../src/client/session.ts';
import { Uploader } from '../../src/client/upload.ts';
import { Path } from '../../src/wire/paths.ts';
import type { Account } from '../../src/client/account.ts';
import type { Sandbox } from '../../src/sandbox/index.ts';
import type { FaultSpec } from '../../src/sandbox/faults.ts';

const CHUNK = 64 * 1024;

interface Upload {
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  status?: number;
}

let sb: Sandbox;
let proxy: Server;
let proxyUrl: string;
let a: Account;
const uploads: Upload[] = [];
/** Armed by a test: after the `afterCount`-th upload request was answered upstream, inject `fault` for the next. */
let armed: { afterCount: number; fault: FaultSpec } | null = null;
const tmp = tempDir();

before(async () => {
  sb = await sandbox({ world: testWorld() });
  const recs = new WeakMap<IncomingMessage, Upload>();
  ({ server: proxy, url: proxyUrl } = await recordingProxy(sb, {
    request(req, body) {
      if (!req.url!.startsWith(Path.uploadMedia)) return;
      const rec: Upload = { headers: req.headers, body };
      recs.set(req, rec);
      uploads.push(rec);
    },
    answer({ req, upstream }) {
      const rec = recs.get(req);
      if (!rec) return;
      rec.status = upstream.statusCode!;
      // the fault goes in before this answer reaches the client, so the client's next chunk meets it
      if (armed && uploads.length === armed.afterCount) {
        sb.handle.fault(armed.fault);
        armed = null;
      }
    },
  }));
  a = account({ ...sb, url: proxyUrl }, tmp.dir, {
    uploadChunkBytes: CHUNK, uploadTimeoutMs: 2000, rateLimitBackoffMs: 20, rateLimitBackoffMaxMs: 40, rateLimitRetries: 2,
  });
  await a.run();
});
after(async () => {
  await a.stop();
  proxy.close();
  await sb.close();
  tmp.cleanup();
});

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

async function form(u: Upload): Promise<FormData> {
  return (await new Response(u.body, { headers: { 'content-type': String(u.headers['content-type']) } }).formData()) as unknown as FormData;
}

/** The uploaded bytes as the sandbox stored them. */
async function readBack(mediaIdWithCode: string, ticket: string): Promise<Buffer> {
  const id = mediaIdWithCode.slice(0, mediaIdWithCode.lastIndexOf(':'));
  const r = await request(`${sb.url}${Path.getMedia}?mediaid=${encodeURIComponent(id)}&webwx_data_ticket=${encodeURIComponent(ticket)}`);
  assert.equal(r.statusCode, 200);
  return Buffer.from(await r.body.arrayBuffer());
}

/** Checks every request of one upload (wire shape, chunk fields, FileMd5) and that the sandbox holds `bytes`. */
async function checkUpload(reqs: Upload[], mediaId: string, bytes: Buffer, name: string): Promise<void> {
  const chunks = Math.max(1, Math.ceil(bytes.length / CHUNK));
  assert.equal(reqs.length, chunks, `${name}: ${chunks} chunk requests`);
  const sent: Buffer[] = [];
  let ticket = '';
  for (const [i, u] of reqs.entries()) {
    assert.match(String(u.headers['content-type']), /^multipart\/form-data; boundary=----WebKitFormBoundary[A-Za-z0-9]{16}$/);
    assert.equal(u.headers['content-length'], String(u.body.length), 'exact Content-Length');
    assert.equal(u.headers['transfer-encoding'], undefined);
    const f = await form(u);
    const keys = [...f.keys()];
    assert.deepEqual(keys, [
      'id', 'name', 'type', 'lastModifiedDate', 'size', ...(chunks > 1 ? ['chunks', 'chunk'] : []),
      'mediatype', 'uploadmediarequest', 'webwx_data_ticket', 'pass_ticket', 'filename',
    ]);
    if (chunks > 1) assert.deepEqual([f.get('chunks'), f.get('chunk')], [String(chunks), String(i)]);
    assert.equal(f.get('size'), String(bytes.length));
    const umr = JSON.parse(String(f.get('uploadmediarequest')));
    assert.equal(umr.FileMd5, md5(bytes), 'FileMd5');
    assert.equal(umr.TotalLen, bytes.length);
    const file = f.get('filename') as unknown as File;
    assert.equal(file.name, name);
    sent.push(Buffer.from(await file.arrayBuffer()));
    ticket = String(f.get('webwx_data_ticket'));
  }
  assert.deepEqual(Buffer.concat(sent), bytes, `${name}: the chunks carry the bytes in order`);
  assert.deepEqual(await readBack(mediaId, ticket), bytes, `${name}: the sandbox holds the same bytes`);
}

const SIZES = [1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 5, 256 * 1024 + 1];

test('files of 1, chunk−1, chunk, chunk+1 and several chunks (and past the MD5 read step) arrive intact', async () => {
  for (const size of SIZES) {
    const bytes = randomBytes(size);
    const name = `f-${size}.bin`;
    const p = join(tmp.dir, name);
    writeFileSync(p, bytes);
    const from = uploads.length;
    const up = await a.uploadMedia({ path: p });
    assert.equal(up.media_size, size);
    await checkUpload(uploads.slice(from), up.media_id, bytes, name);
  }
});

test('in-memory data of the same sizes arrives intact', async () => {
  for (const size of SIZES) {
    const bytes = randomBytes(size);
    const name = `d-${size}.bin`;
    const from = uploads.length;
    const up = await a.uploadMedia({ data: bytes, name });
    await checkUpload(uploads.slice(from), up.media_id, bytes, name);
  }
});

test('a failing middle chunk (HTTP 500, then a timeout) is OWX_ERR_UPLOAD_FAILED; the next upload of the file is intact', async () => {
  const bytes = randomBytes(3 * CHUNK + 5);
  const p = join(tmp.dir, 'retry.bin');
  writeFileSync(p, bytes);
  for (const fault of [{ status: 500 }, { delayMs: 2600 }]) {
    const from = uploads.length;
    armed = { afterCount: from + 1, fault: { endpoint: 'webwxuploadmedia', times: 1, ...fault } };
    await assert.rejects(a.uploadMedia({ path: p }), (e: unknown) => {
      assert.ok(isOpenwxError(e, 'OWX_ERR_UPLOAD_FAILED'), String(e));
      assert.match((e as Error).message, /chunk 2\/4/);
      return true;
    });
    assert.equal(armed, null, 'the fault was armed after chunk 1');
    const again = uploads.length;
    const up = await a.uploadMedia({ path: p });
    await checkUpload(uploads.slice(again), up.media_id, bytes, 'retry.bin');
  }
});

test('a rate limit (1205) on a middle chunk: the queue retries the whole upload, which arrives intact', async () => {
  const bytes = randomBytes(2 * CHUNK + 9);
  const p = join(tmp.dir, 'limited.bin');
  writeFileSync(p, bytes);
  const from = uploads.length;
  armed = { afterCount: from + 1, fault: { endpoint: 'webwxuploadmedia', times: 1, ret: 1205 } };
  const up = await a.uploadMedia({ path: p });
  // 2 requests of the limited attempt, then all 3 of the retry
  assert.equal(uploads.length - from, 5);
  await checkUpload(uploads.slice(from + 2), up.media_id, bytes, 'limited.bin');
});

test('a file changed or gone after it was measured: OWX_ERR_UPLOAD_FAILED before any request', async () => {
  const o = parseClientOptions({ dataDir: tmp.dir, uploadChunkBytes: CHUNK, wechatOrigin: proxyUrl });
  const transport = new HttpTransport({ userAgent: 'UA-test', pageHost: 'wx.qq.com', wechatOrigin: proxyUrl, requestTimeoutMs: 2000, logger: pino({ level: 'silent' }) });
  const up = new Uploader({ transport, session: new Session(false), options: o, logger: pino({ level: 'silent' }) });
  try {
    const p = join(tmp.dir, 'changing.bin');
    writeFileSync(p, randomBytes(CHUNK + 3));
    const m = await up.prepare({ path: p });
    const before = uploads.length;
    appendFileSync(p, 'more');
    await assert.rejects(up.upload(m, 'filehelper'), (e: unknown) => isOpenwxError(e, 'OWX_ERR_UPLOAD_FAILED') && /changed since it was measured/.test((e as Error).message));
    rmSync(p);
    await assert.rejects(up.upload(m, 'filehelper'), (e: unknown) => isOpenwxError(e, 'OWX_ERR_UPLOAD_FAILED') && /cannot read/.test((e as Error).message));
    assert.equal(uploads.length, before, 'no request was made');
  } finally {
    await transport.close();
  }
});
