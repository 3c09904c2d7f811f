/**
 * consult: send a friend a text and wait for that friend's next message (reference §1.6, made for XiaoIce).
 * Fixed against Mojo: only the target's own reply ends the wait (other chats do not cancel the timer), the
 * timeout always answers, and a request without content or media is refused at once. Media without content is
 * just sent and answered like a media send.
 */
import { z } from 'zod';
import { owxError } from '../../errors.ts';
import type { Message } from '../../model/types.ts';
import { openwxRoute } from '../account-route.ts';
import { requireOnline, type ApiContext } from '../context.ts';
import { failureReply, sendReply, SENT_STATUS, type Json } from '../outcome.ts';
import { findFriend } from '../resolve.ts';
import { ConsultOutcome, ok } from '../responses.ts';
import { content, friendTarget, mediaParams, seconds } from '../schemas.ts';
import { readMedia, sendTo } from './send.ts';

export const CONSULT_DEFAULT_TIMEOUT_S = 30;

export const CONSULT_ROUTE = openwxRoute({
  name: 'consult',
  params: z.object({
    ...friendTarget,
    content,
    ...mediaParams,
    timeout: seconds(`seconds to wait for the reply (default ${CONSULT_DEFAULT_TIMEOUT_S})`, 600),
  }),
  doc: {
    summary: 'Send a friend a text and wait for their reply',
    tag: 'sending',
    needsLogin: true,
    responses: ok('the send and the reply (reply null on timeout)', ConsultOutcome),
  },
  handler: async (p, ctx, req, reply) => {
    const { client } = ctx;
    const friend = findFriend(client, p);
    requireOnline(client);
    const media = await readMedia(p, req.owx.files, ctx.options.mediaDirs);
    if (media && 'failure' in media) return media.failure as Json;
    const hasContent = p.content !== undefined && p.content !== '';
    if (!hasContent && !media) throw owxError('OWX_ERR_BAD_PARAM', ['content, media_path, media_id or media_data is required']);
    if (!hasContent) return sendTo(ctx, friend.id, undefined, media as Exclude<typeof media, Json>);
    if (media) {
      const m = await sendTo(ctx, friend.id, undefined, media as Exclude<typeof media, Json>);
      if (m.code !== 0) return m;
    }

    const timeoutMs = (p.timeout ?? CONSULT_DEFAULT_TIMEOUT_S) * 1000;
    // Listen before sending: a fast answer may arrive before the send call returns.
    let settle: (m: Message | null) => void = () => {};
    const answered = new Promise<Message | null>((resolve) => (settle = resolve));
    const onMessage = (m: Message) => {
      if (m.class === 'recv' && m.type === 'friend_message' && m.sender_id === friend.id) settle(m);
    };
    const onGone = () => settle(null);
    client.on('receive_message', onMessage);
    client.on('stop', onGone);
    reply.raw.on('close', onGone);
    let timer: NodeJS.Timeout | undefined;
    try {
      let sent: Json;
      try {
        sent = sendReply(await client.sendText(friend.id, p.content!), false);
      } catch (e) {
        return failureReply(e, false);
      }
      if (sent.code !== 0) return sent;
      timer = setTimeout(() => settle(null), timeoutMs);
      const got = await answered;
      if (!got) return { ...sent, status: SENT_STATUS, reply: null, reply_status: 'reply timeout' };
      return { ...sent, reply: got.content, reply_id: got.id, reply_status: 'success' };
    } finally {
      if (timer) clearTimeout(timer);
      client.off('receive_message', onMessage);
      client.off('stop', onGone);
      reply.raw.off('close', onGone);
    }
  },
});
