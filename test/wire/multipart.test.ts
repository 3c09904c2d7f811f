import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { FormData, Response } from 'undici';
import { MultipartBody, newBoundary } from '../../src/wire/multipart.ts';

const bytesOf = (b: MultipartBody) => Buffer.concat([...b]);

/** What undici's FormData sends for the same entries, with its random boundary replaced by ours. */
async function undiciBytes(fields: [string, string][], file: { field: string; filename: string; type: string; data: Buffer }, boundary: string) {
  const fd = new FormData();
  for (const [k, v] of fields) fd.append(k, v);
  fd.append(file.field, new Blob([file.data]).slice(0, file.data.length, file.type), file.filename);
  const res = new Response(fd);
  const theirs = /boundary=(.+)$/.exec(res.headers.get('content-type')!)![1]!;
  const body = Buffer.from(await res.arrayBuffer());
  // the boundary occurs only in delimiter lines: replace it there, byte for byte
  return Buffer.from(body.toString('latin1').split(theirs).join(boundary), 'latin1');
}

async function parse(b: MultipartBody, bytes = bytesOf(b)) {
  return new Response(bytes, { headers: { 'content-type': b.contentType } }).formData();
}

const UPLOAD_FIELDS: [string, string][] = [
  ['id', 'WU_FILE_0'], ['name', 'big file.bin'], ['type', 'application/pdf'], ['lastModifiedDate', 'Sat Jun 23 2018 16:45:07 GMT+0800 (中国标准时间)'],
  ['size', '1234'], ['chunks', '3'], ['chunk', '1'], ['mediatype', 'doc'], ['uploadmediarequest', '{"UploadType":2,"FileMd5":"x"}'],
  ['webwx_data_ticket', 'gSehWtnDWTMh38gmz0IjaFv0'], ['pass_ticket', 'a+b/c=='],
];

test('bytes equal undici FormData (escapes, line breaks, non-ASCII, the Blob type rule, nameless file)', async () => {
  const cases: { fields: [string, string][]; filename: string; type: string }[] = [
    { fields: UPLOAD_FIELDS, filename: 'IMG_1002.JPG', type: 'image/jpeg' },
    { fields: [['na"me\r\nx', 'v\ra\nl\r\n"é'], ['空', '']], filename: 'f"i\r\nl\u00e9 名.txt', type: 'Text/Plain; charset=UTF-8' },
    { fields: [], filename: 'a.bin', type: 'a\u00e9b' },
    { fields: [['k', 'v']], filename: 'x', type: 'x\r\nInjected: 1' },
    { fields: [['k', 'v']], filename: 'x', type: '' },
    { fields: [['k', 'v']], filename: '', type: 'image/png' },
  ];
  for (const c of cases) {
    const data = randomBytes(300);
    const file = { field: 'filename', filename: c.filename, type: c.type, data };
    const b = new MultipartBody(c.fields, file);
    const ours = bytesOf(b);
    assert.deepEqual(ours, await undiciBytes(c.fields, file, b.boundary), JSON.stringify(c));
    assert.equal(b.length, ours.length);
  }
});

test('fields and file bytes survive a parser; exact length; 1, chunk−1, chunk, chunk+1 and multi-chunk sizes', async () => {
  const chunkBytes = 64 * 1024;
  for (const size of [1, chunkBytes - 1, chunkBytes, chunkBytes + 1, 3 * chunkBytes + 17]) {
    const file = randomBytes(size);
    const chunks = Math.ceil(size / chunkBytes);
    const back: Buffer[] = [];
    for (let i = 0; i < chunks; i++) {
      const fields: [string, string][] = [['id', 'WU_FILE_3'], ['size', String(size)]];
      if (chunks > 1) fields.push(['chunks', String(chunks)], ['chunk', String(i)]);
      fields.push(['uploadmediarequest', JSON.stringify({ TotalLen: size, ToUserName: '@abc' })]);
      const data = file.subarray(i * chunkBytes, Math.min(size, (i + 1) * chunkBytes));
      const b = new MultipartBody(fields, { field: 'filename', filename: 'x.bin', type: 'application/octet-stream', data });
      const bytes = bytesOf(b);
      assert.equal(b.length, bytes.length, `length of chunk ${i} of ${size}`);
      assert.deepEqual(bytes, await undiciBytes(fields, { field: 'filename', filename: 'x.bin', type: 'application/octet-stream', data: Buffer.from(data) }, b.boundary));
      const form = await parse(b, bytes);
      assert.deepEqual([...form.keys()], [...fields.map(([k]) => k), 'filename']);
      for (const [k, v] of fields) assert.equal(form.get(k), v);
      const f = form.get('filename') as File;
      assert.equal(f.name, 'x.bin');
      assert.equal(f.size, data.length);
      back.push(Buffer.from(await f.arrayBuffer()));
    }
    assert.deepEqual(Buffer.concat(back), file, `file of ${size} bytes reassembled`);
  }
});

test('the file bytes are the caller\'s own (not copied); the body can be iterated again; drained after the last piece', () => {
  const data = Buffer.from('hello');
  const b = new MultipartBody([['a', 'b']], { field: 'f', filename: 'n', type: 'text/plain', data });
  const it = b[Symbol.iterator]();
  it.next();
  const mid = it.next();
  assert.equal(mid.value, data, 'the very same Buffer');
  assert.equal(b.drained, false);
  it.next();
  assert.equal(b.drained, false, 'the last piece was handed out but not yet taken');
  assert.equal(it.next().done, true);
  assert.equal(b.drained, true);
  assert.deepEqual(bytesOf(b), bytesOf(b));
  const empty = new MultipartBody([], { field: 'f', filename: 'n', type: '', data: Buffer.alloc(0) });
  assert.equal(empty.length, bytesOf(empty).length);
});

test('boundary: WebKit\'s format, random; a bad explicit boundary is refused', () => {
  const a = newBoundary();
  assert.match(a, /^----WebKitFormBoundary[A-Za-z0-9]{16}$/);
  assert.notEqual(a, newBoundary());
  const b = new MultipartBody([], { field: 'f', filename: 'n', type: '', data: Buffer.from('x') });
  assert.equal(b.contentType, `multipart/form-data; boundary=${b.boundary}`);
  for (const bad of ['', 'has space', 'x'.repeat(71), 'semi;colon', 'new\r\nline']) {
    assert.throws(() => new MultipartBody([], { field: 'f', filename: 'n', type: '', data: Buffer.from('x') }, bad), RangeError);
  }
});
