/**
 * The typed in-process handle to the control operations (what `Sandbox` exposes and what the HTTP control API at
 * /__sandbox/ calls). Input is validated with the same zod schemas on both paths.
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

export const injectSchema = z.object({
  type: z.enum(INJECT_TYPES),
  from: z.string().min(1).optional(),
  group: z.string().min(1).optional(),
  to: z.string().min(1).optional(),
  content: z.string().optional(),
  count: z.number().int().min(1).max(10000).optional(),
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

/** Throws ControlError with a message naming the first problem. */
export function validate<T>(schema: z.ZodType<T>, input: unknown): T {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const i = r.error.issues[0]!;
  throw new ControlError(`${i.path.length ? i.path.join('.') : 'body'}: ${i.message}`);
}

export class SandboxHandle {
  constructor(private readonly core: SandboxCore) {}

  state(): SandboxState {
    return this.core.state() as unknown as SandboxState;
  }

  /** Scans the newest QR code (the login poll answers 201). */
  scan(): { uuid: string } {
    return { uuid: this.core.scan().uuid };
  }

  /** Confirms the newest QR code (the login poll answers 200 with redirect_uri); scans it first if needed. */
  confirm(): { uuid: string } {
    return { uuid: this.core.confirm().uuid };
  }

  inject(req: InjectRequest): { msgIds: string[] } {
    const r = validate(injectSchema, req);
    return { msgIds: injectMessages(this.core, r) };
  }

  sent(): SentRecord[] {
    return this.core.sent.map((r) => ({ ...r }));
  }

  contacts(op: ContactOp): ContactOpResult {
    return applyContactOp(this.core, validate(contactOpSchema, op));
  }

  /** The server drops the session (the next synccheck answers retcode 1101). */
  logout(): { ok: true } {
    const s = this.core.online();
    if (!s) throw new ControlError('no session is online');
    this.core.endSession(s, 'control');
    return { ok: true };
  }

  fault(f: FaultSpec): { ok: true; pending: FaultSpec[] } {
    const v = validate(faultSchema, f);
    if (!(KNOWN_ENDPOINTS as readonly string[]).includes(v.endpoint)) {
      throw new ControlError(`endpoint: unknown endpoint "${v.endpoint}" (one of ${KNOWN_ENDPOINTS.join(', ')})`);
    }
    if (v.status === undefined && v.ret === undefined && v.delayMs === undefined && v.body === undefined) {
      throw new ControlError('give at least one of status, ret, delayMs, body');
    }
    this.core.faults.add(v);
    return { ok: true, pending: this.core.faults.pending() };
  }

  /** synccheck long polls currently held by the online session (lets tests inject while a poll waits). */
  waitingPolls(): number {
    return this.core.online()?.waiting ?? 0;
  }

  world(): WorldSpec {
    return this.core.world.toSpec();
  }

  /** Resolves when `pred(state)` holds (checked on every login/online change and on a short deadline poll). */
  async waitForState(pred: (s: SandboxState) => boolean, timeoutMs = 10000): Promise<SandboxState> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const st = this.state();
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
