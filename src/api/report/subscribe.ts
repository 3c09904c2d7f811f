/**
 * Subscribing: which client events become post_api reports. `receive_message` and `send_message` always; the
 * durability barrier (the sync loop acknowledges a webwxsync answer only once its reports are committed); and,
 * with `post_event` on, every postable event named in `post_event_list` (Mojo: with `post_event` off no event is
 * posted or queued). Listeners are registered in that order and only hand the event on: nothing here blocks the
 * client.
 */
import type { ClientEvents, DurabilityBarrier, WxClient } from '../../client/interface.ts';
import type { Message } from '../../model/types.ts';
import { POSTABLE_EVENTS, type ResolvedOptions } from '../options.ts';
import type { MessagePostType } from './report-json.ts';

export interface ReportListeners {
  message(m: Message, postType: MessagePostType): void;
  event(name: string, args: unknown[]): void;
  barrier: DurabilityBarrier;
}

/** Subscribes `l` to the client's events; returns the function that unsubscribes all of them. */
export function subscribeReports(
  client: WxClient,
  o: Pick<ResolvedOptions, 'postEvent' | 'postEventList'>,
  l: ReportListeners,
): () => void {
  const off: (() => void)[] = [];
  const on = <E extends keyof ClientEvents>(name: E, fn: (...args: ClientEvents[E]) => void) => {
    client.on(name, fn);
    off.push(() => client.off(name, fn));
  };
  on('receive_message', (m) => l.message(m, 'receive_message'));
  on('send_message', (m) => l.message(m, 'send_message'));
  off.push(client.addDurabilityBarrier(l.barrier));
  if (o.postEvent) {
    for (const name of POSTABLE_EVENTS) {
      if (!o.postEventList.has(name)) continue;
      on(name as keyof ClientEvents, (...args: unknown[]) => l.event(name, args));
    }
  }
  return () => {
    for (const u of off.splice(0)) u();
  };
}
