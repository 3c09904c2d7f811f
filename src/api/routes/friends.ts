/**
 * set_friend_markname, set_markname (friend, or a group member with group_id), make_friend and
 * accept_friend_request (reference §1.4).
 */
import { z } from 'zod';
import { errorBody, owxError } from '../../errors.ts';
import { openwxRoute } from '../account-route.ts';
import { requireOnline } from '../context.ts';
import { remote, SUCCESS } from '../outcome.ts';
import { findFriend, findMember } from '../resolve.ts';
import { FriendRequestAnswer, ok, OperationOutcome } from '../responses.ts';
import { friendTarget, required, text } from '../schemas.ts';

const outcome = ok('success or failure', OperationOutcome);
const newMarkname = () => z.string({ error: 'is required' }).describe('new remark name ("" clears it)');

export const FRIEND_ROUTES = [
  openwxRoute({
    name: 'set_friend_markname',
    params: z.object({ ...friendTarget, new_markname: newMarkname() }),
    doc: { summary: 'Set a friend\'s remark name', tag: 'groups and friends', needsLogin: true, responses: outcome },
    handler: async (p, { client }) => {
      const f = findFriend(client, p);
      requireOnline(client);
      await remote(() => client.setRemark(f.id, p.new_markname));
      return { ...SUCCESS };
    },
  }),

  openwxRoute({
    name: 'set_markname',
    params: z.object({
      ...friendTarget,
      group_id: text('with id: the group of the member whose remark is set'),
      new_markname: newMarkname(),
    }),
    doc: { summary: 'Set the remark name of a friend or a group member', tag: 'groups and friends', needsLogin: true, responses: outcome },
    handler: async (p, { client }) => {
      const targetId = p.group_id !== undefined && p.id !== undefined ? findMember(client, p.group_id, p.id).member.id : findFriend(client, p).id;
      requireOnline(client);
      await remote(() => client.setRemark(targetId, p.new_markname));
      return { ...SUCCESS };
    },
  }),

  openwxRoute({
    name: 'make_friend',
    params: z.object({ id: required('id of a group member'), verify: text('greeting sent with the request') }),
    doc: { summary: 'Send a friend request to a group member', tag: 'groups and friends', needsLogin: true, responses: outcome },
    handler: async (p, { client }) => {
      if (p.id === client.user()?.id) throw owxError('OWX_ERR_FRIEND_SELF');
      if (client.friend(p.id)) throw owxError('OWX_ERR_ALREADY_FRIEND');
      if (!client.groupOfMember(p.id)) throw owxError('OWX_ERR_NOT_FOUND');
      requireOnline(client);
      await remote(() => client.addFriend(p.id, p.verify ?? ''));
      return { ...SUCCESS };
    },
  }),

  openwxRoute({
    name: 'accept_friend_request',
    params: z.object({
      id: required('id from the friend_request event'),
      displayname: text('display name from the friend_request event'),
      ticket: required('ticket from the friend_request event'),
    }),
    doc: {
      summary: 'Accept a friend request (from the friend_request event)',
      tag: 'groups and friends',
      needsLogin: true,
      responses: ok('outcome, echoing the request', FriendRequestAnswer),
    },
    handler: async (p, { client }) => {
      const echo = { id: p.id, displayname: p.displayname ?? '', ticket: p.ticket };
      requireOnline(client);
      try {
        await client.acceptFriendRequest(p.id, p.ticket);
        return { ...echo, ...SUCCESS };
      } catch (e) {
        if ((e as { code?: string }).code === 'OWX_ERR_NOT_LOGGED_IN' || (e as { code?: string }).code === 'OWX_ERR_STOPPED') throw e;
        return { ...echo, ...errorBody(owxError('OWX_ERR_FAILURE')), reason: (e as Error)?.message || String(e) };
      }
    },
  }),
];
