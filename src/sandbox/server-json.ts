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

// The formatters build their text by concatenation (no per-object arrays of parts, no joins): webwxsync answers are
// formatted for every delivered message, and the intermediate arrays were a large share of the sandbox's garbage.

export function compact(v: unknown): string {
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) out += (i === 0 ? '' : ', ') + (v[i] !== undefined || i in v ? compact(v[i]) : ''); // a hole: '' (map + join)
    return out + ']';
  }
  if (isPlainObject(v)) {
    let out = '{';
    let first = true;
    for (const k of Object.keys(v)) {
      const x = v[k];
      if (x === undefined) continue;
      out += (first ? '"' : ',"') + k + '": ' + compact(x);
      first = false;
    }
    return out + '}';
  }
  return scalar(v);
}

function prettyObject(o: Record<string, unknown>, indent: string, inline: readonly string[]): string {
  const inner = `${indent}    `;
  // The text before each key, built once per object.
  const open = `{\n${inner}"`;
  const next = `,\n${inner}"`;
  let out = '';
  // The last object or array member's text: a member that is the same object, under a key printed the same way, has
  // the same text (webwxsync's SyncKey and SyncCheckKey are one object).
  let lastV: unknown;
  let lastFlags = -1;
  let lastText = '';
  for (const k of Object.keys(o)) {
    const v = o[k];
    if (v === undefined) continue;
    let text: string;
    if (typeof v === 'object' && v !== null) {
      const flags = (inline.includes(k) ? 1 : 0) | (ALWAYS_INLINE.has(k) ? 2 : 0);
      if (v === lastV && flags === lastFlags) text = lastText;
      else {
        text = prettyValue(k, v, inner, inline);
        lastV = v;
        lastFlags = flags;
        lastText = text;
      }
    } else text = prettyValue(k, v, inner, inline);
    out += (out === '' ? open : next) + k + '": ' + text;
  }
  if (out === '') return '{}';
  return out + '\n' + indent + '}';
}

/** Array.prototype.every(isPlainObject): holes are skipped. */
function allPlainObjects(v: unknown[]): boolean {
  for (let i = 0; i < v.length; i++) if (!isPlainObject(v[i]) && i in v) return false;
  return true;
}

/** `{"Buff": …}`: an object whose one key is Buff (printed compact). */
function isBuff(v: Record<string, unknown>): boolean {
  if (!Object.hasOwn(v, 'Buff')) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && keys[0] === 'Buff';
}

function prettyValue(key: string, v: unknown, indent: string, inline: readonly string[]): string {
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    if (inline.includes(key) || !allPlainObjects(v)) return compact(v);
    let out = '[';
    for (let i = 0; i < v.length; i++) out += (i === 0 ? '' : ', ') + (i in v ? prettyObject(v[i] as Record<string, unknown>, indent, inline) : '');
    return out + ']';
  }
  if (isPlainObject(v)) {
    if (ALWAYS_INLINE.has(key) || inline.includes(key) || isBuff(v)) return compact(v);
    return prettyObject(v, indent, inline);
  }
  return scalar(v);
}

export function pretty(v: Record<string, unknown>, inline: readonly string[] = []): string {
  return prettyObject(v, '', inline);
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
