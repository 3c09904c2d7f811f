/**
 * QR login tickets (one per jslogin uuid / push login): waiting → scanned → confirmed, or expired. Login polls
 * wait on a ticket's change; the ticket remembers what it last reported so a poll answers each change once.
 */
import { Session } from './sessions.ts';
import type { SandboxUser } from './user.ts';
import { Waiters } from './waiters.ts';

export type TicketState = 'waiting' | 'scanned' | 'confirmed';

export interface TicketInit {
  /** `https://wx.qq.com` or `http://127.0.0.1:5030`: where redirect_uri points. */
  redirectOrigin: string;
  pageHost: string;
  lang: string;
  desktop: boolean;
  expiresInMs: number;
  pushLogin?: boolean;
}

export class LoginTicket {
  readonly uuid = Session.uuid();
  readonly ticket = Session.qrTicket();
  readonly createdAt = Date.now();
  readonly expiresAt: number;
  state: TicketState = 'waiting';
  /** The state the last answered poll reported. */
  reported: TicketState = 'waiting';
  scanTime = 0;
  firstFetchedAt: number | null = null;
  /** The session created when the ticket was redeemed at webwxnewloginpage (redeeming again returns it). */
  session: Session | null = null;
  /** The user the QR was scanned or confirmed as (a push login's: from the start); null while nobody scanned it. */
  user: SandboxUser | null = null;
  private readonly waiters = new Waiters();

  constructor(readonly init: TicketInit) {
    this.expiresAt = this.createdAt + init.expiresInMs;
  }

  get expired(): boolean {
    return this.state !== 'confirmed' && Date.now() >= this.expiresAt;
  }

  /**
   * The login poll's `redirect_uri`. A desktop-mode login (jslogin's redirect_uri was `…webwxnewloginpage?mod=desktop`)
   * keeps that `mod=desktop` and gets the ticket parameters appended after it, as a login service preserves the query
   * of the redirect_uri it was given: wechat4u (UOS login, tested against the real server in its PR #303) GETs this URL
   * unchanged with the UOS headers and only accepts the desktop answer (HTTP 301).
   */
  redirectUri(): string {
    const mod = this.init.desktop ? 'mod=desktop&' : '';
    return `${this.init.redirectOrigin}/cgi-bin/mmwebwx-bin/webwxnewloginpage?${mod}ticket=${this.ticket}&uuid=${this.uuid}&lang=${this.init.lang}&scan=${this.scanTime}`;
  }

  scan(): void {
    if (this.state !== 'waiting') return;
    this.state = 'scanned';
    this.scanTime = Math.floor(Date.now() / 1000);
    this.wake();
  }

  confirm(): void {
    if (this.state === 'confirmed') return;
    if (this.state === 'waiting') this.scanTime = Math.floor(Date.now() / 1000);
    this.state = 'confirmed';
    this.wake();
  }

  onChange(w: () => void): () => void {
    return this.waiters.add(w);
  }

  wake(): void {
    this.waiters.wake();
  }
}
