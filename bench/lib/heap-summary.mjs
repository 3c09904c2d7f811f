/**
 * Summarises a V8 sampling heap profile (.heapprofile, written by bench/lib/probe.mjs with BENCH_HEAP_PROF=1 and
 * BENCH_PROF=dir): bytes allocated by function (self), and inclusive for frames under src/ or dist/.
 *   node bench/lib/heap-summary.mjs <file.heapprofile>
 */
import { readFileSync } from 'node:fs';
const p = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const self = new Map(), incl = new Map(); let total = 0;
const norm = (cf) => `${cf.functionName || '(anon)'} ${cf.url.replace(/^file:\/\/.*?\/(node_modules|src|dist|bench)\//, '$1/')}:${cf.lineNumber + 1}`;
function walk(n, stack) {
  const k = norm(n.callFrame);
  const s = (n.selfSize);
  total += s;
  self.set(k, (self.get(k) ?? 0) + s);
  const st = new Set([...stack, k]);
  for (const f of st) if (/(dist|src)\//.test(f)) incl.set(f, (incl.get(f) ?? 0) + s);
  for (const c of n.children) walk(c, st);
}
walk(p.head, []);
const top = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${(100 * v / total).toFixed(1).padStart(5)}% ${(v / 1048576).toFixed(0).padStart(6)} MiB ${k}`).join('\n');
console.log(`total ${(total / 1048576).toFixed(0)} MiB\n-- self --\n${top(self, 45)}\n-- inclusive (ours) --\n${top(incl, 45)}`);
