/**
 * The real server's own JSON layout (captures http-webwxinit/-sync/-getcontact/-batchgetcontact/-uploadmedia-2 and
 * http-webwxsendmsg/-statusnotify, QJesus 2018):
 * - compact: `{"BaseResponse": {"Ret": 0,"ErrMsg": ""},"MsgID": "…"}` — `": "` after keys, `,` between members,
 *   `, ` between array items;
 * - pretty: 4-space indentation, one member per line, arrays of objects as `[{ … }, { … }]` at the key's indent;
 *   `BaseResponse`, `{"Buff": …}` objects and keys listed as inline are printed compact.
 * Values of type bigint are printed as exact integers (NewMsgId is a 19-digit JSON number).
 */

export type JsonStyle = 'compact' | { pretty: true; inline?: readonly string[] };

const ALWAYS_INLINE = new Set(['BaseResponse']);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const SIMPLE = /^[^"\\\u0000-\u001f\u2028\u2029]*$/;

function str(s: string): string {
  return SIMPLE.test(s) ? `"${s}"` : JSON.stringify(s);
}

function scalar(v: unknown): string {
  if (typeof v === 'string') return str(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '0';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return 'null';
}

export function compact(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(compact).join(', ')}]`;
  if (isPlainObject(v)) {
    const parts: string[] = [];
    for (const k of Object.keys(v)) if (v[k] !== undefined) parts.push(`"${k}": ${compact(v[k])}`);
    return `{${parts.join(',')}}`;
  }
  return scalar(v);
}

function prettyObject(o: Record<string, unknown>, indent: string, inline: ReadonlySet<string>): string {
  const inner = `${indent}    `;
  const lines: string[] = [];
  for (const k of Object.keys(o)) {
    const v = o[k];
    if (v === undefined) continue;
    lines.push(`${inner}"${k}": ${prettyValue(k, v, inner, inline)}`);
  }
  if (lines.length === 0) return '{}';
  return `{\n${lines.join(',\n')}\n${indent}}`;
}

function prettyValue(key: string, v: unknown, indent: string, inline: ReadonlySet<string>): string {
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    if (inline.has(key) || !v.every(isPlainObject)) return compact(v);
    return `[${v.map((item) => prettyObject(item as Record<string, unknown>, indent, inline)).join(', ')}]`;
  }
  if (isPlainObject(v)) {
    const keys = Object.keys(v);
    if (ALWAYS_INLINE.has(key) || inline.has(key) || (keys.length === 1 && keys[0] === 'Buff')) return compact(v);
    return prettyObject(v, indent, inline);
  }
  return scalar(v);
}

export function pretty(v: Record<string, unknown>, inline: readonly string[] = []): string {
  return prettyObject(v, '', new Set(inline));
}

export function formatServerJson(v: Record<string, unknown>, style: JsonStyle): string {
  return style === 'compact' ? compact(v) : pretty(v, style.inline ?? []);
}

/** Styles per endpoint, from the captures (unknown ones follow the nearest captured sibling). */
export const STYLE = {
  init: { pretty: true, inline: ['SyncKey'] },
  getContact: { pretty: true },
  batchGetContact: { pretty: true },
  sync: { pretty: true, inline: ['List'] },
  upload: { pretty: true },
  createChatroom: { pretty: true },
  updateChatroom: { pretty: true },
  small: 'compact',
} as const satisfies Record<string, JsonStyle>;
