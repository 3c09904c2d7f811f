/**
 * Session persistence: two JSON files per account in the data folder, each replaced atomically (write a temp file
 * with mode 0600, fsync, rename), so a crash never leaves half a file. `session-<account>.json` holds cookies, keys,
 * SyncKey, the host family and the uin (for push login): small, saved after every sync. `stable-ids-<account>.json`
 * holds the stable-id table of the contacts (kept across QR logins; up to 20,000 aliases): saved only when it
 * changed. Files of earlier versions carried the table inside the session file (`stableIds`); it is still read.
 *
 * Writes are asynchronous (fs.promises: the fsync of a busy disk takes milliseconds, which a controller of 100
 * accounts cannot spend on its event loop) and coalesced per file: at most one write of a file is in flight; saves
 * made meanwhile only replace the text waiting for it, which is written once when the running write is done. Every
 * promise returned by a save resolves when a write that includes its state (or a newer one) is on disk.
 */
import { readFileSync, renameSync, rmSync } from 'node:fs';
import { chmod, mkdir, open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { SyncKey } from '../wire/types.ts';

export const SESSION_FILE_VERSION = 1;

export interface SessionSnapshot {
  /** Page host of the family (wx.qq.com, wx2.qq.com, …). */
  pageHost: string;
  uin: string;
  sid: string;
  skey: string;
  passTicket: string;
  selfUserName: string;
  syncKey: SyncKey;
  syncCheckKey: SyncKey | null;
  /** tough-cookie serialized jar. */
  cookies: unknown;
  desktopMode: boolean;
}

export interface SessionFile {
  version: number;
  account: string;
  savedAt: number;
  /** null after a logout: the uin stays for push login. */
  session: SessionSnapshot | null;
  /** The uin of the last login (push login needs it even when the session is gone). */
  lastUin: string;
  /** Only in files written before the table got its own file: read once, then written to `stableIdsPath`. */
  stableIds?: unknown;
}

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

/** The write queue of one file: the newest text not yet being written, and who waits for it. */
interface FileWriter {
  running: boolean;
  next: string | null;
  waiters: Waiter[];
}

export class SessionStore {
  readonly path: string;
  readonly stableIdsPath: string;
  readonly #writers = new Map<string, FileWriter>();
  #writesDone = 0;

  constructor(readonly dir: string, readonly account: string) {
    this.path = join(dir, `session-${account}.json`);
    this.stableIdsPath = join(dir, `stable-ids-${account}.json`);
  }

  /** The saved stable-id table (opaque to the store), or undefined when there is none or it is unreadable. */
  loadStableIds(): unknown {
    let text: string;
    try {
      text = readFileSync(this.stableIdsPath, 'utf8');
    } catch {
      return undefined;
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      try {
        renameSync(this.stableIdsPath, `${this.stableIdsPath}.corrupt-${Date.now()}`);
      } catch {
        /* already gone */
      }
      return undefined;
    }
  }

  /** Resolves once this state (or a newer one) is on disk. */
  saveStableIds(state: unknown): Promise<void> {
    return this.#write(this.stableIdsPath, JSON.stringify(state));
  }

  /** The saved file, or null when there is none or it is unreadable (a corrupt file is moved aside). */
  load(): SessionFile | null {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch {
      return null;
    }
    try {
      const f = JSON.parse(text) as SessionFile;
      if (!f || typeof f !== 'object' || f.version !== SESSION_FILE_VERSION) throw new Error('unknown version');
      return f;
    } catch {
      try {
        renameSync(this.path, `${this.path}.corrupt-${Date.now()}`);
      } catch {
        /* already gone */
      }
      return null;
    }
  }

  /** Resolves once this state (or a newer one) is on disk; rejects when that write failed. */
  save(f: Omit<SessionFile, 'version' | 'account' | 'savedAt'>): Promise<void> {
    const full: SessionFile = { version: SESSION_FILE_VERSION, account: this.account, savedAt: Date.now(), ...f };
    return this.#write(this.path, JSON.stringify(full));
  }

  /** Completed file writes (both files) since this store was made: saves made during a write coalesce into one. */
  get writesDone(): number {
    return this.#writesDone;
  }

  #write(path: string, text: string): Promise<void> {
    let w = this.#writers.get(path);
    if (!w) {
      w = { running: false, next: null, waiters: [] };
      this.#writers.set(path, w);
    }
    w.next = text;
    const done = new Promise<void>((resolve, reject) => w.waiters.push({ resolve, reject }));
    if (!w.running) {
      w.running = true;
      void this.#drain(path, w);
    }
    return done;
  }

  /** Writes the newest text until none is waiting; `running` turns false in the same tick as the last check. */
  async #drain(path: string, w: FileWriter): Promise<void> {
    try {
      while (w.next !== null) {
        const text = w.next;
        const waiters = w.waiters;
        w.next = null;
        w.waiters = [];
        try {
          await this.#writeFile(path, text);
          this.#writesDone++;
          for (const x of waiters) x.resolve();
        } catch (err) {
          for (const x of waiters) x.reject(err);
        }
      }
    } finally {
      w.running = false;
    }
  }

  /** Temp file (mode 0600), fsync, rename over the old file: a crash leaves the old or the new file, never half. */
  async #writeFile(path: string, text: string): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${path}.${process.pid}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await chmod(tmp, 0o600);
    await rename(tmp, path);
  }

  /** Forgets both files. */
  clear(): void {
    rmSync(this.path, { force: true });
    rmSync(this.stableIdsPath, { force: true });
  }
}
