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
