/**
 * Session persistence: one JSON file per account in the data folder, replaced atomically (write a temp file with
 * mode 0600, fsync, rename), so a crash never leaves half a session. Holds cookies, keys, SyncKey, the host family
 * and the uin (for push login), plus the stable-id table of the contacts (kept across QR logins).
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
  /** Opaque to the store: the contact book's stable-id table. */
  stableIds?: unknown;
}

export class SessionStore {
  readonly path: string;

  constructor(readonly dir: string, readonly account: string) {
    this.path = join(dir, `session-${account}.json`);
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
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const full: SessionFile = { version: SESSION_FILE_VERSION, account: this.account, savedAt: Date.now(), ...f };
    const tmp = `${this.path}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify(full));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.path);
  }

  clear(): void {
    rmSync(this.path, { force: true });
  }
}
