/**
 * Session persistence: two JSON files per account in the data folder, each replaced atomically (write a temp file
 * with mode 0600, fsync, rename), so a crash never leaves half a file. `session-<account>.json` holds cookies, keys,
 * SyncKey, the host family and the uin (for push login): small, saved after every sync. `stable-ids-<account>.json`
 * holds the stable-id table of the contacts (kept across QR logins; up to 20,000 aliases): saved only when it
 * changed. Files of earlier versions carried the table inside the session file (`stableIds`); it is still read.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync, chmodSync } from 'node:fs';
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

export class SessionStore {
  readonly path: string;
  readonly stableIdsPath: string;

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

  saveStableIds(state: unknown): void {
    this.#write(this.stableIdsPath, JSON.stringify(state));
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

  save(f: Omit<SessionFile, 'version' | 'account' | 'savedAt'>): void {
    const full: SessionFile = { version: SESSION_FILE_VERSION, account: this.account, savedAt: Date.now(), ...f };
    this.#write(this.path, JSON.stringify(full));
  }

  #write(path: string, text: string): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${path}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    chmodSync(tmp, 0o600);
    renameSync(tmp, path);
  }

  /** Forgets both files. */
  clear(): void {
    rmSync(this.path, { force: true });
    rmSync(this.stableIdsPath, { force: true });
  }
}
