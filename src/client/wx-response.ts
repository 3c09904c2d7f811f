/**
 * Reading WeChat's answers: HTTP status checks, lenient JSON, and BaseResponse.Ret → typed errors.
 * 1100/1101/1102 → OWX_ERR_SYNC_LOGOUT, 1205 → OWX_ERR_WX_RATE_LIMITED, other non-zero → OWX_ERR_WX_RET.
 */
import { owxError, type OpenwxError } from '../errors.ts';
import { LOGOUT_RETCODES, Ret } from '../wire/constants.ts';
import type { BaseResponse } from '../wire/types.ts';
import type { TransportResponse } from './transport-types.ts';

/** Throws OWX_ERR_WX_HTTP unless the status is 2xx (or one of `also`). */
export async function expectStatus(res: TransportResponse, name: string, also: number[] = []): Promise<void> {
  if ((res.status >= 200 && res.status < 300) || also.includes(res.status)) return;
  // drain so the connection can be reused
  await res.buffer().catch(() => undefined);
  throw owxError('OWX_ERR_WX_HTTP', [res.status, name], { details: { status: res.status } });
}

/** Status check + JSON parse; a garbage body is OWX_ERR_WX_BAD_RESPONSE. */
export async function readJson<T>(res: TransportResponse, name: string): Promise<T> {
  await expectStatus(res, name);
  const body = await res.json<unknown>();
  if (body === null || typeof body !== 'object') {
    throw owxError('OWX_ERR_WX_BAD_RESPONSE', [name, 'not a JSON object']);
  }
  return body as T;
}

export function retError(ret: number, errMsg: string, name: string): OpenwxError {
  if (LOGOUT_RETCODES.includes(ret)) return owxError('OWX_ERR_SYNC_LOGOUT', [ret], { ret, details: { step: name, errMsg } });
  if (ret === Ret.FREQ) return owxError('OWX_ERR_WX_RATE_LIMITED', [], { ret, details: { step: name, errMsg } });
  return owxError('OWX_ERR_WX_RET', [ret, errMsg || name], { ret, details: { step: name } });
}

/** The BaseResponse.Ret of a body (undefined when there is no BaseResponse). */
export function baseRet(body: { BaseResponse?: Partial<BaseResponse> } | null | undefined): number | undefined {
  const r = body?.BaseResponse?.Ret;
  return r === undefined || r === null ? undefined : Number(r);
}

/** Throws the typed error of a non-zero Ret (a missing BaseResponse is a bad answer). */
export function checkRet(body: { BaseResponse?: Partial<BaseResponse> }, name: string): void {
  const ret = baseRet(body);
  if (ret === undefined || !Number.isFinite(ret)) throw owxError('OWX_ERR_WX_BAD_RESPONSE', [name, 'no BaseResponse.Ret']);
  if (ret !== Ret.OK) throw retError(ret, String(body.BaseResponse?.ErrMsg ?? ''), name);
}

/** readJson + checkRet. */
export async function readWx<T extends { BaseResponse?: Partial<BaseResponse> }>(res: TransportResponse, name: string): Promise<T> {
  const body = await readJson<T>(res, name);
  checkRet(body, name);
  return body;
}
