/**
 * media_data by reference: the streamed POST body of a media report is byte for byte the old in-memory report
 * (`JSON.stringify({ ...json, media_data: mimeBase64(file) })`), its length is exact, its signature verifies over
 * the bytes the receiver got, and a file that is gone or changed sends the report without media_data.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryDelivery } from '../../src/delivery/memory-delivery.ts';
import { isOpenwxError } from '../../src/errors.ts';
import { FILE_STEP_BYTES, readMediaData, readSteps, streamedBody, withMediaData } from '../../src/delivery/media-body.ts';
import { reportRequest } from '../../src/delivery/post.ts';
import { verify } from '../../src/delivery/sign.ts';
import { mimeBase64 } from '../../src/model/post-json.ts';
import { Receiver } from '../helpers/receiver.ts';

const dir = mkdtempSync(join(tmpdir(), 'owx-media-body-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, n: number): { path: string; data: Buffer } {
  const data = Buffer.alloc(n);
  for (let i = 0; i < n; i++) data[i] = (i * 197 + 11) & 0xff;
  const path = join(dir, name);
  writeFileSync(path, data);
  return { path, data };
}

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of chunks) out.push(c);
  return Buffer.concat(out);
}

const REPORT = { post_type: 'send_message', id: '1:@x', format: 'media', media_type: 'file', content: '[文件](a.bin)', time: 1 };

test('the streamed body is byte for byte the old report with media_data, and its length is exact (line, step and file-step boundaries)', async () => {
  const step = FILE_STEP_BYTES;
  const sizes = [0, 1, 2, 3, 56, 57, 58, 114, 57 * 1024 - 1, 57 * 1024, 57 * 1024 + 1, step - 1, step, step + 1, 2 * step + 57, 2 * step + 58];
  for (const n of sizes) {
    const f = file(`f${n}.bin`, n);
    const body = await streamedBody(JSON.stringify(REPORT), { path: f.path, size: n });
    assert.ok(body, `${n} bytes: attached`);
    const want = Buffer.from(JSON.stringify({ ...REPORT, media_data: mimeBase64(f.data) }));
    const got = await collect(body.chunks());
    assert.ok(got.equals(want), `${n} bytes: same bytes`);
    assert.equal(body.length, want.length, `${n} bytes: length`);
    // chunks() can run again (the signature pass, then the request)
    assert.ok((await collect(body.chunks())).equals(want), `${n} bytes: second pass`);
    assert.equal(await readMediaData({ path: f.path, size: n }), mimeBase64(f.data), `${n} bytes: check_event text`);
  }
  const f = file('empty-json.bin', 100);
  const empty = await streamedBody('{}', { path: f.path, size: 100 });
  assert.equal((await collect(empty!.chunks())).toString(), JSON.stringify({ media_data: mimeBase64(f.data) }));
  const unicode = { ...REPORT, content: '中文 "引号" \\ 😀 \u2028' };
  const u = await streamedBody(JSON.stringify(unicode), { path: f.path, size: 100 });
  const ub = await collect(u!.chunks());
  assert.equal(ub.toString('utf8'), JSON.stringify({ ...unicode, media_data: mimeBase64(f.data) }));
  assert.equal(u!.length, ub.length, 'length counts UTF-8 bytes');
});

test('a file that is gone, changed size or is no regular file is not attached; no media means no stream', async () => {
  const f = file('changing.bin', 300);
  assert.equal(await streamedBody('{"a":1}', null), null);
  assert.equal(await streamedBody('{"a":1}', { path: f.path, size: 299 }), null, 'other size');
  assert.equal(await streamedBody('{"a":1}', { path: dir, size: 300 }), null, 'a directory');
  assert.equal(await streamedBody('{"a":1}', { path: join(dir, 'nope.bin'), size: 300 }), null, 'gone');
  assert.equal(await streamedBody('[1]', { path: f.path, size: 300 }), null, 'not a JSON object');
  assert.equal(await readMediaData({ path: join(dir, 'nope.bin'), size: 1 }), null);
  const json = { a: 1 };
  assert.equal(await withMediaData(json, { path: join(dir, 'nope.bin'), size: 1 }), json, 'unchanged without the file');
  assert.deepEqual(await withMediaData(json, { path: f.path, size: 300 }), { a: 1, media_data: mimeBase64(f.data) });
});

test('readSteps: steps of exactly stepBytes, and a file shorter than its reference is an error, not a short body', async () => {
  const f = file('steps.bin', 1000);
  const steps: number[] = [];
  for await (const s of readSteps(f.path, 1000, 300)) steps.push(s.length);
  assert.deepEqual(steps, [300, 300, 300, 100]);
  truncateSync(f.path, 500);
  await assert.rejects(collect(readSteps(f.path, 1000, 300)), (e: unknown) => isOpenwxError(e, 'OWX_ERR_POST_API'));
  assert.equal(await readMediaData({ path: f.path, size: 1000 }), null);
});

test('reportRequest: a media report gets an exact content-length and a signature over the streamed bytes', async () => {
  const f = file('signed.bin', 5000);
  const body = JSON.stringify(REPORT);
  const r = await reportRequest({ account: 'a', eventId: 'e', attempt: 1, userAgent: 'ua', secret: 'sekrit-sekrit-sekrit', body, media: { path: f.path, size: 5000 } });
  assert.equal(typeof r.body, 'object');
  const sent = await collect(r.body as AsyncIterable<Buffer>);
  assert.equal(Number(r.headers['content-length']), sent.length);
  assert.equal(sent.toString(), JSON.stringify({ ...REPORT, media_data: mimeBase64(f.data) }));
  const sig = { timestamp: r.headers['x-openwx-timestamp'], signature: r.headers['x-openwx-signature'] };
  assert.ok(verify('sekrit-sekrit-sekrit', sig, sent.toString()));
  const gone = await reportRequest({ account: 'a', eventId: 'e', attempt: 1, userAgent: 'ua', body, media: { path: join(dir, 'nope'), size: 1 } });
  assert.equal(gone.body, body, 'without the file: the stored JSON');
  assert.equal(gone.headers['content-length'], undefined);
});

test('over HTTP (in-memory sink): the receiver gets media_data, Content-Length matches, the signature verifies; a deleted file is sent without media_data', async (t) => {
  const rx = await new Receiver().start();
  t.after(() => rx.stop());
  const secret = 'a-long-enough-secret';
  const d = new MemoryDelivery({ url: rx.url, account: 'acc', secret });
  t.after(() => d.close());
  assert.equal(d.mediaByReference, true);
  const big = file('http-big.bin', 3 * FILE_STEP_BYTES + 123);
  const gone = file('http-gone.bin', 10);
  d.enqueue({ kind: 'send_message', body: JSON.stringify({ ...REPORT, n: 1 }), media: { path: big.path, size: big.data.length } });
  rmSync(gone.path);
  d.enqueue({ kind: 'send_message', body: JSON.stringify({ ...REPORT, n: 2 }), media: { path: gone.path, size: 10 } });
  d.enqueue({ kind: 'event', body: '{"post_type":"event","n":3}' });
  const got = await rx.waitFor(3);
  assert.deepEqual(got.map((r) => r.json.n), [1, 2, 3]);
  assert.equal(got[0]!.body, JSON.stringify({ ...REPORT, n: 1, media_data: mimeBase64(big.data) }));
  assert.equal(Number(got[0]!.headers['content-length']), Buffer.byteLength(got[0]!.body));
  assert.equal(got[1]!.body, JSON.stringify({ ...REPORT, n: 2 }), 'file gone: delivered without media_data');
  for (const r of got) {
    assert.ok(verify(secret, { timestamp: String(r.headers['x-openwx-timestamp']), signature: String(r.headers['x-openwx-signature']) }, r.body));
  }
});
