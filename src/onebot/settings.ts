/**
 * OneBot settings (docs/onebot.md). The config key `onebot:` holds them all:
 *
 *     onebot:
 *       access_token: SECRET
 *       v12: { http: true, ws: true, webhook: [URL…], ws_reverse: [URL…], heartbeat_ms: 5000 }
 *       v11: { http: true, ws: true, http_post: [URL…], ws_reverse: [URL…], heartbeat_ms: 5000, message_format: array,
 *              secret: SIGNING-SECRET, report_self_message: false }
 *
 * The flags `--onebot-access-token`, `--onebot-v12-ws-reverse URL` and `--onebot-v11-ws-reverse URL` (repeatable)
 * and their env vars (`OPENWX_ONEBOT_ACCESS_TOKEN`, `OPENWX_ONEBOT_V12_WS_REVERSE`, `OPENWX_ONEBOT_V11_WS_REVERSE`,
 * comma lists) are settings of their own that win over the same key of `onebot:`; `OPENWX_ONEBOT` may carry the
 * whole mapping as JSON. OneBot is off unless configured: a version is served when any of its transports is on.
 */
import { z } from 'zod';

export const DEFAULT_HEARTBEAT_MS = 5_000;
/** Events kept per reverse WebSocket while it is down; beyond, the oldest are dropped (and counted). */
export const DEFAULT_REVERSE_BUFFER_MAX = 10_000;
export const DEFAULT_RECONNECT_BASE_MS = 1_000;
export const DEFAULT_RECONNECT_MAX_MS = 60_000;

const toJson = (v: unknown) => {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
};
const toList = (v: unknown) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v);
const toBool = (v: unknown) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v);

const url = (protocols: string[], what: string) =>
  z.string({ error: `expected ${what}` }).refine((s) => {
    try {
      return protocols.includes(new URL(s).protocol);
    } catch {
      return false;
    }
  }, `expected ${what}`);
export const wsUrl = () => url(['ws:', 'wss:'], 'a ws(s) URL');
const httpUrl = () => url(['http:', 'https:'], 'an http(s) URL');
const urls = (u: () => z.ZodType<string>) => z.preprocess(toList, z.array(u(), { error: 'expected a list of URLs' }));
const heartbeat = () =>
  z.preprocess(
    (v) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v),
    z.number({ error: 'expected integer 0-3600000' }).int().min(0).max(3_600_000),
  );
/** At least 8 characters, no spaces at either end (an Authorization header's value is trimmed). */
export const accessToken = () =>
  z
    .string({ error: 'expected a string of at least 8 characters' })
    .min(8, { error: 'expected a string of at least 8 characters' })
    .refine((v) => v === v.trim(), { error: 'expected no spaces or line breaks at either end' });

const V12Schema = z
  .object({
    http: z.preprocess(toBool, z.boolean()).default(false),
    ws: z.preprocess(toBool, z.boolean()).default(false),
    webhook: urls(httpUrl).default([]),
    ws_reverse: urls(wsUrl).default([]),
    heartbeat_ms: heartbeat().default(DEFAULT_HEARTBEAT_MS),
  })
  .strict();

const V11Schema = z
  .object({
    http: z.preprocess(toBool, z.boolean()).default(false),
    ws: z.preprocess(toBool, z.boolean()).default(false),
    http_post: urls(httpUrl).default([]),
    ws_reverse: urls(wsUrl).default([]),
    heartbeat_ms: heartbeat().default(DEFAULT_HEARTBEAT_MS),
    message_format: z.enum(['array', 'string'], { error: 'expected array or string' }).default('array'),
    /** http_post bodies are signed `X-Signature: sha1=<HMAC-SHA1 hex>` with it (OneBot 11). A secret: never logged. */
    secret: accessToken().optional(),
    /** Messages the account itself sends (other device, the API, OneBot) as `post_type: "message_sent"` (go-cqhttp). */
    report_self_message: z.preprocess(toBool, z.boolean({ error: 'expected true or false' })).default(false),
  })
  .strict();

/** The `onebot:` setting. */
export const OneBotSettingSchema = z.preprocess(
  toJson,
  z
    .object({
      access_token: accessToken().optional(),
      v12: V12Schema.optional(),
      v11: V11Schema.optional(),
    }, { error: 'expected a mapping with access_token, v12, v11' })
    .strict(),
);
export type OneBotSetting = z.output<typeof OneBotSettingSchema>;
export type OneBotV12Options = z.output<typeof V12Schema>;
/** The v11 options; `report_self_message` may be left out by a library caller (false). */
export type OneBotV11Options = Omit<z.output<typeof V11Schema>, 'report_self_message'> & { report_self_message?: boolean | undefined };

export interface OneBotOptions {
  accessToken?: string | undefined;
  /** Absent: version off. */
  v12?: OneBotV12Options | undefined;
  v11?: OneBotV11Options | undefined;
  /** Events kept per reverse WebSocket while it is down. */
  reverseBufferMax?: number | undefined;
  reconnectBaseMs?: number | undefined;
  reconnectMaxMs?: number | undefined;
}

const on12 = (v: OneBotV12Options) => v.http || v.ws || v.webhook.length > 0 || v.ws_reverse.length > 0;
const on11 = (v: OneBotV11Options) => v.http || v.ws || v.http_post.length > 0 || v.ws_reverse.length > 0;

/**
 * The OneBot options these settings imply, or undefined when OneBot is off. The flag settings win over `onebot:`;
 * a reverse URL given by flag turns its version on.
 */
export function oneBotOptionsOf(s: {
  onebot?: OneBotSetting | undefined;
  onebot_access_token?: string | undefined;
  onebot_v12_ws_reverse?: string[] | undefined;
  onebot_v11_ws_reverse?: string[] | undefined;
}): OneBotOptions | undefined {
  const base = s.onebot ?? {};
  const v12 = s.onebot_v12_ws_reverse?.length
    ? { ...V12Schema.parse(base.v12 ?? {}), ws_reverse: s.onebot_v12_ws_reverse }
    : base.v12;
  const v11 = s.onebot_v11_ws_reverse?.length
    ? { ...V11Schema.parse(base.v11 ?? {}), ws_reverse: s.onebot_v11_ws_reverse }
    : base.v11;
  const o: OneBotOptions = {
    accessToken: s.onebot_access_token ?? base.access_token,
    v12: v12 && on12(v12) ? v12 : undefined,
    v11: v11 && on11(v11) ? v11 : undefined,
  };
  return o.v12 || o.v11 ? o : undefined;
}
