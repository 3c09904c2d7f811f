/**
 * A OneBot WebSocket connection as the hub sees it (forward, accepted by the API server; or reverse, dialled by
 * openwx): send JSON, with a bound on what may wait in the socket's buffer (a peer that does not read is closed,
 * 1013, rather than grow memory without limit), and its owned heartbeat timer.
 */
import type { WebSocket } from 'ws';

export const SEND_BUFFER_MAX_BYTES = 16 * 1024 * 1024;

export function sendJson(ws: WebSocket, v: unknown, bufferMaxBytes = SEND_BUFFER_MAX_BYTES): boolean {
  if (ws.readyState !== ws.OPEN) return false;
  if (ws.bufferedAmount > bufferMaxBytes) {
    ws.close(1013, 'peer does not read its events');
    return false;
  }
  ws.send(JSON.stringify(v));
  return true;
}

/** Sends `make()` every `intervalMs` (0 = never) until the socket closes. */
export function heartbeat(ws: WebSocket, intervalMs: number, make: () => unknown): void {
  if (intervalMs <= 0) return;
  const t = setInterval(() => sendJson(ws, make()), intervalMs);
  ws.once('close', () => clearInterval(t));
}
