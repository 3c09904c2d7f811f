/**
 * Media message labels and the post-download step (shared/spec/mojo-weixin-reference.md §4.3): content is `[图片]` etc.,
 * and `(<media_path>)` is appended after a successful download. openwx: a failed download keeps the message and
 * records `media_error`.
 */
import { MsgType } from '../wire/constants.ts';
import type { MediaType, Message } from './types.ts';

export const MEDIA_LABEL: Record<MediaType, string> = {
  image: '[图片]',
  voice: '[语音]',
  video: '[视频]',
  microvideo: '[小视频]',
  emoticon: '[表情]',
  file: '[文件]',
};

/** MsgType → media type/code of the plain media messages (files are AppMsgType 6, code 6). */
export const MEDIA_BY_MSGTYPE: Record<number, MediaType> = {
  [MsgType.IMAGE]: 'image',
  [MsgType.VOICE]: 'voice',
  [MsgType.VIDEO]: 'video',
  [MsgType.MICROVIDEO]: 'microvideo',
  [MsgType.EMOTICON]: 'emoticon',
};

/** Media message after a successful download: `media_path` set and `(<path>)` appended to the label. */
export function withMediaPath(m: Message, path: string, extra: Partial<Message> = {}): Message {
  const label = m.media_type ? MEDIA_LABEL[m.media_type] : m.content;
  return { ...m, ...extra, media_path: path, content: `${label}(${path})` };
}

/** Media message whose download failed: delivered anyway, with the reason. */
export function withMediaError(m: Message, error: string): Message {
  return { ...m, media_error: error };
}

/** `"<id>:<code>"` → parts (Mojo splits media_id at the first colon). */
export function splitMediaId(mediaId: string): { id: string; code: number | undefined } {
  const i = mediaId.indexOf(':');
  if (i < 0) return { id: mediaId, code: undefined };
  const code = Number(mediaId.slice(i + 1));
  return { id: mediaId.slice(0, i), code: Number.isFinite(code) && mediaId.slice(i + 1) !== '' ? code : undefined };
}
