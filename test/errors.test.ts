import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ErrorDefs, owxError, isOpenwxError, OpenwxError, type ErrorCode } from '../src/errors.ts';

const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
const documented = new Map(
  [...doc.matchAll(/^\| `(OWX_ERR_[A-Z0-9_]+)` \| (\d+) \| (-?\d+) \|/gm)].map((m) => [m[1]!, { http: Number(m[2]), api: Number(m[3]) }]),
);

test('docs/errors.md lists exactly the registry, with the same HTTP status and Openwx code', () => {
  const codes = Object.keys(ErrorDefs).sort();
  assert.deepEqual([...documented.keys()].sort(), codes);
  for (const c of codes) {
    const d = ErrorDefs[c as ErrorCode];
    assert.deepEqual(documented.get(c), { http: d.statusCode, api: d.apiCode }, c);
  }
});

test('owxError builds coded errors with formatted messages', () => {
  for (const c of Object.keys(ErrorDefs) as ErrorCode[]) {
    const e = owxError(c, ['a', 'b']);
    assert.ok(e instanceof OpenwxError);
    assert.equal(e.code, c);
    assert.ok(!e.message.includes('%s'), c);
    assert.ok(isOpenwxError(e, c));
  }
  const e = owxError('OWX_ERR_WX_RET', [1204, 'send failed'], { ret: 1204 });
  assert.equal(e.message, 'WeChat answered Ret 1204: send failed');
  assert.equal(e.ret, 1204);
  assert.equal(isOpenwxError(new Error('x')), false);
});
