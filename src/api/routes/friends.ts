/**
 * set_friend_markname, set_markname (friend, or a group member with group_id), make_friend and
 * accept_friend_request (reference §1.4).
 */
import type { FastifyInstance } from 'fastify';
import { errorBody, owxError } from '../../errors.ts';
import { requireOnline, route } from '../context.ts';
import { remote, SUCCESS } from '../outcome.ts';
import { findFriend, findMember } from '../resolve.ts';
import { S } from '../schemas.ts';

export function registerFriendRoutes(app: FastifyInstance): void {
  route(app, 'set_friend_markname', S.set_friend_markname, async (p, { client }) => {
    const f = findFriend(client, p);
    requireOnline(client);
    await remote(() => client.setRemark(f.id, p.new_markname));
    return { ...SUCCESS };
  });

  route(app, 'set_markname', S.set_markname, async (p, { client }) => {
    const targetId = p.group_id !== undefined && p.id !== undefined ? findMember(client, p.group_id, p.id).member.id : findFriend(client, p).id;
    requireOnline(client);
    await remote(() => client.setRemark(targetId, p.new_markname));
    return { ...SUCCESS };
  });

  route(app, 'make_friend', S.make_friend, async (p, { client }) => {
    if (p.id === client.user()?.id) throw owxError('OWX_ERR_FRIEND_SELF');
    if (client.friend(p.id)) throw owxError('OWX_ERR_ALREADY_FRIEND');
    if (!client.groupOfMember(p.id)) throw owxError('OWX_ERR_NOT_FOUND');
    requireOnline(client);
    await remote(() => client.addFriend(p.id, p.verify ?? ''));
    return { ...SUCCESS };
  });

  route(app, 'accept_friend_request', S.accept_friend_request, async (p, { client }) => {
    const echo = { id: p.id, displayname: p.displayname ?? '', ticket: p.ticket };
    requireOnline(client);
    try {
      await client.acceptFriendRequest(p.id, p.ticket);
      return { ...echo, ...SUCCESS };
    } catch (e) {
      if ((e as { code?: string }).code === 'OWX_ERR_NOT_LOGGED_IN' || (e as { code?: string }).code === 'OWX_ERR_STOPPED') throw e;
      return { ...echo, ...errorBody(owxError('OWX_ERR_FAILURE')), reason: (e as Error)?.message || String(e) };
    }
  });
}
