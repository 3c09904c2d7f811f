/**
 * create_group, invite_friend, kick_group_member, set_group_displayname, stick (reference §1.4). Id lists accept
 * both `friend`/`friends` and `member`/`members`; every id is checked before anything is sent to WeChat.
 */
import { z } from 'zod';
import { owxError } from '../../errors.ts';
import type { WxClient } from '../../client/interface.ts';
import { openwxRoute } from '../account-route.ts';
import { requireOnline } from '../context.ts';
import { remote, SUCCESS } from '../outcome.ts';
import { findFriend, findGroup, idList, isGroupId } from '../resolve.ts';
import { CreateGroupOutcome, ok, OperationOutcome } from '../responses.ts';
import { groupTarget, required, text } from '../schemas.ts';

function checkFriends(client: WxClient, ids: string[]): void {
  for (const id of ids) if (!client.friend(id)) throw owxError('OWX_ERR_NAMED_NOT_FOUND', [`friend id ${id}`]);
}

const outcome = ok('success or failure', OperationOutcome);

export const GROUP_ROUTES = [
  openwxRoute({
    name: 'create_group',
    params: z.object({
      friends: text('comma-separated friend ids'),
      friend: text('same as friends'),
      displayname: text('topic of the new group'),
    }),
    doc: { summary: 'Create a group with friends', tag: 'groups and friends', needsLogin: true, responses: ok('the new group id', CreateGroupOutcome) },
    handler: async (p, { client }) => {
      const ids = idList(p, 'friends', 'friend', 'friend');
      checkFriends(client, ids);
      requireOnline(client);
      const g = await remote(() => client.createGroup(ids, p.displayname || undefined));
      return { code: 0, group_id: g.id, status: 'success' };
    },
  }),

  openwxRoute({
    name: 'invite_friend',
    params: z.object({
      ...groupTarget,
      friends: text('comma-separated friend ids'),
      friend: text('same as friends'),
    }),
    doc: { summary: 'Invite friends into a group', tag: 'groups and friends', needsLogin: true, responses: outcome },
    handler: async (p, { client }) => {
      const g = findGroup(client, p);
      const ids = idList(p, 'friends', 'friend', 'friend');
      checkFriends(client, ids);
      requireOnline(client);
      await remote(() => client.inviteToGroup(g.id, ids));
      return { ...SUCCESS };
    },
  }),

  openwxRoute({
    name: 'kick_group_member',
    params: z.object({
      ...groupTarget,
      members: text('comma-separated member ids'),
      member: text('same as members'),
    }),
    doc: { summary: 'Remove members from a group', tag: 'groups and friends', needsLogin: true, responses: outcome },
    handler: async (p, { client }) => {
      const g = findGroup(client, p);
      const ids = idList(p, 'members', 'member', 'member');
      for (const id of ids) if (!client.member(g.id, id)) throw owxError('OWX_ERR_NAMED_NOT_FOUND', [`member id ${id}`]);
      requireOnline(client);
      await remote(() => client.kickFromGroup(g.id, ids));
      return { ...SUCCESS };
    },
  }),

  openwxRoute({
    name: 'set_group_displayname',
    params: z.object({ ...groupTarget, new_displayname: required('new group name') }),
    doc: { summary: 'Rename a group', tag: 'groups and friends', needsLogin: true, responses: outcome },
    handler: async (p, { client }) => {
      const g = findGroup(client, p);
      requireOnline(client);
      await remote(() => client.renameGroup(g.id, p.new_displayname));
      return { ...SUCCESS };
    },
  }),

  openwxRoute({
    name: 'stick',
    params: z.object({
      id: required('friend or group id'),
      op: z.enum(['0', '1'], { error: 'expected 0 (unpin) or 1 (pin)' }).describe('1 pin (default), 0 unpin').optional(),
    }),
    doc: { summary: 'Pin or unpin a chat', tag: 'groups and friends', needsLogin: true, responses: outcome },
    handler: async (p, { client }) => {
      const target = isGroupId(p.id) ? findGroup(client, { id: p.id }) : findFriend(client, { id: p.id });
      requireOnline(client);
      await remote(() => client.stick(target.id, p.op !== '0'));
      return { ...SUCCESS };
    },
  }),
];
