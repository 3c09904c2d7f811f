/**
 * Summarises a V8 .cpuprofile (from `--cpu-prof`): self time by function and by file (top N).
 *   node --import tsx bench/lib/profile-summary.ts <file.cpuprofile> [top]
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

export function summarise(file: string, top = 25): string {
  const p = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fn = new Map<string, number>();
  const files = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const url = n.callFrame.url.replace(/^file:\/\/.*?\/(node_modules|src|dist|bench)\//, '$1/');
    const key = `${n.callFrame.functionName || '(anon)'} ${url}:${n.callFrame.lineNumber + 1}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    const f = url.startsWith('node_modules/') ? url.split('/').slice(0, 2).join('/') : url || n.callFrame.functionName;
    files.set(f, (files.get(f) ?? 0) + us);
  }
  const fmt = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`)
      .join('\n');
  return `total ${(total / 1000).toFixed(0)} ms sampled\n-- self time by function --\n${fmt(fn)}\n-- by file/package --\n${fmt(files)}\n`;
}

if (process.argv[1]?.endsWith('profile-summary.ts') && !process.argv.includes('--inclusive')) {
  process.stdout.write(summarise(process.argv[2]!, Number(process.argv[3] ?? 25)));
}

/** Inclusive (total) time by function, for frames under src/, dist/ (the built src/) or bench/ (who costs what, children included). */
export function inclusive(file: string, top = 30, filter = /(src|dist|bench)\//): string {
  const p = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const acc = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    let id: number | undefined = p.samples[i]!;
    if (byId.get(id)?.callFrame.functionName === '(idle)') continue;
    total += dt;
    const seen = new Set<string>();
    while (id !== undefined) {
      const n = byId.get(id)!;
      const url = n.callFrame.url.replace(/^file:\/\/.*?\/(node_modules|src|dist|bench)\//, '$1/');
      if (filter.test(url)) {
        const key = `${n.callFrame.functionName || '(anon)'} ${url}:${n.callFrame.lineNumber + 1}`;
        if (!seen.has(key)) {
          seen.add(key);
          acc.set(key, (acc.get(key) ?? 0) + dt);
        }
      }
      id = parent.get(id);
    }
  }
  return `busy ${(total / 1000).toFixed(0)} ms\n-- inclusive time --\n${[...acc.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, us]) => `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`)
    .join('\n')}\n`;
}

if (process.argv[1]?.endsWith('profile-summary.ts') && process.argv.includes('--inclusive')) {
  process.stdout.write(inclusive(process.argv[2]!, 40));
}
