/** The storage contract (storage-contract.ts) on SQLite: `SqliteStorage` over a data folder's openwx.db. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/store/db.ts';
import { SqliteStorage } from '../../src/store/sqlite-storage.ts';
import { storageContract } from './storage-contract.ts';

storageContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'owx-storage-'));
  const path = join(dir, 'openwx.db');
  const db = openDatabase(path);
  const storage = new SqliteStorage(db);
  const others: ReturnType<typeof openDatabase>[] = [];
  return {
    storage,
    reopen: async () => {
      const db2 = openDatabase(path);
      others.push(db2);
      return new SqliteStorage(db2);
    },
    transactions: () => storage.stats.transactions,
    close: async () => {
      await storage.close();
      db.close();
      for (const d of others) d.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
