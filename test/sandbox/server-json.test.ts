/**
 * The server-JSON formatter (src/sandbox/server-json.ts) is written for speed (string concatenation, no per-object
 * arrays). Its output must stay byte-for-byte what the plain formulation of the layout gives: the reference below
 * (the formatter as first written, arrays of parts joined) is the oracle for seeded random values in every style,
 * including the awkward ones (escapes, bigint, NaN, holes, undefined members, `{"Buff"}`, inline and always-inline keys,
 * one object under several keys).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compact, formatServerJson, pretty, STYLE, type JsonStyle } from '../../src/sandbox/server-json.ts';
import { createRng } from '../../src/sandbox/rng.ts';

// ---- the reference layout, written the obvious way ----
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const refStr = (s: string) => (/^[^"\\\u0000-\u001f\u2028\u2029]*$/.test(s) ? `"${s}"` : JSON.stringify(s));
function refScalar(v: unknown): string {
  if (typeof v === 'string') return refStr(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '0';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return 'null';
}
function refCompact(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(refCompact).join(', ')}]`;
  if (isObj(v)) {
    const parts: string[] = [];
    for (const k of Object.keys(v)) if (v[k] !== undefined) parts.push(`"${k}": ${refCompact(v[k])}`);
    return `{${parts.join(',')}}`;
  }
  return refScalar(v);
}
function refObject(o: Record<string, unknown>, indent: string, inline: Set<string>): string {
  const inner = `${indent}    `;
  const lines: string[] = [];
  for (const k of Object.keys(o)) if (o[k] !== undefined) lines.push(`${inner}"${k}": ${refValue(k, o[k], inner, inline)}`);
  return lines.length === 0 ? '{}' : `{\n${lines.join(',\n')}\n${indent}}`;
}
function refValue(key: string, v: unknown, indent: string, inline: Set<string>): string {
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    if (inline.has(key) || !v.every(isObj)) return refCompact(v);
    return `[${v.map((item) => refObject(item as Record<string, unknown>, indent, inline)).join(', ')}]`;
  }
  if (isObj(v)) {
    const keys = Object.keys(v);
    if (key === 'BaseResponse' || inline.has(key) || (keys.length === 1 && keys[0] === 'Buff')) return refCompact(v);
    return refObject(v, indent, inline);
  }
  return refScalar(v);
}
const reference = (v: Record<string, unknown>, style: JsonStyle) =>
  style === 'compact' ? refCompact(v) : refObject(v, '', new Set(style.inline ?? []));

// ---- seeded random values ----
const rng = createRng(20261206);
const KEYS = ['List', 'SyncKey', 'BaseResponse', 'Buff', 'AddMsgList', 'Profile', 'UserName', 'Count', 'Key', 'Val', 'MemberList', 'x'];
const STRS = ['', 'abc', 'a"b', 'back\\slash', 'line\nbreak', '\u2028', '中文', '\u0001', 'emoji😀', '\ud83d', '@@e3b0c442'];
const SCALARS: unknown[] = [0, 1, -5, 1.5, NaN, Infinity, 12345678901234567890n, true, false, null, undefined, ...STRS];
/** Objects and arrays already made: a member may be one of them again (SyncKey and SyncCheckKey are one object). */
const made: unknown[] = [];
function value(depth: number): unknown {
  if (made.length > 0 && rng.chance(0.15)) return made[made.length - 1 - rng.int(Math.min(made.length, 3))];
  const v = freshValue(depth);
  if (typeof v === 'object' && v !== null) made.push(v);
  if (made.length > 50) made.shift();
  return v;
}
function freshValue(depth: number): unknown {
  const r = rng.next();
  if (depth > 4 || r < 0.45) return rng.pick(SCALARS);
  if (r < 0.6) return rng.chance(0.8) ? { Buff: rng.pick(STRS) } : { Buff: rng.pick(STRS), x: 1 };
  if (r < 0.8) {
    const a: unknown[] = [];
    for (let i = rng.int(4); i > 0; i--) a.push(rng.chance(0.7) ? object(depth + 1) : value(depth + 1));
    if (rng.chance(0.05)) a.length += 2; // holes
    return a;
  }
  return object(depth + 1);
}
function object(depth: number): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (let i = rng.int(6); i > 0; i--) o[rng.pick(KEYS) + (rng.chance(0.5) ? '' : String(i))] = value(depth);
  return o;
}

const STYLES: JsonStyle[] = [...Object.values(STYLE), { pretty: true }, { pretty: true, inline: ['List', 'SyncKey', 'Profile'] }];

test('the formatter gives the reference layout byte for byte (20,000 seeded random values × every style)', () => {
  for (let i = 0; i < 20000; i++) {
    const v = object(0);
    for (const style of STYLES) {
      const got = formatServerJson(v, style);
      if (got !== reference(v, style)) assert.equal(got, reference(v, style), `style ${JSON.stringify(style)}, value #${i}`);
    }
  }
});

test('compact and pretty: the layout of the captures', () => {
  const v = { BaseResponse: { Ret: 0, ErrMsg: '' }, List: [{ Key: 1, Val: 2 }], NickName: { Buff: 'x' }, NewMsgId: 8301847259072529374n, Gone: undefined, Empty: {} };
  assert.equal(compact(v), '{"BaseResponse": {"Ret": 0,"ErrMsg": ""},"List": [{"Key": 1,"Val": 2}],"NickName": {"Buff": "x"},"NewMsgId": 8301847259072529374,"Empty": {}}');
  assert.equal(
    pretty(v, ['List']),
    '{\n    "BaseResponse": {"Ret": 0,"ErrMsg": ""},\n    "List": [{"Key": 1,"Val": 2}],\n    "NickName": {"Buff": "x"},\n    "NewMsgId": 8301847259072529374,\n    "Empty": {}\n}',
  );
  assert.equal(pretty({ A: [{ B: 1 }, { C: [] }] }), '{\n    "A": [{\n        "B": 1\n    }, {\n        "C": []\n    }]\n}');
});
