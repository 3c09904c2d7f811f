/**
 * A typed EventEmitter over `ClientEvents` (interface.ts). A throwing listener never breaks the client: the
 * exception is caught and re-emitted as `error` (and logged when nobody listens to `error`).
 */
import { EventEmitter } from 'node:events';
import type { ClientEventName, ClientEvents } from './interface.ts';

type Listener<E extends ClientEventName> = (...args: ClientEvents[E]) => void;

export class TypedEmitter extends EventEmitter {
  constructor(private readonly onListenerError: (event: string, err: unknown) => void) {
    super({ captureRejections: false });
    this.setMaxListeners(100);
  }

  override on<E extends ClientEventName>(event: E, listener: Listener<E>): this {
    return super.on(event, listener as (...a: unknown[]) => void);
  }
  override off<E extends ClientEventName>(event: E, listener: Listener<E>): this {
    return super.off(event, listener as (...a: unknown[]) => void);
  }
  override once<E extends ClientEventName>(event: E, listener: Listener<E>): this {
    return super.once(event, listener as (...a: unknown[]) => void);
  }

  /** Emits to every listener; a listener's exception (or rejected promise) goes to `onListenerError`. */
  override emit<E extends ClientEventName>(event: E, ...args: ClientEvents[E]): boolean {
    const listeners = this.rawListeners(event) as ((...a: unknown[]) => unknown)[];
    if (listeners.length === 0) return false;
    for (const l of listeners) {
      try {
        const r = l.apply(this, args);
        if (r && typeof (r as Promise<unknown>).then === 'function') {
          (r as Promise<unknown>).then(undefined, (err) => this.onListenerError(event, err));
        }
      } catch (err) {
        if (event === 'error') throw err;
        this.onListenerError(event, err);
      }
    }
    return true;
  }
}
