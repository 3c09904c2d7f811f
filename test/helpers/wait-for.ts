/** Waiting on conditions and events in tests, never on sleeps. */
import type { EventEmitter } from 'node:events';

/** Polls `predicate` until it returns a truthy value (returned) or the deadline passes (throws with `what`). */
export async function waitFor<T>(predicate: () => T | Promise<T>, what = 'condition', deadlineMs = 10_000, everyMs = 10): Promise<NonNullable<T>> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = await predicate();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Resolves with the args of the first `event` whose args satisfy `filter`; rejects after the deadline. */
export function nextEvent<A extends unknown[] = unknown[]>(
  emitter: Pick<EventEmitter, 'on' | 'off'>,
  event: string,
  filter: (...args: A) => boolean = () => true,
  deadlineMs = 10_000,
): Promise<A> {
  return new Promise<A>((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error(`timed out after ${deadlineMs} ms waiting for event ${event}`));
    }, deadlineMs);
    const on = (...args: unknown[]) => {
      if (!filter(...(args as A))) return;
      clearTimeout(timer);
      emitter.off(event, on);
      resolve(args as A);
    };
    emitter.on(event, on);
  });
}

/** Records every emission of the given events, in order. */
export function recordEvents(emitter: Pick<EventEmitter, 'on'>, events: string[]): { name: string; args: unknown[] }[] {
  const log: { name: string; args: unknown[] }[] = [];
  for (const e of events) emitter.on(e, (...args: unknown[]) => log.push({ name: e, args }));
  return log;
}
