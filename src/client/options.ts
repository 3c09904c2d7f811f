/**
 * Every option of one Account, with defaults and units in the names. One zod schema; `parseClientOptions()`
 * validates and fills defaults and throws `OWX_ERR_CONFIG` with the offending path on bad input.
 */
import { z } from 'zod';
import { join } from 'node:path';
import { owxError } from '../errors.ts';
import { SETTING_DEFAULTS } from '../settings/defaults.ts';

/** The extspam blob circulated with the UOS patch (wechat4u / openwechat; shared/spec/wechat-web-protocol.md §2.5). */
export const DEFAULT_UOS_EXTSPAM =
  'Go8FCIkFEokFCggwMDAwMDAwMRAGGvAESySibk50w5Wb3uTl2c2h64jVVrV7gNs06GFlWplHQbY/5FfiO++1yH4ykCyNPWKXmco+wfQzK5R98D3so7rJ' +
  '5LmGFvBLjGceleySrc3SOf2Pc1gVehzJgODeS0lDL3/I/0S2SSE98YgKleq6Uqx6ndTy9yaL9qFxJL7eiA/R3SEfTaW1SBoSITIu+EEkXff+Pv8NHOk7N5' +
  '7rcGk1w0ZzRrQDkXTOXFN2iHYIzAAZPIOY45Lsh+A4slpgnDiaOvRtlQYCt97nmPLuTipOJ8Qc5pM7ZsOsAPPrCQL7nK0I7aPrFDF0q4ziUUKettzW8MrA' +
  'aiVfmbD1/VkmLNVqqZVvBCtRblXb5FHmtS8FxnqCzYP4WFvz3T0TcrOqwLX1M/DQvcHaGGw0B0y4bZMs7lVScGBFxMj3vbFi2SRKbKhaitxHfYHAOAa0X7' +
  '/MSS0RNAjdwoyGHeOepXOKY+h3iHeqCvgOH6LOifdHf/1aaZNwSkGotYnYScW8Yx63LnSwba7+hESrtPa/huRmB9KWvMCKbDThL/nne14hnL277EDCSocPu' +
  '3rOSYjuB9gKSOdVmWsj9Dxb/iZIe+S6AiG29Esm+/eUacSba0k8wn5HhHg9d4tIcixrxveflc8vi2/wNQGVFNsGO6tB5WF0xf/plngOvQ1/ivGV/C1Qpdhz' +
  'znh0ExAVJ6dwzNg7qIEBaw+BzTJTUuRcPk92Sn6QDn2Pu3mpONaEumacjW4w6ipPnPw+g2TfywJjeEcpSZaP4Q3YV5HG8D6UjWA4GSkBKculWpdCMadx0u' +
  'sMomsSS/74QgpYqcPkmamB4nVv1JxczYITIqItIKjD35IGKAUwAA==';

export const DEFAULT_USER_AGENT =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/71.0.3578.98 Safari/537.36';

const ms = (d: number) => z.number().int().min(0).default(d);
const positive = (d: number) => z.number().int().min(1).default(d);

export const UosHeadersSchema = z.object({
  /** `client-version` header on webwxnewloginpage. */
  clientVersion: z.string().min(1).default('2.0.0'),
  /** `extspam` header on webwxnewloginpage. */
  extspam: z.string().min(1).default(DEFAULT_UOS_EXTSPAM),
  /** `Referer` of webwxnewloginpage in desktop mode. */
  referer: z.string().url().default('https://wx.qq.com/?&lang=zh_CN&target=t'),
});

