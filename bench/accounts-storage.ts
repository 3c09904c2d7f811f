/**
 * The storage path of `bench/accounts.ts` alone, in one process, without the network: what the reporters and the
 * delivery workers of `--accounts` accounts write per message, the way openwx wrote it before issue 12's host storage
 * (`--mode per-account`: one transaction per account per turn for the history record + outbox row, then each
 * account's own `started` and `deliveredMany`) and the way it writes it now (`--mode host`: src/store/sqlite-storage.ts,
 * every account's calls of one turn in one transaction). Each turn commits `--per-turn` reports of different accounts,
 * counts their first attempts the way the delivery worker does (in the commit's continuation) and deletes the previous
 * turn's rows (as delivered). Reports a CPU time (user + system)
 * and a wall time per message: the CPU the event loop spends on storage, and how long it is held.
 *
 *   node --import tsx bench/accounts-storage.ts [--mode host|per-account] [--accounts 100] [--turns 1500] [--per-turn 20]
 *     [--first-attempt insert|worker]
 *   BENCH_ACCOUNTS_DATA=/dev/shm … (default: the OS temp folder, i.e. the disk)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openDatabase } from '../src/store/db.ts';
import { MessageHistory } from '../src/store/history.ts';
import { Outbox } from '../src/store/outbox.ts';
import { SqliteStorage } from '../src/store/sqlite-storage.ts';
import type { StoredMessage } from '../src/store/storage.ts';

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
};
const mode = arg('mode', 'host');
const accounts = Number(arg('accounts', '100'));
const turns = Number(arg('turns', '1500'));
const perTurn = Number(arg('per-turn', '20'));
// `insert`: the first attempt is counted by the report's insert (the worker was idle: NewReport.started); `worker`:
// the worker counts it in a write of its own (as before, and still when the worker is busy).
const firstAttempt = arg('first-attempt', 'insert');

// A text report of the size the accounts benchmark posts (~0.9 KB).
const body = JSON.stringify({
  post_type: 'receive_message', id: '0', type: 'friend_message', class: 'recv', format: 'text', content: 'acct:123456',
  sender: 'Alice', sender_id: `@${'a'.repeat(32)}`, receiver: 'Bob', receiver_id: `@${'b'.repeat(32)}`, time: 1_700_000_000,
  sender_name: 'Alice', sender_markname: '', sender_category: '好友', pad: 'x'.repeat(600),
});
// With its JSON text, as the reporter gives it (the report's body is the same text).
const record = (msgId: string, t: number): StoredMessage => ({ msgId, peer: '@p', localId: null, class: 'recv', time: 1_700_000_000 + t, body: JSON.parse(body) as unknown, bodyJson: body });
const turn = () => new Promise<void>((r) => setImmediate(r));

const dir = mkdtempSync(join(process.env['BENCH_ACCOUNTS_DATA'] ?? tmpdir(), 'owx-bench-storage-'));
const db = openDatabase(join(dir, 'openwx.db'));
let msg = 0;
let transactions = 0;
const cpu0 = process.cpuUsage();
const wall0 = performance.now();

if (mode === 'host') {
  const s = new SqliteStorage(db);
  let pending: { a: string; seq: number }[] = [];
  for (let t = 0; t < turns; t++) {
    const commits = [];
    for (let k = 0; k < perTurn; k++, msg++) {
      const a = `acc${msg % accounts}`;
      const store = s.forAccount(a);
      const job = { message: { record: record(String(1e15 + msg), t), ifNew: true }, report: { kind: 'receive_message', body, createdAt: Date.now(), started: firstAttempt === 'insert' } };
      commits.push(
        store.commitReports([job]).then(([o]) => {
          const seq = o?.ok && o.row ? o.row.seq : -1;
          // As the delivery worker does when the commit hands it the row: an attempt not counted by the insert is
          // counted before it is sent, in the continuation of the commit (the storage's follow-up transaction).
          if (o?.ok && o.row && o.row.attempts === 0) void store.markStarted([seq]);
          return { a, seq };
        }),
      );
    }
    // The previous turn's rows were answered meanwhile: deleted with this turn's commits.
    for (const p of pending) void s.forAccount(p.a).markDelivered([p.seq]);
    pending = await Promise.all(commits);
    // The next reports come from the network, in a later turn of the event loop.
    await turn();
  }
  await s.close();
  transactions = s.stats.transactions;
} else if (mode === 'per-account') {
  const ob = new Outbox(db);
  const histories = new Map<string, MessageHistory>();
  const history = (a: string) => histories.get(a) ?? histories.set(a, new MessageHistory(db, a)).get(a)!;
  let pending: number[] = [];
  for (let t = 0; t < turns; t++) {
    const rows: number[] = [];
    for (let k = 0; k < perTurn; k++, msg++) {
      const a = `acc${msg % accounts}`;
      db.transaction(() => {
        if (history(a).putNew(record(String(1e15 + msg), t))) rows.push(ob.insert(a, 'receive_message', body, Date.now(), null).seq);
      })();
      transactions++;
    }
    for (const seq of pending) ob.started([seq]);
    await turn();
    for (const seq of pending) ob.deliveredMany([seq]);
    transactions += 2 * pending.length;
    pending = rows;
  }
} else {
  throw new Error(`--mode host|per-account, not ${mode}`);
}
const cpu = process.cpuUsage(cpu0);
const wallMs = performance.now() - wall0;
db.close();
rmSync(dir, { recursive: true, force: true });
const per = (us: number) => Math.round((us / msg) * 10) / 10;
console.log(
  JSON.stringify({ mode, ...(mode === 'host' ? { firstAttempt } : {}), accounts, messages: msg, perTurn, transactions, cpuUsPerMessage: per(cpu.user + cpu.system), systemUsPerMessage: per(cpu.system), wallUsPerMessage: per(wallMs * 1000) }),
);
