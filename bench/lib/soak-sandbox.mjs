/**
 * The soak's sandbox, in its own process (compiled dist/, like the `openwx sandbox` command): it outlives every
 * kill -9 of openwx and keeps queueing messages for the session, so openwx resumes without a scan. The soak drives
 * it through the HTTP control API (/__sandbox/messages, /faults, /state, /confirm); this IPC channel only adds what
 * the control API has no call for:
 *   ready {url}                 sent once listening
 *   {id, op:'clear-faults'}     drops every pending fault (the drain runs without faults)
 *   {id, op:'diag', arg:ids?}   fault uses still queued; the session's queue: acknowledged position, last event, events still pending, pending
 *                               messages whose stored copy was evicted (the sandbox keeps 20,000 messages per session),
 *                               and, for the given MsgIds, where each stands ('pending', 'evicted', 'acked' = the
 *                               client presented a SyncKey past it, 'unknown')
 *   {op:'stop'}                 closes and exits
 *
 *   node bench/lib/soak-sandbox.mjs '<startSandbox options JSON>'   (SOAK_SANDBOX_MODULE=<path of index.ts|js>)
 */
// SOAK_SANDBOX_MODULE: another build of the sandbox (e.g. an older checkout's src/sandbox/index.ts; the soak then
// starts this process with tsx), to compare sandboxes under the same chaos.
const module = process.env['SOAK_SANDBOX_MODULE'] ?? new URL('../../dist/sandbox/index.js', import.meta.url).href;
const { startSandbox } = await import(module.startsWith('/') ? `file://${module}` : module);

const opts = JSON.parse(process.argv[2] ?? '{}');
const sb = await startSandbox({ port: 0, chatter: false, ...opts });
// The handle's core (a TypeScript-private field, there at run time) holds the fault queue and the session.
const core = sb.handle.core;
if (!core?.faults || typeof core.online !== 'function') throw new Error('soak-sandbox: the sandbox handle has no core (sandbox internals changed)');

function diag(ids) {
  const faults = core.faults.pending().reduce((a, f) => a + f.times, 0);
  const s = core.online();
  if (!s) return { online: false, faults };
  const acked = s.ackedPosition;
  const pending = s.pendingAfter(acked);
  const pendingMsgs = new Set();
  let evicted = 0;
  for (const e of pending) {
    if (e.kind !== 'msg') continue;
    pendingMsgs.add(e.msgId);
    if (!s.messages.has(e.msgId)) evicted++;
  }
  const where = {};
  for (const id of ids ?? []) {
    if (pendingMsgs.has(id)) where[id] = s.messages.has(id) ? 'pending' : 'evicted';
    else where[id] = s.messages.has(id) ? 'acked' : 'unknown';
  }
  return { online: true, faults, acked, lastSeq: s.lastSeq, pending: pending.length, pendingEvicted: evicted, stored: s.messages.size, where };
}

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await sb.close().catch(() => undefined);
  process.exit(0);
}

process.on('message', (m) => {
  if (m?.op === 'stop') return void stop();
  if (typeof m?.id !== 'number') return;
  let result;
  if (m.op === 'clear-faults') {
    core.faults.clear();
    result = { ok: true };
  } else if (m.op === 'diag') result = diag(m.arg);
  else result = { error: `unknown op ${m.op}` };
  process.send?.({ id: m.id, result });
});
process.on('disconnect', () => void stop());
process.on('SIGTERM', () => void stop());
process.send?.({ op: 'ready', url: sb.url, pid: process.pid });
