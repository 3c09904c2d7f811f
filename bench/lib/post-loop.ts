/**
 * The inbound baseline (own process, like openwx): a bare loop POSTing the same JSON bodies openwx delivered to
 * the same receiver with undici, one request at a time (what one ordered post_api delivery can do at best).
 *   node --import tsx bench/lib/post-loop.ts <url> <bodies.jsonl>
 * Prints one JSON line: { n, elapsedMs }.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';

const [url, file] = process.argv.slice(2) as [string, string];
const bodies = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as string);
const dispatcher = new Agent({ keepAliveTimeout: 10_000, connections: 4 });
const t0 = performance.now();
for (const body of bodies) {
  const res = await request(url, { method: 'POST', body, headers: { 'content-type': 'application/json' }, dispatcher });
  await res.body.text();
}
const elapsedMs = performance.now() - t0;
await dispatcher.close();
process.stdout.write(`${JSON.stringify({ n: bodies.length, elapsedMs })}\n`);
