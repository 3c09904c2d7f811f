/**
 * The keys of one logged-in session (what webwxnewloginpage returned, plus SyncKey state and the user's own
 * UserName): implements SessionContext for every protocol step, and snapshots to/from the session store.
 */
import { deviceId } from '../wire/ids.ts';
import { emptySyncKey } from '../wire/synckey.ts';
import type { BaseRequest, SyncKey } from '../wire/types.ts';
import type { SessionSnapshot } from '../store/session-store.ts';
import type { SessionContext, SessionKeys } from './transport-types.ts';

export class Session implements SessionContext {
  uin = '';
  sid = '';
  skey = '';
  /** Still URL-encoded, exactly as in the XML. */
  passTicket = '';
  selfUser = '';
  syncKey: SyncKey = emptySyncKey();
  /** From the last webwxsync that returned one (Count > 0); synccheck prefers it. */
  syncCheckKey: SyncKey | null = null;

  constructor(private readonly desktop: boolean) {}

  keys(): SessionKeys {
    return { uin: this.uin, sid: this.sid, skey: this.skey, passTicket: this.passTicket };
  }

  /** Uin as a number everywhere except webwxinit, where the official client sends the string. */
  baseRequest(uinAsString = false): BaseRequest {
    const n = Number(this.uin);
    return {
      Uin: uinAsString || !Number.isSafeInteger(n) ? this.uin : n,
      Sid: this.sid,
      Skey: this.skey,
      DeviceID: deviceId(),
    };
  }

  selfUserName(): string {
    return this.selfUser;
  }

  desktopMode(): boolean {
    return this.desktop;
  }

  hasKeys(): boolean {
    return this.uin !== '' && this.sid !== '' && this.skey !== '';
  }

  /** SyncCheckKey when the last sync returned one, else SyncKey (official getFormateSyncCheckKey). */
  checkKey(): SyncKey {
    return this.syncCheckKey && this.syncCheckKey.Count > 0 ? this.syncCheckKey : this.syncKey;
  }

  /** `pass_ticket` query pair (the stored, already-encoded value is encoded once more, as the official client). */
  passTicketParam(): [string, string][] {
    return this.passTicket ? [['pass_ticket', this.passTicket]] : [];
  }

  clear(): void {
    this.uin = this.sid = this.skey = this.passTicket = this.selfUser = '';
    this.syncKey = emptySyncKey();
    this.syncCheckKey = null;
  }

  snapshot(pageHost: string, cookies: unknown): SessionSnapshot {
    return {
      pageHost,
      uin: this.uin,
      sid: this.sid,
      skey: this.skey,
      passTicket: this.passTicket,
      selfUserName: this.selfUser,
      syncKey: this.syncKey,
      syncCheckKey: this.syncCheckKey,
      cookies,
      desktopMode: this.desktop,
    };
  }

  restore(s: SessionSnapshot): void {
    this.uin = s.uin;
    this.sid = s.sid;
    this.skey = s.skey;
    this.passTicket = s.passTicket;
    this.selfUser = s.selfUserName;
    this.syncKey = s.syncKey ?? emptySyncKey();
    this.syncCheckKey = s.syncCheckKey ?? null;
  }
}
