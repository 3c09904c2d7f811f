import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeLines, JSON_NEWLINE, LINE_BYTES, mimeBase64, mimeBase64Chunks, mimeBase64Length, NEWLINE } from '../../src/model/mime-base64.ts';

const pattern = (n: number) => {
  const d = Buffer.alloc(n);
  for (let i = 0; i < n; i++) d[i] = (i * 131 + 7) & 0xff;
  return d;
};

test('mimeBase64Length is the exact length for both line ends, at every line boundary', () => {
  for (const n of [0, 1, 2, 3, 56, 57, 58, 113, 114, 115, 57 * 1024, 57 * 1024 + 1]) {
    const d = pattern(n);
    assert.equal(mimeBase64Length(n, 1), mimeBase64(d).length, `${n} bytes`);
    assert.equal(mimeBase64Length(n, 2), JSON.stringify(mimeBase64(d)).length - 2, `${n} bytes, JSON-escaped`);
  }
});

test('the chunks are the string, and with the JSON line end they are the JSON string text of it', () => {
  for (const n of [0, 1, 57, 58, 57 * 1024 - 1, 57 * 1024, 57 * 1024 + 1, 57 * 2048 + 5]) {
    const d = pattern(n);
    assert.equal(Buffer.concat([...mimeBase64Chunks(d)]).toString('latin1'), mimeBase64(d), `${n} bytes`);
    assert.equal(Buffer.concat([...mimeBase64Chunks(d, JSON_NEWLINE)]).toString('latin1'), JSON.stringify(mimeBase64(d)).slice(1, -1), `${n} bytes`);
  }
});

test('encodeLines: a step of whole lines, or a last step with a short line', () => {
  assert.equal(encodeLines(Buffer.from('hello'), NEWLINE).toString(), 'aGVsbG8=\n');
  assert.equal(encodeLines(new Uint8Array(0), NEWLINE).length, 0);
  const two = pattern(2 * LINE_BYTES);
  const lines = encodeLines(two, NEWLINE).toString().split('\n');
  assert.deepEqual(lines.map((l) => l.length), [76, 76, 0]);
  assert.equal(encodeLines(two, JSON_NEWLINE).toString(), lines.slice(0, 2).map((l) => `${l}\\n`).join(''));
});
