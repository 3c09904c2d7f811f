import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { OutboxDelivery } from '../../src/delivery/outbox-delivery.ts';
import { openDatabase } from '../../src/store/db.ts';
import { SqliteStorage } from '../../src/store/sqlite-storage.ts';
import type { AccountStorage } from '../../src/store/storage.ts';
import { Receiver } from './receiver.ts';

/** The real storage handle, with its calls counted by method name (nothing replaced). */
export function counted(store: AccountStorage): { store: AccountStorage; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        calls.set(String(prop), (calls.get(String(prop)) ?? 0) + 1);
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, calls };
}

/**
 * A real outbox worker of account `a` over a fresh SQLite file, its storage calls counted, reporting to a receiver
 * that answers 503 until `setDown(false)`. Closed when the test ends.
 */
export async function downReceiverRig(
  t: TestContext,
  o: Omit<ConstructorParameters<typeof OutboxDelivery>[1], 'account' | 'url'>,
): Promise<{ rx: Receiver; storage: SqliteStorage; store: AccountStorage; calls: Map<string, number>; sink: OutboxDelivery; setDown: (v: boolean) => void }> {
  const rx = await new Receiver().start();
  let down = true;
  rx.answer = () => (down ? { status: 503 } : { status: 200, json: {} });
  const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'owx-rig-')), 'openwx.db'));
  const storage = new SqliteStorage(db);
  const { store, calls } = counted(storage.forAccount('a'));
  const sink = new OutboxDelivery(store, { account: 'a', url: rx.url, ...o });
  t.after(async () => {
    await sink.close();
    await storage.close();
    db.close();
    await rx.stop();
  });
  return { rx, storage, store, calls, sink, setDown: (v) => (down = v) };
}
