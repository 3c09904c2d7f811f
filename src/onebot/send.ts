/**
 * Sending segments to one chat: the parts (src/onebot/segments.ts) go out in order through the client's send
 * queue; the answer is the message ids of the parts sent (one id, or several joined by `,` when a message needed a
 * text and media sends: delete_message revokes them all). A part WeChat refused stops the rest and fails the action.
 */
import type { MediaInput } from '../client/interface.ts';
import { isOpenwxError } from '../errors.ts';
import { ActionFailure, fail } from './action-error.ts';
import type { Bot } from './bot.ts';
import { SegmentError, sendParts, type Segment } from './segments.ts';

export interface Target {
  /** The current WeChat id of the chat. */
  to: string;
  groupId?: string | undefined;
}

export async function sendSegments(
  bot: Bot,
  t: Target,
  segs: Segment[],
  media: (s: Segment) => MediaInput | { mediaId: string },
): Promise<{ messageId: string; time: number }> {
  let parts;
  try {
    parts = sendParts(bot, segs, t.groupId, media);
  } catch (e) {
    if (e instanceof SegmentError) fail(e.retcode === 'bad' ? 'bad_segment' : 'unsupported_segment', e.message);
    throw e;
  }
  if (!bot.online) fail('offline', `account ${bot.name} is not logged in (state ${bot.client.state})`);
  const ids: string[] = [];
  for (const p of parts) {
    let r;
    try {
      r = 'text' in p ? await bot.client.sendText(t.to, p.text) : await bot.client.sendMedia(t.to, p.media);
    } catch (e) {
      if (e instanceof ActionFailure) throw e;
      if (isOpenwxError(e, 'OWX_ERR_MEDIA_INVALID')) fail('bad_segment', e.message);
      fail('platform', (e as Error).message ?? String(e));
    }
    if (r!.code !== 0) fail('platform', `WeChat refused the send: ${r!.status}${ids.length ? ` (after ${ids.length} part(s) were sent: ${ids.join(',')})` : ''}`);
    bot.noteSent(r!.msgId, { peer: r!.toUserName || t.to, localId: r!.localId, groupId: t.groupId });
    ids.push(r!.msgId);
  }
  return { messageId: ids.join(','), time: Math.floor(Date.now() / 1000) };
}

/** Revokes every part of a message id (`id` or `id1,id2`). */
export async function revokeMessage(bot: Bot, messageId: string): Promise<void> {
  const ids = messageId.split(',').filter(Boolean);
  if (ids.length === 0) fail('bad_param', 'message_id is empty');
  if (!bot.online) fail('offline', `account ${bot.name} is not logged in`);
  for (const id of ids) {
    const n = bot.sentNote(id);
    if (!n) fail('not_found', `message ${id} is unknown (not sent by this account, or no longer in the history)`);
    if (n!.class !== 'send') fail('platform', 'WeChat can only revoke messages this account sent');
    let ok: boolean;
    try {
      ok = await bot.client.revokeMessage(id, n!.peer, n!.localId || undefined);
    } catch (e) {
      fail('platform', (e as Error).message);
    }
    if (!ok!) fail('platform', 'WeChat refused the revoke (too old, or already revoked)');
  }
}
