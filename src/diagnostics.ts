/**
 * Observability without logging: the client publishes on node:diagnostics_channel, and whoever cares (metrics,
 * readiness, benchmarks) subscribes. Publishing is free when nobody listens (hasSubscribers).
 */
import diagnostics_channel from 'node:diagnostics_channel';

/** One finished web-protocol request (transport level). */
export interface WireRequestEvent {
  account: string;
  /** Protocol step name: `synccheck`, `webwxsync`, `webwxsendmsg`, … */
  name: string;
  durationMs: number;
  /** HTTP status, or 0 when the request failed before an answer. */
  status: number;
  ok: boolean;
}

export const wireRequestChannel = diagnostics_channel.channel('openwx:wire:request');

export function publishWireRequest(e: WireRequestEvent): void {
  if (wireRequestChannel.hasSubscribers) wireRequestChannel.publish(e);
}
