/**
 * Every coded error of openwx, in one registry (the fastify `lib/errors.js` pattern). Each code has a readable
 * message, an HTTP status for the API and, where it applies, the Openwx `code` the API answers with.
 * docs/errors.md lists exactly these codes; test/errors.test.ts checks that.
 */

export interface OpenwxErrorOptions {
  cause?: unknown;
  /** The WeChat BaseResponse.Ret / retcode behind the error, when there is one. */
  ret?: number;
  details?: Record<string, unknown>;
}

export class OpenwxError extends Error {
  readonly code: string;
  readonly statusCode: number;
  readonly apiCode: number;
  readonly ret: number | undefined;
  readonly details: Record<string, unknown> | undefined;
  constructor(code: string, message: string, statusCode: number, apiCode: number, opts: OpenwxErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'OpenwxError';
    this.code = code;
    this.statusCode = statusCode;
    this.apiCode = apiCode;
    this.ret = opts.ret;
    this.details = opts.details;
  }
}

interface Def {
  message: string;
  statusCode: number;
  apiCode: number;
}

function def(message: string, statusCode = 500, apiCode = -1): Def {
  return { message, statusCode, apiCode };
}

export const ErrorDefs = {
  // --- configuration / usage
  OWX_ERR_CONFIG: def('invalid setting: %s', 400, -1),
  OWX_ERR_BAD_PARAM: def('bad parameter: %s', 400, -1),
  OWX_ERR_NOT_FOUND: def('object not found', 200, 100),
  OWX_ERR_AUTH: def('auth failure', 401, -6),
  // --- client lifecycle
  OWX_ERR_NOT_LOGGED_IN: def('not logged in (state %s)', 503, -2),
  OWX_ERR_STOPPED: def('client stopped', 503, -2),
  OWX_ERR_LOGIN_FORBIDDEN: def('web login forbidden by WeChat (ret %s): %s', 503, -1),
  OWX_ERR_LOGIN_FAILED: def('login failed: %s', 503, -1),
  OWX_ERR_QR_LIMIT: def('gave up after %s QR codes', 503, -1),
  OWX_ERR_SYNC_LOGOUT: def('logged out by WeChat (retcode %s)', 503, -2),
  // --- protocol
  OWX_ERR_WX_RET: def('WeChat answered Ret %s: %s', 502, 201),
  OWX_ERR_WX_RATE_LIMITED: def('WeChat rate limit (Ret 1205): too frequent', 429, 1205),
  OWX_ERR_WX_BAD_RESPONSE: def('unexpected answer from WeChat on %s: %s', 502, -1),
  OWX_ERR_NETWORK: def('network error on %s: %s', 502, -1),
  OWX_ERR_TIMEOUT: def('timeout on %s after %s ms', 504, -1),
  OWX_ERR_WX_HTTP: def('WeChat answered HTTP %s on %s', 502, -1),
  OWX_ERR_LOGIN_CANCELLED: def('login cancelled: %s', 503, -1),
  // --- media
  OWX_ERR_MEDIA_INVALID: def('invalid media: %s', 400, -1),
  OWX_ERR_MEDIA_TOO_LARGE: def('media size exceed, maximum size is %s bytes', 413, -1),
  OWX_ERR_UPLOAD_FAILED: def('media upload failure: %s', 502, -1),
  OWX_ERR_DOWNLOAD_FAILED: def('media download failure: %s', 502, -1),
  OWX_ERR_MEDIA_URL_FAILED: def('media URL could not be fetched', 502, -1),
  OWX_ERR_SEND_FAILED: def('send failed: %s', 502, -1),
  // --- Openwx API (HTTP 200 where Mojo-Weixin answers in-band, so existing clients see the same thing)
  OWX_ERR_API_NOT_FOUND: def('api not found', 404, -1),
  OWX_ERR_NAMED_NOT_FOUND: def('%s not found', 200, 100),
  OWX_ERR_ID_LIST_EMPTY: def('%s id empty', 200, 200),
  OWX_ERR_FRIEND_SELF: def('can not be yourself', 200, 101),
  OWX_ERR_ALREADY_FRIEND: def('already a friend', 200, 101),
  OWX_ERR_OP_FAILED: def('failure: %s', 200, 201),
  OWX_ERR_MSG_ID_NOT_FOUND: def('msg id not found', 200, -1),
  OWX_ERR_AVATAR_UNAVAILABLE: def('avatar not available: %s', 404, 201),
  OWX_ERR_BROADCAST_LIMIT: def('broadcast to %s friends exceeds the limit of %s (setting broadcast_max)', 400, -1),
  OWX_ERR_POST_API: def('post_api delivery failed: %s', 502, -1),
  // --- operator surface
  OWX_ERR_NO_QRCODE: def('no login QR code is waiting to be scanned (state %s)', 404, -1),
  OWX_ERR_TOO_MANY_STREAMS: def('too many console event streams open (%s; the limit is %s)', 503, -1),
  // --- Controller (Mojo-Weixin's Controller-API answers, HTTP 200 in-band)
  OWX_ERR_CLIENT_NOT_FOUND: def('client not found', 200, 1),
  OWX_ERR_CLIENT_NOT_EXISTS: def('client not exists', 200, 1),
  OWX_ERR_MAX_CLIENTS: def('max clients exceed', 200, 5),
  OWX_ERR_CLIENT_NAME: def('invalid client name %s: %s', 200, 1),
  OWX_ERR_CLIENT_SETTING: def('%s', 200, 1),
  // --- cluster (docs/cluster.md)
  OWX_ERR_LEASE_LOST: def('this controller no longer holds the account (lease lost): %s not done', 503, -2),
  OWX_ERR_CLUSTER_WORKER: def('worker %s: %s', 200, 1),
  OWX_ERR_CLUSTER_DB: def('cluster database unavailable: %s', 503, -1),
  OWX_ERR_CLUSTER_REMOVE_PENDING: def('client %s is stopped on this controller, but removing it from the cluster failed (%s): it stays stopped and its removal is retried until PostgreSQL answers', 503, -1),
  OWX_ERR_STORAGE_CLOSED: def('storage closed (the account or the host is stopping): %s not done', 503, -2),
  OWX_ERR_FORWARD_FAILED: def('the owner of client %s (worker %s) could not be reached: %s', 502, -1),
  OWX_ERR_FORWARD_TIMEOUT: def('the owner of client %s (worker %s) did not answer within %s ms; the request was not repeated (it may have been carried out)', 504, -1),
  OWX_ERR_OWNER_MOVING: def('client %s is moving between controllers (no controller ran it within %s ms); try again: nothing was done', 503, -1),
  OWX_ERR_FORWARD_LOOP: def('client %s: a forwarded request reached a controller that does not own it (ownership is moving; try again)', 503, -1),
  // --- API request guards (docs/security.md)
  OWX_ERR_HOST_NOT_ALLOWED: def('host not allowed: %s', 403, -1),
  OWX_ERR_CROSS_SITE: def('cross-site request refused: %s', 403, -1),
  OWX_ERR_REQUEST_TIMEOUT: def('request timeout: %s', 408, -1),
  OWX_ERR_BAD_REQUEST: def('bad request: %s', 400, -1),
  OWX_ERR_CORS_ORIGIN: def('CORS: origin not allowed', 403, -1),
  OWX_ERR_INTERNAL: def('internal error: %s', 500, -1),
  // --- in-band failures of an operation Mojo answers with code -1
  OWX_ERR_FAILURE: def('failure', 200, -1),
  OWX_ERR_UNEXPECTED: def('%s', 200, -1),
} as const satisfies Record<string, Def>;

export type ErrorCode = keyof typeof ErrorDefs;

function format(template: string, args: unknown[]): string {
  let i = 0;
  return template.replace(/%s/g, () => (i < args.length ? String(args[i++]) : ''));
}

/** `owxError('OWX_ERR_WX_RET', [1205, 'too frequent'], { ret: 1205 })` */
export function owxError(code: ErrorCode, args: unknown[] = [], opts: OpenwxErrorOptions = {}): OpenwxError {
  const d: Def = ErrorDefs[code];
  return new OpenwxError(code, format(d.message, args), d.statusCode, d.apiCode, opts);
}

/** The Openwx JSON of a coded error: `{"code":…,"status":…}` (its details first). */
export function errorBody(e: OpenwxError): Record<string, unknown> {
  return { ...(e.details ?? {}), code: e.apiCode, status: e.message };
}

export function isOpenwxError(e: unknown, code?: ErrorCode): e is OpenwxError {
  return e instanceof OpenwxError && (code === undefined || e.code === code);
}
