/**
 * What V8's young-generation collections free, for tests of objects that must not outlive it (docs/decisions.md,
 * "Per-message garbage that outlives the young generation").
 *
 * `promotedInChild` runs the workload in a fresh node: the test runner's own machinery (its timeouts) promotes
 * objects of its own meanwhile, by as much as the effect measured. The child enables the gc extension at run time.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function gcFunction(): (o?: { type?: 'major' | 'minor' }) => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as (o?: { type?: 'major' | 'minor' }) => void;
}

/** Full collections: everything alive now ends up in the old generation (as the long-lived owners of a server). */
export function promoteAll(): void {
  const gc = gcFunction();
  gc();
  gc();
}

/** Bytes used in the old generation (old space and large objects). */
export function oldGenerationBytes(): number {
  return v8
    .getHeapSpaceStatistics()
    .filter((s) => s.space_name === 'old_space' || s.space_name === 'lo_space')
    .reduce((a, s) => a + s.space_used_size, 0);
}

/**
 * How many bytes the old generation grew by while `run` ran and three young-generation collections after it (each
 * survivor is promoted by its second): what `run` allocated and dropped should have stayed young.
 */
export async function promotedBy(run: () => void | Promise<void>): Promise<number> {
  const gc = gcFunction();
  const before = oldGenerationBytes();
  await run();
  for (let i = 0; i < 3; i++) gc({ type: 'minor' });
  return oldGenerationBytes() - before;
}

/** ~`n` × 40 bytes of small objects (a young-generation payload; an array of numbers would be one large object). */
export function payload(n: number): { k: number }[] {
  return Array.from({ length: n }, (_, k) => ({ k }));
}

export interface PromotionProbe {
  /** Import lines, paths relative to the repository root (`./src/…`). */
  imports: string;
  /** Makes the owner and uses it once; then everything alive is promoted, as a long-running process's owners are. */
  setup: string;
  /** One round of the workload (top-level await allowed); `payload(n)` is in scope. */
  round: string;
  rounds: number;
}

/** `promotedBy` of `rounds` rounds, measured in a fresh node process (ES module, TypeScript through tsx). */
export function promotedInChild(p: PromotionProbe): number {
  const source = [
    "import { payload, promoteAll, promotedBy } from './test/helpers/gc.ts';",
    p.imports,
    p.setup,
    'promoteAll();',
    `const grew = await promotedBy(async () => { for (let i = 0; i < ${p.rounds}; i++) { ${p.round} } });`,
    'process.stdout.write(JSON.stringify({ grew }));',
  ].join('\n');
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', source], { cwd: ROOT, encoding: 'utf8' });
  return (JSON.parse(out) as { grew: number }).grew;
}
