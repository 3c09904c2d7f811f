/**
 * create_group, invite_friend, kick_group_member, set_group_displayname, stick (reference §1.4). Id lists accept
 * both `friend`/`friends` and `member`/`members`; every id is checked before anything is sent to WeChat.
 */
import type { FastifyInstance } from 'fastify';
import { owxError } from '../../errors.ts';
import type { WxClient } from '../../client/interface.ts';
import { requireOnline, route } from '../context.ts';
import { remote, SUCCESS } from '../outcome.ts';
import { findFriend, findGroup, idList, isGroupId } from '../resolve.ts';
import { S } from '../schemas.ts';

function checkFriends(client: WxClient, ids: string[]): void {
  for (const id of ids) if (!client.friend(id)) throw owxError('OWX_ERR_NAMED_NOT_FOUND', [`friend id ${id}`]);
}

export function registerGroupRoutes(app: FastifyInstance): void {
  route(app, 'create_group', S.create_group, async (p, { client }) => {
    const ids = idList(p, 'friends', 'friend', 'friend');
    checkFriends(client, ids);
    requireOnline(client);
    const g = await remote(() => client.createGroup(ids, p.displayname || undefined));
    return { code: 0, group_id: g.id, status: 'success' };
  });

  route(app, 'invite_friend', S.invite_friend, async (p, { client }) => {
    const g = findGroup(client, p);
    const ids = idList(p, 'friends', 'friend', 'friend');
    checkFriends(client, ids);
    requireOnline(client);
    await remote(() => client.inviteToGroup(g.id, ids));
    return { ...SUCCESS };
  });

  route(app, 'kick_group_member', S.kick_group_member, async (p, { client }) => {
    const g = findGroup(client, p);
    const ids = idList(p, 'members', 'member', 'member');
    for (const id of ids) if (!client.member(g.id, id)) throw owxError('OWX_ERR_NAMED_NOT_FOUND', [`member id ${id}`]);
    requireOnline(client);
    await remote(() => client.kickFromGroup(g.id, ids));
    return { ...SUCCESS };
  });

  route(app, 'set_group_displayname', S.set_group_displayname, async (p, { client }) => {
    const g = findGroup(client, p);
    requireOnline(client);
    await remote(() => client.renameGroup(g.id, p.new_displayname));
    return { ...SUCCESS };
  });

  route(app, 'stick', S.stick, async (p, { client }) => {
    const target = isGroupId(p.id) ? findGroup(client, { id: p.id }) : findFriend(client, { id: p.id });
    requireOnline(client);
    await remote(() => client.stick(target.id, p.op !== '0'));
    return { ...SUCCESS };
  });
}
