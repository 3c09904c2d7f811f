/** The benchmark world: a sandbox with `--world-size 5000,500,200` (deterministic, seed 1) in the runner process. */
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.ts';

export const BIG_WORLD = { friends: 5000, groups: 500, members: 200 };

export async function bigSandbox(o: SandboxOptions = {}): Promise<Sandbox> {
  return startSandbox({ port: 0, worldSize: BIG_WORLD, seed: 1, chatter: false, ...o });
}

export interface Senders {
  /** World ids of ordinary friends (direct messages). */
  friends: string[];
  /** [group world id, member world id] pairs (group messages). */
  groups: [string, string][];
}

/** Up to `n` friends and `n` groups (with one member that is not the user) to send from. */
export function pickSenders(sb: Sandbox, n = 50): Senders {
  const w = sb.handle.world();
  const friends = w.people
    .filter((p) => p.friend !== false && (p.kind ?? 'person') === 'person' && !p.behavior)
    .slice(0, n)
    .map((p) => p.id);
  const groups = w.groups
    .filter((g) => g.members.length > 1)
    .slice(0, n)
    .map((g): [string, string] => [g.id, g.members.find((m) => m !== w.self.id)!]);
  return { friends, groups };
}

/** Logs the given client process in: confirms the newest QR as soon as one is waiting. */
export async function confirmWhenWaiting(sb: Sandbox, timeoutMs = 30_000): Promise<number> {
  // A session left online by an earlier run hides the new QR's state: end it first.
  if (sb.handle.state().login === 'online') sb.handle.logout();
  await sb.handle.waitForState((s) => s.login === 'waiting', timeoutMs);
  const t = Date.now();
  sb.handle.confirm();
  return t;
}
