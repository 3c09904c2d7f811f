/**
 * The client state machine of Mojo-Weixin (shared/spec/mojo-weixin-reference.md §2.4), with an explicit
 * transition table. Normal path: init → loading → scaning → confirming → updating → running → stop.
 * A resumed session skips scaning/confirming; a relogin re-enters scaning from running; a QR that expires
 * or a cancel on the phone goes back from confirming to scaning. Every state can go to stop.
 */
import type { ClientState } from '../model/types.ts';

export const TRANSITIONS: Readonly<Record<ClientState, readonly ClientState[]>> = {
  init: ['loading', 'stop'],
  // loading → confirming: a push login (the phone shows a prompt, no QR).
  loading: ['scaning', 'confirming', 'updating', 'stop'],
  scaning: ['confirming', 'updating', 'stop'],
  confirming: ['scaning', 'updating', 'stop'],
  // updating → scaning: the contact load failed and a new QR is needed (Mojo retries the whole login).
  updating: ['running', 'scaning', 'stop'],
  // running → scaning / confirming: relogin by QR / by push login.
  running: ['scaning', 'confirming', 'updating', 'stop'],
  // stop → loading: `run()` again after `stop()`.
  stop: ['loading'],
};

export class InvalidTransitionError extends Error {
  constructor(readonly from: ClientState, readonly to: ClientState) {
    super(`invalid state transition ${from} → ${to}`);
    this.name = 'InvalidTransitionError';
  }
}

export function canTransition(from: ClientState, to: ClientState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Holds the current state; `to()` validates the move and reports it (old, new) through `onChange`. */
export class StateMachine {
  #state: ClientState = 'init';
  #previous: ClientState | null = null;

  constructor(private readonly onChange: (from: ClientState, to: ClientState) => void) {}

  get state(): ClientState {
    return this.#state;
  }

  get previous(): ClientState | null {
    return this.#previous;
  }

  /** Moves to `to`. A move to the current state is a no-op (no event), e.g. a new QR while scaning. */
  to(to: ClientState): void {
    const from = this.#state;
    if (from === to) return;
    if (!canTransition(from, to)) throw new InvalidTransitionError(from, to);
    this.#previous = from;
    this.#state = to;
    this.onChange(from, to);
  }

  is(...states: ClientState[]): boolean {
    return states.includes(this.#state);
  }
}
