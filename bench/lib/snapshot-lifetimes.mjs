/**
 * What lives for seconds: of three heap snapshots of one process taken in one inspector session (object ids kept,
 * bench/lib/probe.mjs), the objects made between the first and the second that the third still holds, by type and
 * constructor, with examples of their strings.
 *   node --max-old-space-size=8192 bench/lib/snapshot-lifetimes.mjs <snap.1> <snap.2> <snap.3>
 */
import { readFileSync } from 'node:fs';

function load(file) {
  const d = JSON.parse(readFileSync(file, 'utf8'));
  const f = d.snapshot.meta.node_fields;
  return { d, n: f.length, id: f.indexOf('id'), type: f.indexOf('type'), name: f.indexOf('name'), size: f.indexOf('self_size'), types: d.snapshot.meta.node_types[0] };
}
// The JS heap's objects have odd ids, given in allocation order (as the profiler first sees them); native and
// synthetic nodes have even ones from another range.
function maxId(file) {
  const s = load(file);
  let m = 0;
  for (let i = 0; i < s.d.nodes.length; i += s.n) {
    const id = s.d.nodes[i + s.id];
    if (id % 2 === 1 && id > m) m = id;
  }
  return m;
}
const [f1, f2, f3] = process.argv.slice(2);
const a = maxId(f1);
const b = maxId(f2);
const s = load(f3);
const by = new Map();
const strings = [];
let total = 0;
for (let i = 0; i < s.d.nodes.length; i += s.n) {
  const id = s.d.nodes[i + s.id];
  if (id % 2 === 0 || id <= a || id > b) continue;
  const type = s.types[s.d.nodes[i + s.type]];
  const name = s.d.strings[s.d.nodes[i + s.name]];
  const key = /string|number/.test(type) ? type : `${type} ${name.slice(0, 70)}`;
  const e = by.get(key) ?? { bytes: 0, count: 0 };
  e.bytes += s.d.nodes[i + s.size];
  e.count++;
  total += s.d.nodes[i + s.size];
  by.set(key, e);
  if (type === 'string' && strings.length < 30) strings.push(name.slice(0, 120));
}
console.log(`made between snapshots 1 and 2 (ids ${a}..${b}), alive in 3: ${(total / 1048576).toFixed(2)} MiB`);
for (const [k, e] of [...by].sort((x, y) => y[1].bytes - x[1].bytes).slice(0, 30)) console.log(`${(e.bytes / 1048576).toFixed(2).padStart(8)} MiB ${String(e.count).padStart(8)}  ${k}`);
console.log('examples of their strings:');
for (const x of strings) console.log(`  ${JSON.stringify(x)}`);
