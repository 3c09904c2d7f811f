/**
 * A failed OneBot action, in neutral kinds each version maps to its own codes (v12: src/onebot/v12/actions.ts
 * RETCODE; v11: src/onebot/v11/actions.ts). An action WeChat cannot do is `unsupported`, never a fake success.
 */
export type FailKind =
  | 'bad_request'
  | 'unsupported_action'
  | 'bad_param'
  | 'unsupported_param'
  | 'unsupported_segment'
  | 'bad_segment'
  | 'who_am_i'
  | 'unknown_self'
  | 'not_found'
  | 'offline'
  | 'platform'
  | 'internal';

export class ActionFailure extends Error {
  constructor(
    readonly kind: FailKind,
    message: string,
  ) {
    super(message);
    this.name = 'ActionFailure';
  }
}

export const fail = (kind: FailKind, message: string): never => {
  throw new ActionFailure(kind, message);
};

/** Parameter `k` as a non-empty string, else `bad_param`. */
export const requiredString = (p: Record<string, unknown>, k: string): string => {
  const v = p[k];
  if (typeof v !== 'string' || v === '') fail('bad_param', `${k}: expected a non-empty string`);
  return v as string;
};

/** Runs a client call; what it throws fails the action as `platform`. */
export async function platform(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    fail('platform', (e as Error).message);
  }
}
