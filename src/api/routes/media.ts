/**
 * get_avatar (image bytes with cache headers; a missing avatar is a JSON error, not Mojo's empty 503) and
 * upload_media (a media_id to send later; failures answer with a non-zero code instead of `media_id:null` only).
 */
import { z } from 'zod';
import { owxError } from '../../errors.ts';
import { openwxRoute } from '../account-route.ts';
import { requireOnline } from '../context.ts';
import { mediaFromParams, isMediaRef } from '../media-input.ts';
import { failureReply } from '../outcome.ts';
import { findFriend, findGroup, findMember, isGroupId } from '../resolve.ts';
import { Failure, json, ok, UploadOutcome } from '../responses.ts';
import { friendTarget, mediaParams, text } from '../schemas.ts';
import { mediaIdOf } from './send.ts';

/** The image type from its first bytes (Mojo sniffed GIF and PNG; JPEG and WebP too here), else the fallback. */
export function sniffImageType(data: Buffer, fallback: string): string {
  if (data.subarray(0, 4).toString('latin1') === 'GIF8') return 'image/gif';
  if (data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'image/jpeg';
  if (data.subarray(0, 4).toString('latin1') === 'RIFF' && data.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  return /^image\//.test(fallback) ? fallback : 'image/jpeg';
}

export const MEDIA_ROUTES = [
  openwxRoute({
    name: 'get_avatar',
    params: z.object({
      ...friendTarget,
      id: text('id of the user, a friend, a group, or (with group_id) a member'),
      group_id: text('group of the member given by id'),
    }),
    doc: {
      summary: 'Avatar image of the user, a friend, a group or a member',
      tag: 'media',
      needsLogin: true,
      responses: {
        200: { description: 'the image (type sniffed), or JSON code 100 when the object is unknown', raw: ['image/jpeg', 'image/png', 'image/gif', 'image/webp'], json: Failure },
        404: json('avatar not available (code 201)', Failure),
      },
    },
    handler: async (p, { client }, _req, reply) => {
      // Mojo's order: self, a group id, a member (group_id + id), else a friend by id/account/displayname/markname.
      const self = client.user();
      let id: string;
      let groupId: string | undefined;
      if (p.id !== undefined && self && p.id === self.id) id = self.id;
      else if (p.id !== undefined && isGroupId(p.id)) id = findGroup(client, { id: p.id, displayname: p.displayname }).id;
      else if (p.group_id !== undefined && p.id !== undefined) {
        id = findMember(client, p.group_id, p.id).member.id;
        groupId = p.group_id;
      } else id = findFriend(client, p).id;
      requireOnline(client);
      let avatar;
      try {
        avatar = await client.getAvatar(id, groupId);
      } catch (e) {
        if ((e as { code?: string }).code === 'OWX_ERR_NOT_LOGGED_IN' || (e as { code?: string }).code === 'OWX_ERR_STOPPED') throw e;
        throw owxError('OWX_ERR_AVATAR_UNAVAILABLE', [(e as Error)?.message || String(e)], { cause: e, details: { id } });
      }
      if (!avatar || avatar.data.length === 0) throw owxError('OWX_ERR_AVATAR_UNAVAILABLE', ['empty image'], { details: { id } });
      const now = Date.now();
      reply
        .code(200)
        .header('content-type', sniffImageType(avatar.data, avatar.mime))
        .header('cache-control', 'max-age=3600')
        .header('expires', new Date(now + 3600_000).toUTCString())
        .header('last-modified', new Date(now).toUTCString())
        .send(avatar.data);
      return reply;
    },
  }),

  openwxRoute({
    name: 'upload_media',
    params: z.object({ ...mediaParams }),
    doc: { summary: 'Upload media once, send it later by media_id', tag: 'media', needsLogin: true, responses: ok('the uploaded media', UploadOutcome) },
    handler: async (p, { client, options }, req) => {
      let media;
      try {
        media = await mediaFromParams({ ...p, media_id: undefined }, req.owx.files, options.mediaDirs);
      } catch (e) {
        return { ...failureReply(e, false), media_id: null, media_path: p.media_path ?? null };
      }
      if (!media || isMediaRef(media)) throw owxError('OWX_ERR_BAD_PARAM', ['media_path or media_data is required']);
      requireOnline(client);
      try {
        const up = await client.uploadMedia(media);
        return { code: 0, status: 'success', ...up, media_id: mediaIdOf(up.media_id, up.media_code) };
      } catch (e) {
        return { ...failureReply(e, false), media_id: null, media_path: p.media_path ?? null };
      }
    },
  }),
];
