import { openInboundSession, inboundRound } from '../inbound.ts';
const s = await openInboundSession();
await inboundRound(s, 'full', { n: 5000 });
await s.proc.heapSnapshot('/tmp/h1.heapsnapshot');
await inboundRound(s, 'full', { n: 5000 });
await inboundRound(s, 'full', { n: 5000 });
await s.proc.heapSnapshot('/tmp/h2.heapsnapshot');
await s.close();
process.exit(0);
