/**
 * The typed in-process handle to the control operations (what `Sandbox` exposes and what the HTTP control API at
 * /__sandbox/ calls). Input is validated with the same zod schemas on both paths. Every operation is for one user
 * (`user`: its id, NickName, uin or a UserName it had), optional while the sandbox has one user; faults without
 * `user` are global.
 */
import { z } from 'zod';
import { ControlError, type SandboxCore, type SentRecord } from './core.ts';
import { injectMessages, type InjectRequest } from './messages.ts';
import { INJECT_TYPES } from './inject.ts';
import { applyContactOp, contactOpSchema, type ContactOp, type ContactOpResult } from './contact-ops.ts';
import type { FaultSpec } from './faults.ts';
import type { WorldSpec } from './world.ts';

export interface SandboxState {
  login: 'waiting' | 'scanned' | 'online' | 'offline';
  uuid: string | null;
  self: { UserName: string; NickName: string };
  friends: number;
  groups: number;
}

/** Messages one control call may inject (`count`, or the sum over an array). */
export const MAX_INJECT_PER_CALL = 10_000;

export const injectSchema = z.object({
  type: z.enum(INJECT_TYPES),
  from: z.string().min(1).optional(),
  group: z.string().min(1).optional(),
  to: z.string().min(1).optional(),
  content: z.string().optional(),
  count: z.number().int().min(1).max(MAX_INJECT_PER_CALL).optional(),
  title: z.string().optional(),
  url: z.string().optional(),
  fileName: z.string().optional(),
  msgId: z.string().regex(/^\d+$/).optional(),
});

export const faultSchema = z.object({
  endpoint: z.string().regex(/^[A-Za-z0-9_]+$/, 'endpoint is the last path segment, e.g. "synccheck"'),
  status: z.number().int().min(100).max(599).optional(),
  ret: z.number().int().optional(),
  delayMs: z.number().int().min(0).max(600000).optional(),
  body: z.string().optional(),
  times: z.number().int().min(1),
});

export const KNOWN_ENDPOINTS = [
  'jslogin', 'qrcode', 'login', 'webwxnewloginpage', 'webwxpushloginurl', 'webwxlogout', 'webwxinit', 'webwxstatusnotify',
  'webwxgetcontact', 'webwxbatchgetcontact', 'synccheck', 'webwxsync', 'webwxsendmsg', 'webwxsendmsgimg', 'webwxsendvideomsg',
  'webwxsendemoticon', 'webwxsendappmsg', 'webwxrevokemsg', 'webwxgetmsgimg', 'webwxgetvoice', 'webwxgetvideo', 'webwxgeticon',
  'webwxgetheadimg', 'webwxcreatechatroom', 'webwxupdatechatroom', 'webwxoplog', 'webwxverifyuser', 'webwxuploadmedia',
  'webwxcheckupload', 'webwxgetmedia',
] as const;

export const ticketSchema = z.object({
  uuid: z.string().min(1).optional(),
});

/** `user` of a request object: a string (a NickName, id, UserName) or a number (a uin). */
function userOf(o: unknown): string | undefined {
  const v = o && typeof o === 'object' ? (o as { user?: unknown }).user : undefined;
  if (v === undefined) return undefined;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  if (typeof v !== 'string') throw new ControlError('user: a NickName, id, uin or UserName of a sandbox user');
  return v;
}

/** Throws ControlError with a message naming the first problem. */
export function validate<T>(schema: z.ZodType<T>, input: unknown): T {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const i = r.error.issues[0]!;
  throw new ControlError(`${i.path.length ? i.path.join('.') : 'body'}: ${i.message}`);
}

/** One user as GET /__sandbox/users lists it. */
export interface UserSummary {
  /** The world's self id (`wxid_…`): a stable name for `user`. */
  id: string;
  NickName: string;
  uin: number;
  /** A live web session exists. */
  online: boolean;
  /** online; scanned = a QR was scanned/confirmed as this user and its client has not logged in yet; offline. */
  login: 'online' | 'scanned' | 'offline';
  /** The live session's UserName for the user itself (null when offline). */
  UserName: string | null;
  /** The last session's UserName (null before the first login). */
  lastUserName: string | null;
  /** The uuid of the QR scanned/confirmed as this user, waiting for its client (null when none). */
  uuid: string | null;
  loggedInBefore: boolean;
  /** Sends recorded for GET /__sandbox/sent?user=. */
  sent: number;
  /** Whether its world was built yet (generated worlds are built on first use). */
  worldBuilt: boolean;
}

export interface SandboxUsers {
  users: UserSummary[];
  /** QR codes not expired and not redeemed yet: `user` is null until one is scanned or confirmed as a user. */
  qrCodes: { uuid: string; state: 'waiting' | 'scanned' | 'confirmed'; user: string | null }[];
}

/** The user a control call is for: its id, NickName, uin or a UserName it had; optional while there is one user. */
export interface UserRef {
  user?: string;
}

export class SandboxHandle {
  constructor(private readonly core: SandboxCore) {}

  /** One user's state (`user` optional while there is one user). */
  state(user?: string): SandboxState {
    return this.core.resolveUser(user).state() as unknown as SandboxState;
  }