export const ClientOptionsSchema = z.object({
  /** Name of the account: names the files in `dataDir` and the logger child. */
  account: z.string().min(1).regex(/^[\w.@-]+$/, 'letters, digits, _ . @ - only').default(SETTING_DEFAULTS.account),
  /** Session, QR image and stable-id files go here (created with mode 0700). */
  dataDir: z.string().min(1).default(SETTING_DEFAULTS.data_dir),
  /** Downloaded media; default `<dataDir>/media`. */
  mediaDir: z.string().min(1).optional(),
  /** Longest name, in UTF-8 bytes, of a received file saved in `mediaDir` (most filesystems: 255). */
  mediaFileNameMaxBytes: z.number().int().min(32).max(255).default(255),
  /** Download the media of inbound messages. */
  downloadMedia: z.boolean().default(SETTING_DEFAULTS.download_media),
  /** Send every web-protocol request to this origin (e.g. a sandbox), with the real Host header. */
  wechatOrigin: z.string().url().optional(),
  /** UOS desktop mode (`mod=desktop` + UOS headers on webwxnewloginpage); false = plain web mode. */
  desktopMode: z.boolean().default(SETTING_DEFAULTS.desktop_mode),
  uosHeaders: UosHeadersSchema.strict().prefault({}),
  userAgent: z.string().min(1).default(DEFAULT_USER_AGENT),
  /** `lang` sent where the official client sends it. */
  lang: z.string().min(1).default('zh_CN'),
  /** Page host the login starts on (the login redirect then decides the family). */
  pageHost: z.string().min(1).default('wx.qq.com'),

  // --- login
  /** Try to resume a saved session at start. */
  resumeSession: z.boolean().default(true),
  /** When a saved session is dead, ask the phone to confirm (webwxpushloginurl) before showing a QR. */
  pushLogin: z.boolean().default(true),
  /** QR codes generated per login before giving up (Mojo's qrcode_count_max). */
  maxQrAttempts: positive(10),
  /** New QR attempts after webwxnewloginpage answered ret≠0 (e.g. 1203), before stopping. */
  maxLoginRefusedRetries: z.number().int().min(0).default(2),
  /** Consecutive 408 answers after which the QR counts as expired (Mojo: 5). 0 = wait for the server's 400. */
  qrExpireAfterPolls: z.number().int().min(0).default(5),
  /** Print the QR in the terminal (plus a plain URL line). */
  showQrInTerminal: z.boolean().default(true),
  /** After a logout retcode (1100/1101/1102): log in again ('relogin') or stop ('stop'). */
  relogin: z.enum(['relogin', 'stop']).default(SETTING_DEFAULTS.relogin),
  /** Also stop (not relogin) on synccheck 1101 "logged in elsewhere" (Mojo's stop_with_mobile). */
  stopWithMobile: z.boolean().default(false),
  /** On `stop()`, log out of WeChat too (false keeps the session for a resume). */
  logoutOnStop: z.boolean().default(false),

  // --- network
  requestTimeoutMs: positive(20_000),
  /** Client timeout of the login long-poll (the server answers 408 after ~25 s). */
  loginPollTimeoutMs: positive(35_000),
  /** Client timeout of the synccheck long-poll; a poll that exceeds it counts as stuck and is retried. */
  syncCheckTimeoutMs: positive(35_000),
  uploadTimeoutMs: positive(120_000),
  mediaDownloadTimeoutMs: positive(120_000),
  /**
   * Fetch media URLs (sendMedia/uploadMedia `{ url }`) from loopback, private, link-local and other internal
   * addresses too; by default only public addresses are (docs/security.md, "Media URL destinations").
   */
  allowPrivateMediaUrls: z.boolean().default(SETTING_DEFAULTS.allow_private_media_urls),
  /** Redirects followed at most when fetching a media URL; each hop is checked like the first. */
  mediaUrlMaxRedirections: z.number().int().min(0).max(20).default(5),
  /** Retries of idempotent login/contact steps on network errors and 5xx. */
  requestRetries: z.number().int().min(0).default(3),
  backoffBaseMs: positive(1_000),
  backoffMaxMs: positive(60_000),
  /**
   * Longest wait before a session file change that is only the SyncKey (after every sync) is written; logins, key
   * changes, logout and stop() write at once. A lagging saved SyncKey only re-fetches messages after a crash, which
   * the message history drops (docs/client.md, "The session file").
   */
  sessionSaveIntervalMs: ms(5_000),
  /** Pause between two synccheck polls (0 = at once, as the official client). */
  syncCheckIntervalMs: ms(0),
  /**
   * Consecutive unknown retcodes (synccheck retcode or webwxsync Ret the loop does not know, one streak for both)
   * before the logged-out handling (relogin policy). Mojo: 10 synccheck retcodes.
   */
  unknownRetcodeLimit: positive(10),
  /** Pause of the receive loop after the first unknown retcode of a streak, doubled on each repeat (a random pause in [d/2, d]). */
  unknownRetcodeBackoffBaseMs: positive(1_000),
  /** Cap of that pause. */
  unknownRetcodeBackoffMaxMs: positive(60_000),

  // --- contacts
  /** Concurrent webwxbatchgetcontact requests. */
  contactConcurrency: positive(3),
  /** Ids per webwxbatchgetcontact (the official client: 50). */
  contactBatchSize: z.number().int().min(1).max(50).default(50),
  /** Safety cap on webwxgetcontact pages. */
  contactMaxPages: positive(64),
  /**
   * Rounds of webwxbatchgetcontact for the login's groups: ids whose batch still failed after its retries are asked
   * for again (after `backoffBaseMs`), so a few transient failures do not leave the account running without them.
   */
  contactLoadRounds: positive(3),
  /** Batch-fetch every group's members with full details at login (slower; Mojo's is_init_group_member). */
  fetchGroupMemberDetails: z.boolean().default(false),

  // --- sending
  /** Minimum spacing between two sends. */
  sendIntervalMs: ms(1_000),
  /** Token bucket: burst size. */
  sendBurst: positive(5),
  /** Token bucket: one token per this many ms. */
  sendRefillMs: positive(3_000),
  /** Pause of the send queue after Ret 1205, doubled on each repeat up to the max. */
  rateLimitBackoffMs: positive(10_000),
  rateLimitBackoffMaxMs: positive(300_000),
  /** Retries of one send after Ret 1205 (0 = fail at once with OWX_ERR_WX_RATE_LIMITED). */
  rateLimitRetries: z.number().int().min(0).default(2),
  /** Upload size limit (Mojo: 20 MiB). */
  mediaSizeMaxBytes: positive(20 * 1024 * 1024),
  uploadChunkBytes: positive(512 * 1024),
}).strict();

export type ClientOptionsInput = z.input<typeof ClientOptionsSchema>;
export type ClientOptions = z.output<typeof ClientOptionsSchema> & { mediaDir: string };

export function parseClientOptions(input: ClientOptionsInput = {}): ClientOptions {
  const r = ClientOptionsSchema.safeParse(input);
  if (!r.success) {
    const first = r.error.issues[0];
    const where = first ? `${first.path.join('.') || '(root)'}: ${first.message}` : r.error.message;
    throw owxError('OWX_ERR_CONFIG', [where], { cause: r.error });
  }
  const o = r.data;
  return { ...o, mediaDir: o.mediaDir ?? join(o.dataDir, 'media') };
}
