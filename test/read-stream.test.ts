import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { readStream } from '../src/read-stream.ts';

test('readStream: the whole stream, in order, from many chunks', async () => {
  const r = await readStream(Readable.from([Buffer.from('ab'), Buffer.from('c'), Buffer.from('de')], { objectMode: false }));
  assert.equal(r.data.toString(), 'abcde');
  assert.equal(r.truncated, false);
});

test('readStream: past maxBytes the first bytes are kept, the stream destroyed, and its later error ignored', async () => {
  const s = new PassThrough();
  const p = readStream(s, 4);
  s.write('abc');
  s.write('def');
  const r = await p;
  assert.equal(r.data.toString(), 'abcd');
  assert.equal(r.truncated, true);
  assert.equal(s.destroyed, true);
  s.emit('error', new Error('late')); // no unhandled 'error'
});

test('readStream: a stream error rejects with it; a close before the end rejects as a premature close', async () => {
  const a = new PassThrough();
  const pa = readStream(a);
  a.write('x');
  a.destroy(new Error('boom'));
  await assert.rejects(pa, /boom/);
  const b = new PassThrough();
  const pb = readStream(b);
  b.write('x');
  b.destroy();
  await assert.rejects(pb, (e: NodeJS.ErrnoException) => e.code === 'ERR_STREAM_PREMATURE_CLOSE');
});

test('readStream: an empty stream and one already read to its end give no bytes', async () => {
  const e = new PassThrough();
  e.end();
  assert.equal((await readStream(e)).data.length, 0);
  const done = Readable.from([Buffer.from('z')], { objectMode: false });
  await readStream(done);
  assert.equal((await readStream(done)).data.length, 0);
});
