/**
 * send_friend_message, send_group_message (reference §1.5) and revoke_message. A send resolves its target, then
 * sends the text and/or the media through the client's send queue and answers with the outcome. `async` answers
 * at once; `id=@all` broadcasts to every real friend, capped by `broadcast_max` and paced by the send queue.
 * The message history learns each sent message (chat, LocalID: revoke_message after a restart) from its
 * send_message report, in the reporter's transaction (src/api/reporter.ts), not here: one SQLite write per send.
 */
import { z } from 'zod';
import { owxError } from '../../errors.ts';
import { openwxRoute } from '../account-route.ts';
import { requireOnline, type ApiContext, type UploadedFile } from '../context.ts';
import { isMediaRef, mediaFromParams, type MediaParams, type MediaSpec } from '../media-input.ts';
import { failureReply, sendReply, type Json } from '../outcome.ts';
import { findFriend, findGroup } from '../resolve.ts';
import { FriendSendOutcome, ok, RevokeOutcome, SendOutcome } from '../responses.ts';
import { async, content, friendTarget, groupTarget, mediaParams, text } from '../schemas.ts';

export interface SendParams extends MediaParams {
  content?: string | undefined;
  async?: boolean | undefined;
}

const NOTHING_TO_SEND = 'content, media_path, media_id or media_data is required';

/** The media of a request, or an in-band failure answer. */
export async function readMedia(
  p: MediaParams,
  files: Record<string, UploadedFile>,
  mediaDirs: readonly string[],
): Promise<MediaSpec | null | Json> {
  try {
    return await mediaFromParams(p, files, mediaDirs);
  } catch (e) {
    return { failure: failureReply(e, true) };
  }
}

function isFailure(m: MediaSpec | null | Json): m is { failure: Json } {
  return m !== null && typeof m === 'object' && 'failure' in m;
}

/** Sends the text (if any) then the media (if any) to one chat; answers with the first failure or the last send. */
export async function sendTo(ctx: ApiContext, toId: string, content: string | undefined, media: MediaSpec | null): Promise<Json> {
  const { client } = ctx;
  let textReply: Json | null = null;
  if (content !== undefined && content !== '') {
    try {
      textReply = sendReply(await client.sendText(toId, content), false);
    } catch (e) {
      return failureReply(e, false);
    }
    if (textReply.code !== 0 || !media) return textReply;
  }
  if (!media) throw owxError('OWX_ERR_BAD_PARAM', [NOTHING_TO_SEND]);
  let mediaReply: Json;
  try {
    mediaReply = sendReply(await client.sendMedia(toId, media), true);
  } catch (e) {
    mediaReply = failureReply(e, true);
  }
  if (textReply) {
    mediaReply.text_msg_id = textReply.msg_id;
    mediaReply.text_id = textReply.id;
  }
  return mediaReply;
}

async function handleSend(ctx: ApiContext, toId: string, p: SendParams, files: Record<string, UploadedFile>): Promise<Json> {
  const media = await readMedia(p, files, ctx.options.mediaDirs);
  if (isFailure(media)) return media.failure;
  if ((p.content === undefined || p.content === '') && !media) throw owxError('OWX_ERR_BAD_PARAM', [NOTHING_TO_SEND]);
  if (p.async) {
    sendTo(ctx, toId, p.content, media)
      .then((r) => {
        if (r.code !== 0) ctx.logger.warn({ to: toId, code: r.code, status: r.status }, 'async send failed');
      })
      .catch((err: unknown) => ctx.logger.warn({ err, to: toId }, 'async send failed'));
    return { code: 0, status: 'request already in execution' };
  }
  return sendTo(ctx, toId, p.content, media);
}

