/**
 * Compares two V8 heap snapshots: objects and self size by constructor/type name, largest growth first.
 *   node --import tsx bench/lib/heap-diff.ts before.heapsnapshot after.heapsnapshot [top]
 */
import { readFileSync } from 'node:fs';

function census(file: string): Map<string, { count: number; size: number }> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const f = snap.snapshot.meta.node_fields;
  const width = f.length;
  const iType = f.indexOf('type');
  const iName = f.indexOf('name');
  const iSize = f.indexOf('self_size');
  const types = snap.snapshot.meta.node_types[0];
  const out = new Map<string, { count: number; size: number }>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + iType]!]!;
    const name = type === 'object' || type === 'closure' ? snap.strings[snap.nodes[i + iName]!]! : `(${type})`;
    const e = out.get(name) ?? { count: 0, size: 0 };
    e.count++;
    e.size += snap.nodes[i + iSize]!;
    out.set(name, e);
  }
  return out;
}

export function heapDiff(a: string, b: string, top = 25): string {
  const A = census(a);
  const B = census(b);
  const rows = [...B.entries()].map(([k, v]) => {
    const o = A.get(k) ?? { count: 0, size: 0 };
    return { k, dc: v.count - o.count, ds: v.size - o.size, count: v.count };
  });
  rows.sort((x, y) => y.ds - x.ds);
  return rows
    .slice(0, top)
    .map((r) => `${(r.ds / 1024).toFixed(0).padStart(8)} KiB ${String(r.dc).padStart(8)} objs (now ${r.count})  ${r.k.slice(0, 80)}`)
    .join('\n');
}

if (process.argv[1]?.endsWith('heap-diff.ts')) {
  process.stdout.write(`${heapDiff(process.argv[2]!, process.argv[3]!, Number(process.argv[4] ?? 25))}\n`);
}
