/**
 * What the console shows of OneBot for one account (src/console/: `/console/api/onebot`): every endpoint of the
 * configured transports — the ones openwx serves (their path on the API port and the connections open now) and the
 * ones it reaches (reverse WebSocket links: their state and buffered events; webhook / http_post: reports waiting and
 * dead letters). Outgoing URLs are shown without user:password and query values (either may be a credential).
 */
import { printableUrl } from '../security/redact.ts';
import type { Link } from './reverse.ts';
import type { OneBotOptions } from './settings.ts';
import type { Webhooks } from './webhook.ts';

/** `printableUrl`, with its `…` placeholders readable. */
const shown = (url: string) => printableUrl(url).replace(/%E2%80%A6/g, '…');

export interface OneBotEndpoint {
  version: '12' | '11';
  transport: 'http' | 'ws' | 'ws_reverse' | 'webhook' | 'http_post';
  /** A path on the API port (served), or the URL openwx reaches (printable form). */
  url: string;
  /**
   * served: `listening`; reverse WebSocket: `open`, `connecting`, `down` or `waiting for login` (v11 links are
   * dialled once the account is logged in); webhook / http_post: `active`, or `idle` until the first event.
   */
  state: string;
  /** Forward WebSocket: connections open now (v12: every bot's; v11: this account's event connections). */
  connections?: number;
  /** Reverse WebSocket: events waiting for the link; webhook / http_post: reports waiting in the outbox. */
  waiting?: number;
  /** Webhook / http_post: dead letters. */
  dead?: number;
}

export interface OneBotStatus {
  /** OneBot is configured for this account. */
  enabled: boolean;
  /** The OneBot routes ask for a token. */
  token: boolean;
  /** v11: the account's self_id; v12: its user_id (`self.user_id`). */
  self: { v12?: string; v11?: number };
  endpoints: OneBotEndpoint[];
}

export interface StatusParts {
  options: OneBotOptions;
  token: boolean;
  self: OneBotStatus['self'];
  v12Sockets: number;
  v11Sockets: number;
  v12Links: readonly Link[];
  v11Links: readonly Link[];
  v12Hooks: Webhooks | null;
  v11Hooks: Webhooks | null;
}

function hooks(version: '12' | '11', transport: 'webhook' | 'http_post', urls: readonly string[], w: Webhooks | null): OneBotEndpoint[] {
  return urls.map((url, i) => {
    const sink = w?.sinks[i];
    return sink
      ? { version, transport, url: shown(url), state: 'active', waiting: sink.depth, dead: sink.deadCount }
      : { version, transport, url: shown(url), state: 'idle' };
  });
}

function links(version: '12' | '11', urls: readonly string[], ls: readonly Link[]): OneBotEndpoint[] {
  return urls.map((url, i) => {
    const l = ls[i];
    return l
      ? { version, transport: 'ws_reverse', url: shown(url), state: l.state, waiting: l.buffered }
      : { version, transport: 'ws_reverse', url: shown(url), state: 'waiting for login' };
  });
}

export function oneBotStatus(p: StatusParts): OneBotStatus {
  const out: OneBotEndpoint[] = [];
  const v12 = p.options.v12;
  if (v12) {
    if (v12.http) out.push({ version: '12', transport: 'http', url: '/onebot/v12/', state: 'listening' });
    if (v12.ws) out.push({ version: '12', transport: 'ws', url: '/onebot/v12/ws', state: 'listening', connections: p.v12Sockets });
    out.push(...links('12', v12.ws_reverse, p.v12Links), ...hooks('12', 'webhook', v12.webhook, p.v12Hooks));
  }
  const v11 = p.options.v11;
  if (v11) {
    if (v11.http) out.push({ version: '11', transport: 'http', url: '/onebot/v11/<action>', state: 'listening' });
    if (v11.ws) {
      out.push({ version: '11', transport: 'ws', url: '/onebot/v11/ws', state: 'listening', connections: p.v11Sockets });
      out.push({ version: '11', transport: 'ws', url: '/onebot/v11/api', state: 'listening' });
      out.push({ version: '11', transport: 'ws', url: '/onebot/v11/event', state: 'listening' });
    }
    out.push(...links('11', v11.ws_reverse, p.v11Links), ...hooks('11', 'http_post', v11.http_post, p.v11Hooks));
  }
  return { enabled: true, token: p.token, self: p.self, endpoints: out };
}