async function broadcast(ctx: ApiContext, p: SendParams, files: Record<string, UploadedFile>): Promise<Json> {
  const { client, options, logger } = ctx;
  let media = await readMedia(p, files, ctx.options.mediaDirs);
  if (isFailure(media)) return media.failure;
  if ((p.content === undefined || p.content === '') && !media) throw owxError('OWX_ERR_BAD_PARAM', [NOTHING_TO_SEND]);
  const self = client.user()?.id;
  // Mojo messaged every entry of the friend list, system and public accounts included; openwx only real friends.
  const targets = client.friends().filter((f) => f.category === '好友' && f.id !== self);
  if (targets.length > options.broadcastMax) throw owxError('OWX_ERR_BROADCAST_LIMIT', [targets.length, options.broadcastMax]);
  if (media && !isMediaRef(media)) {
    // Upload once and send the same media_id to everyone (Mojo re-uploaded per friend).
    try {
      const up = await client.uploadMedia(media);
      media = { mediaId: mediaIdOf(up.media_id, up.media_code), name: up.media_name, size: up.media_size, ext: up.media_ext };
    } catch (e) {
      return failureReply(e, true);
    }
  }
  const m = media;
  void (async () => {
    let failed = 0;
    for (const f of targets) {
      if (client.state === 'stop') break;
      const r = await sendTo(ctx, f.id, p.content, m).catch((e: unknown) => failureReply(e, !!m));
      if (r.code !== 0) failed++;
    }
    logger.info({ friends: targets.length, failed }, 'broadcast (id=@all) finished');
  })().catch((err: unknown) => logger.warn({ err }, 'broadcast stopped'));
  return { id: '0', code: 0, status: 'request already executed', count: targets.length };
}

/** `"<MediaId>:<code>"`, the form a later send takes back. */
export function mediaIdOf(id: string, code: number | string): string {
  return /:\d+$/.test(id) ? id : `${id}:${code}`;
}

export const SendFriendParams = z.object({ ...friendTarget, content, ...mediaParams, async });
export const SendGroupParams = z.object({ ...groupTarget, content, ...mediaParams, async });

export const SEND_ROUTES = [
  openwxRoute({
    name: 'send_friend_message',
    params: SendFriendParams,
    doc: {
      summary: 'Send text and/or media to a friend (id=@all: every friend)',
      tag: 'sending',
      needsLogin: true,
      responses: ok('the send outcome (in-band: code ≠ 0 on failure)', FriendSendOutcome),
    },
    handler: async (p, ctx, req) => {
      const { client } = ctx;
      if (p.id === '@all') {
        requireOnline(client);
        return broadcast(ctx, p, req.owx.files);
      }
      const f = findFriend(client, p);
      requireOnline(client);
      return handleSend(ctx, f.id, p, req.owx.files);
    },
  }),

  openwxRoute({
    name: 'send_group_message',
    params: SendGroupParams,
    doc: {
      summary: 'Send text and/or media to a group',
      tag: 'sending',
      needsLogin: true,
      responses: ok('the send outcome (in-band: code ≠ 0 on failure)', SendOutcome),
    },
    handler: async (p, ctx, req) => {
      const { client } = ctx;
      const g = findGroup(client, p);
      requireOnline(client);
      return handleSend(ctx, g.id, p, req.owx.files);
    },
  }),

  openwxRoute({
    name: 'revoke_message',
    params: z.object({
      id: text('the `id` a send returned (`<MsgID>:<ToUserName>`), or the MsgID of any sent message in the history'),
    }),
    doc: { summary: 'Revoke a message sent by the API', tag: 'sending', needsLogin: true, responses: ok('revoke outcome', RevokeOutcome) },
    handler: async (p, ctx) => {
      const { client } = ctx;
      if (p.id === undefined || p.id === '') throw owxError('OWX_ERR_MSG_ID_NOT_FOUND', [], { details: { id: null } });
      const i = p.id.indexOf(':');
      const msgId = i > 0 ? p.id.slice(0, i) : i < 0 ? p.id : '';
      let to = i > 0 ? p.id.slice(i + 1) : '';
      // Mojo answered code 0 even on failure; openwx answers a failure with a non-zero code (201).
      const failure = (reason: string) => ({ id: p.id, code: 201, status: 'revoke failure', reason });
      if (!msgId) return failure('id must be <MsgID>:<ToUserName>, or the MsgID of a sent message');
      // The history knows the chat of every stored message (also after a restart), so the bare MsgID is enough. Read
      // through the host's storage: in a cluster the history is in PostgreSQL, not in the data folder's SQLite.
      let stored;
      try {
        stored = await ctx.store.storage?.message(msgId);
      } catch (err) {
        ctx.logger.warn({ err }, 'history lookup failed');
      }
      if (stored && stored.class !== 'send') return failure('only messages this account sent can be revoked');
      if (!to) {
        if (!stored) return failure(`message ${msgId} is not in the history: give <MsgID>:<ToUserName>`);
        to = stored.peer;
      }
      requireOnline(client);
      try {
        const revoked = await client.revokeMessage(msgId, to, stored?.localId ?? undefined);
        return revoked ? { id: p.id, code: 0, status: 'revoke success' } : failure('WeChat refused the revoke');
      } catch (e) {
        const r = failureReply(e, false);
        return failure(String(r.status));
      }
    },
  }),
];
