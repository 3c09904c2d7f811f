/**
 * Structural comparison of a real server answer (fixture) with what a server under test answers for the same call:
 * key sets (exact or fixture ⊆ answer), key casing, value types, value encodings (id/crypt/url/escaped-XML/digit
 * classes) for JSON; element order for `<error>` XML; statement syntax for `window.x = …` JS snippets.
 */

export interface ShapeOptions {
  /** 'exact': same keys at every level; 'subset': every fixture key present (older captures). */
  mode: 'exact' | 'subset';
  /** Keys to ignore wherever they appear (e.g. 2015-only `MD5`, client-side `MM*`). */
  ignore?: (key: string) => boolean;
  /** Compare value encoding classes of non-empty strings (default true). */
  encodings?: boolean;
}

/** Encoding class of a string value, e.g. `@<hex>` user id vs `@@<hex>` room id vs escaped XML. */
export function stringClass(s: string): string {
  if (s === '') return 'empty';
  // User and room names are one class: an entry may be a friend in one answer and a room in the other.
  if (/^@@[0-9a-f]{64}$/.test(s) || /^@[0-9a-f]{32}([0-9a-f]{32})?$/.test(s) || SPECIAL_NAMES.has(s)) return 'username';
  if (/^@crypt_[0-9a-f]{8}_[0-9a-f]+$/.test(s)) return 'crypt';
  if (/^@[0-9a-f]{100,}$/.test(s)) return 'opaque-media';
  if (/^\d+$/.test(s)) return 'digits';
  if (/^\/cgi-bin\/mmwebwx-bin\//.test(s)) return 'cgi-path';
  if (/^https?:\/\//.test(s)) return 'url';
  if (/^(@\w+:<br\/>)?&lt;/.test(s)) return 'escaped-xml';
  return 'text';
}

const SPECIAL_NAMES = new Set(['filehelper', 'weixin', 'fmessage', 'newsapp']);
const SPECIFIC = new Set(['username', 'crypt', 'opaque-media', 'digits', 'cgi-path', 'url', 'escaped-xml']);

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'bigint') return 'number';
  return typeof v;
}

/**
 * The fixture element an answer element is compared with: same MsgType, or same kind of UserName; else the first
 * element, compared for keys and types only (values of a different kind of message are not comparable).
 */
function template(expected: unknown[], actual: unknown): { t: unknown; comparable: boolean } {
  if (actual && typeof actual === 'object') {
    const a = actual as Record<string, unknown>;
    const objs = expected.filter((e): e is Record<string, unknown> => !!e && typeof e === 'object');
    if ('MsgType' in a) {
      const m = objs.find((e) => e['MsgType'] === a['MsgType']);
      return m ? { t: m, comparable: true } : { t: expected[0], comparable: false };
    }
    if (typeof a['UserName'] === 'string') {
      const room = (a['UserName'] as string).startsWith('@@');
      const m = objs.find((e) => typeof e['UserName'] === 'string' && (e['UserName'] as string).startsWith('@@') === room);
      return m ? { t: m, comparable: true } : { t: expected[0], comparable: false };
    }
  }
  return { t: expected[0], comparable: true };
}

/** Differences between the fixture's shape and the answer's; empty = structurally equal. */
export function shapeDiff(expected: unknown, actual: unknown, o: ShapeOptions, path = '$'): string[] {
  const out: string[] = [];
  const te = typeOf(expected);
  const ta = typeOf(actual);
  if (te !== ta) return [`${path}: type ${ta}, expected ${te}`];
  if (te === 'string' && o.encodings !== false) {
    const ce = stringClass(expected as string);
    const ca = stringClass(actual as string);
    if (SPECIFIC.has(ce) && ca !== 'empty' && ce !== ca) out.push(`${path}: encoding ${ca} (${JSON.stringify(String(actual).slice(0, 40))}), expected ${ce}`);
  }
  if (te === 'array') {
    const e = expected as unknown[];
    const a = actual as unknown[];
    if (e.length > 0) {
      a.forEach((item, i) => {
        const { t, comparable } = template(e, item);
        out.push(...shapeDiff(t, item, comparable ? o : { ...o, encodings: false }, `${path}[${i}]`));
      });
    }
    return out;
  }
  if (te === 'object') {
    const e = expected as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    const ign = o.ignore ?? (() => false);
    for (const k of Object.keys(e)) {
      if (ign(k)) continue;
      if (!(k in a)) {
        const near = Object.keys(a).find((x) => x.toLowerCase() === k.toLowerCase());
        out.push(`${path}.${k}: missing${near ? ` (found ${near}: casing differs)` : ''}`);
      } else out.push(...shapeDiff(e[k], a[k], o, `${path}.${k}`));
    }
    if (o.mode === 'exact') for (const k of Object.keys(a)) if (!(k in e) && !ign(k)) out.push(`${path}.${k}: not in the real answer`);
  }
  return out;
}

/** `<error><ret>0</ret>…</error>` → `['error', 'ret', 'message', …]` (element names in document order). */
export function xmlElementOrder(xml: string): string[] {
  return [...xml.matchAll(/<([A-Za-z_][\w]*)>/g)].map((m) => m[1]!);
}

/**
 * The syntax skeleton of a `window.x = …;` answer: string contents → S, numbers → N, whitespace kept only where it
 * is inside a statement (`window.code=N;` vs `window.QRLogin.code = N;`), statement separators normalised.
 */
export function jsSkeleton(js: string): string {
  return js
    .trim()
    .replace(/"[^"]*"/g, '"S"')
    .replace(/'[^']*'/g, "'S'")
    .replace(/-?\b\d+\b/g, 'N')
    .replace(/;\s+/g, ';');
}
