/**
 * A complete AddMsgList entry (RawMessage) with every key the server sends, in the server's order and with its
 * types and defaults (webwxsync-emoji47-status51-video43-text1.qjesus, a real capture). For the sandbox.
 */
import { AppMsgType, MsgType } from './constants.ts';
import type { RawMessage, RecommendInfo } from './types.ts';
import { buildRecommendInfo } from './verifymsg.ts';

export type RawMessageSpec = Pick<RawMessage, 'MsgId' | 'FromUserName' | 'ToUserName' | 'MsgType' | 'CreateTime'> &
  Partial<Omit<RawMessage, 'RecommendInfo' | 'AppInfo'>> & {
    RecommendInfo?: Partial<RecommendInfo>;
    AppInfo?: Partial<RawMessage['AppInfo']>;
  };

/** Status 4 for system/revoke notices (msg10000-*, msg10002-*), 3 otherwise. */
export function defaultStatus(msgType: number): number {
  return msgType === MsgType.SYS || msgType === MsgType.RECALLED ? 4 : 3;
}

/** ImgStatus 2 for images, emoticons and link shares (captures), 1 otherwise. */
export function defaultImgStatus(msgType: number, appMsgType: number): number {
  if (msgType === MsgType.IMAGE || msgType === MsgType.EMOTICON) return 2;
  if (msgType === MsgType.APP && appMsgType === AppMsgType.URL) return 2;
  return 1;
}

/**
 * Builds a RawMessage. `NewMsgId` defaults to `Number(MsgId)` — as a JS number it loses precision past 2^53, exactly
 * like the server's JSON read by a JS client; serialise with {@link rawMessageJson} to keep all digits.
 */
export function buildRawMessage(s: RawMessageSpec): RawMessage {
  const appMsgType = s.AppMsgType ?? 0;
  return {
    MsgId: s.MsgId,
    FromUserName: s.FromUserName,
    ToUserName: s.ToUserName,
    MsgType: s.MsgType,
    Content: s.Content ?? '',
    Status: s.Status ?? defaultStatus(s.MsgType),
    ImgStatus: s.ImgStatus ?? defaultImgStatus(s.MsgType, appMsgType),
    CreateTime: s.CreateTime,
    VoiceLength: s.VoiceLength ?? 0,
    PlayLength: s.PlayLength ?? 0,
    FileName: s.FileName ?? '',
    FileSize: s.FileSize ?? '',
    MediaId: s.MediaId ?? '',
    Url: s.Url ?? '',
    AppMsgType: appMsgType,
    StatusNotifyCode: s.StatusNotifyCode ?? 0,
    StatusNotifyUserName: s.StatusNotifyUserName ?? '',
    RecommendInfo: buildRecommendInfo(s.RecommendInfo ?? {}),
    ForwardFlag: s.ForwardFlag ?? 0,
    AppInfo: { AppID: s.AppInfo?.AppID ?? '', Type: s.AppInfo?.Type ?? 0 },
    HasProductId: s.HasProductId ?? 0,
    Ticket: s.Ticket ?? '',
    ImgHeight: s.ImgHeight ?? 0,
    ImgWidth: s.ImgWidth ?? 0,
    SubMsgType: s.SubMsgType ?? 0,
    NewMsgId: s.NewMsgId ?? Number(s.MsgId),
    OriContent: s.OriContent ?? '',
    EncryFileName: s.EncryFileName ?? '',
  };
}

/**
 * JSON text of a RawMessage (or any object containing RawMessages) with every `NewMsgId` written as the exact digits
 * of its `MsgId`, as the server does (JSON.stringify would print the rounded double).
 */
export function rawMessageJson(value: unknown, space?: number): string {
  const exact = new Map<number, string>();
  const collect = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(collect);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.NewMsgId === 'number' && typeof o.MsgId === 'string' && /^\d+$/.test(o.MsgId) && Number(o.MsgId) === o.NewMsgId) {
        exact.set(o.NewMsgId, o.MsgId);
      }
      for (const k of Object.keys(o)) collect(o[k]);
    }
  };
  collect(value);
  const json = JSON.stringify(value, null, space);
  if (exact.size === 0) return json;
  return json.replace(/("NewMsgId":\s*)(-?[\d.e+]+)/g, (m, p: string, num: string) => {
    const d = exact.get(Number(num));
    return d === undefined ? m : p + d;
  });
}