  /** Every user with its login state, and the QR codes waiting. */
  users(): SandboxUsers {
    const qrCodes: SandboxUsers['qrCodes'] = [];
    for (const t of this.core.tickets.values()) {
      if (t.expired || t.session) continue;
      qrCodes.push({ uuid: t.uuid, state: t.state, user: t.user?.identity.id ?? null });
    }
    return { users: this.core.users.map((u) => u.summary() as unknown as UserSummary), qrCodes };
  }

  /** Scans a QR code (the login poll answers 201): `uuid`'s, else the newest; as `user` (optional while there is one). */
  scan(o: { uuid?: string } & UserRef = {}): { uuid: string; user: string } {
    const t = this.core.scan({ ...validate(ticketSchema, o), user: userOf(o) });
    return { uuid: t.uuid, user: t.user!.identity.id };
  }

  /** Confirms a QR code (the login poll answers 200 with redirect_uri); scans it first if needed. */
  confirm(o: { uuid?: string } & UserRef = {}): { uuid: string; user: string } {
    const t = this.core.confirm({ ...validate(ticketSchema, o), user: userOf(o) });
    return { uuid: t.uuid, user: t.user!.identity.id };
  }

  inject(req: InjectRequest & UserRef): { msgIds: string[] } {
    const u = this.core.resolveUser(userOf(req));
    const r = validate(injectSchema, req);
    return { msgIds: injectMessages(u, r) };
  }

  /**
   * Several injections in one call, in order (the bench injects the messages due in each tick with one request). The
   * first that fails ends the call: 400 naming its index, with the answers of those before it (`injected`), which
   * are in.
   */
  injectMany(reqs: (InjectRequest & UserRef)[]): { msgIds: string[] }[] {
    // the same bound as one call's `count`, for the whole array
    const total = reqs.reduce((n, r) => n + (typeof r.count === 'number' && r.count > 0 ? r.count : 1), 0);
    if (total > MAX_INJECT_PER_CALL) throw new ControlError(`body: ${total} messages in one call; at most ${MAX_INJECT_PER_CALL} (send several calls)`);
    const out: { msgIds: string[] }[] = [];
    for (const [i, r] of reqs.entries()) {
      try {
        out.push(this.inject(r));
      } catch (e) {
        if (!(e instanceof ControlError)) throw e;
        throw new ControlError(`[${i}]: ${e.message}`, { ...e.extra, injected: out });
      }
    }
    return out;
  }

  sent(user?: string): SentRecord[] {
    return this.core.resolveUser(user).sent.map((r) => ({ ...r }));
  }

  contacts(op: ContactOp & UserRef): ContactOpResult {
    const u = this.core.resolveUser(userOf(op));
    return applyContactOp(u, validate(contactOpSchema, op));
  }

  /** The server drops the user's session (the next synccheck answers retcode 1101). */
  logout(user?: string): { ok: true } {
    const u = this.core.resolveUser(user);
    const s = u.online();
    if (!s) throw new ControlError(this.core.users.length > 1 ? `no session is online for user ${u.label}` : 'no session is online');
    this.core.endSession(s, 'control');
    return { ok: true };
  }

  /** A fault for `user`'s requests only, or (without `user`) for the next matching request of any user. */
  fault(f: FaultSpec & UserRef): { ok: true; pending: FaultSpec[] } {
    const key = userOf(f);
    const u = key === undefined ? null : this.core.resolveUser(key);
    const v = validate(faultSchema, f);
    if (!(KNOWN_ENDPOINTS as readonly string[]).includes(v.endpoint)) {
      throw new ControlError(`endpoint: unknown endpoint "${v.endpoint}" (one of ${KNOWN_ENDPOINTS.join(', ')})`);
    }
    if (v.status === undefined && v.ret === undefined && v.delayMs === undefined && v.body === undefined) {
      throw new ControlError('give at least one of status, ret, delayMs, body');
    }
    const faults = u ? u.faults : this.core.faults;
    faults.add(v);
    return { ok: true, pending: faults.pending() };
  }

  /** synccheck long polls currently held by the user's online session (lets tests inject while a poll waits). */
  waitingPolls(user?: string): number {
    return this.core.resolveUser(user).online()?.waiting ?? 0;
  }

  /** One user's world (`user` optional while there is one user). */
  world(user?: string): WorldSpec {
    return this.core.resolveUser(user).world.toSpec();
  }

  /** Every user's world, in order (the multi-user world file is `{"users": worlds()}`). */
  worlds(): WorldSpec[] {
    return this.core.users.map((u) => u.world.toSpec());
  }

  /** Resolves when `pred(state)` holds for the user (checked on every login/online change and on a short deadline poll). */
  async waitForState(pred: (s: SandboxState) => boolean, timeoutMs = 10000, user?: string): Promise<SandboxState> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const st = this.state(user);
      if (pred(st)) return st;
      if (Date.now() > deadline) throw new Error(`sandbox state not reached within ${timeoutMs} ms (now ${JSON.stringify(st)})`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, 20);
        const off = this.core.onOnlineChange(done);
        function done() {
          clearTimeout(t);
          off();
          resolve();
        }
      });
    }
  }
}
