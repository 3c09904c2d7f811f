/**
 * OneBot 11 message formats: the segment array and the CQ-code string (`[CQ:type,key=value]`, with `&amp;`,
 * `&#91;`, `&#93;` escaped in text and also `&#44;` in values).
 */
export interface V11Segment {
  type: string;
  data: Record<string, unknown>;
}

const escText = (s: string) => s.replace(/&/g, '&amp;').replace(/\[/g, '&#91;').replace(/\]/g, '&#93;');
const escValue = (s: string) => escText(s).replace(/,/g, '&#44;');
const unescape = (s: string) => s.replace(/&#44;/g, ',').replace(/&#91;/g, '[').replace(/&#93;/g, ']').replace(/&amp;/g, '&');

export function toCq(segs: V11Segment[]): string {
  return segs
    .map((s) => {
      if (s.type === 'text') return escText(String(s.data['text'] ?? ''));
      const kv = Object.entries(s.data)
        .filter(([, v]) => v !== undefined && v !== null)
        .map(([k, v]) => `,${k}=${escValue(typeof v === 'object' ? JSON.stringify(v) : String(v))}`)
        .join('');
      return `[CQ:${s.type}${kv}]`;
    })
    .join('');
}

/** Parses a CQ string; `autoEscape`: the whole string is text. */
export function fromCq(s: string, autoEscape = false): V11Segment[] {
  if (autoEscape) return [{ type: 'text', data: { text: s } }];
  const out: V11Segment[] = [];
  const re = /\[CQ:([a-zA-Z0-9_.-]+)((?:,[^,=\]]+=[^,\]]*)*)\]/g;
  let at = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    if (m.index > at) out.push({ type: 'text', data: { text: unescape(s.slice(at, m.index)) } });
    const data: Record<string, unknown> = {};
    for (const pair of m[2]!.split(',').slice(1)) {
      const i = pair.indexOf('=');
      data[pair.slice(0, i)] = unescape(pair.slice(i + 1));
    }
    out.push({ type: m[1]!, data });
    at = m.index + m[0].length;
  }
  if (at < s.length) out.push({ type: 'text', data: { text: unescape(s.slice(at)) } });
  return out;
}
