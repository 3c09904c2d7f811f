/**
 * The Openwx JSON of send outcomes and remote operations. A send answers in-band (HTTP 200) whatever happened,
 * as Mojo-Weixin does: `{"code":0,"status":"发送成功","msg_id":"<MsgID>","id":"<MsgID>:<ToUserName>"}` (+
 * `media_id`), or the failure's code and readable status. Only "not logged in"/"stopped" escape as HTTP 503.
 */
import type { SendResult } from '../client/interface.ts';
import { errorBody, isOpenwxError, owxError, type OpenwxError } from '../errors.ts';

export type Json = Record<string, unknown>;

export const SENT_STATUS = '发送成功';

export function sendReply(r: SendResult, media: boolean): Json {
  const ok = r.code === 0;
  const out: Json = {
    code: r.code,
    status: ok ? SENT_STATUS : r.status || r.error?.message || '发送失败',
    msg_id: r.msgId ? String(r.msgId) : ok ? '' : String(r.localId ?? ''),
    id: ok ? `${r.msgId}:${r.toUserName}` : String(r.localId ?? ''),
  };
  if (media) out.media_id = ok ? (r.mediaId ?? '') : '';
  return out;
}

function isLifecycle(e: unknown): e is OpenwxError {
  return isOpenwxError(e, 'OWX_ERR_NOT_LOGGED_IN') || isOpenwxError(e, 'OWX_ERR_STOPPED');
}

/** A thrown send/upload failure as an in-band answer (lifecycle errors are rethrown for the HTTP 503 path). */
export function failureReply(e: unknown, media: boolean): Json {
  if (isLifecycle(e)) throw e;
  const out: Json = isOpenwxError(e)
    ? { code: e.ret ?? e.apiCode, status: e.message }
    : errorBody(owxError('OWX_ERR_UNEXPECTED', [(e as Error)?.message || String(e)]));
  out.id = null;
  if (media) out.media_id = '';
  return out;
}

/**
 * Runs a remote operation; any failure but "not logged in"/"stopped"/"not found" becomes Mojo's code 201
 * (`failure: <reason>`).
 */
export async function remote<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (e) {
    if (isLifecycle(e) || isOpenwxError(e, 'OWX_ERR_NOT_FOUND')) throw e;
    throw owxError('OWX_ERR_OP_FAILED', [(e as Error)?.message || String(e)], { cause: e });
  }
}

export const SUCCESS = { code: 0, status: 'success' } as const;
