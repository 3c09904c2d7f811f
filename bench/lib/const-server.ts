/**
 * The API baseline (own process, like openwx): a bare fastify 5 server whose routes each return a constant JSON
 * object (serialised by fastify per request, as openwx's routes are) of the same size as the openwx answer it
 * stands for. Reads `{ "<path>": <body text> }` from the file given; sends `{ op: 'ready', url }` over IPC.
 */
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

const bodies = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Record<string, string>;
const app = Fastify({ logger: false });
for (const [path, text] of Object.entries(bodies)) {
  const obj = JSON.parse(text) as unknown;
  app.get(path, async () => obj);
}
await app.listen({ port: 0, host: '127.0.0.1' });
const addr = app.server.address();
process.send?.({ op: 'ready', url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}` });
process.on('disconnect', () => void app.close().then(() => process.exit(0)));
