/** get_user_info, get_friend_info, get_group_info, get_group_basic_info: the contact book as Mojo JSON. */
import type { FastifyInstance } from 'fastify';
import { owxError } from '../../errors.ts';
import { route } from '../context.ts';
import { S } from '../schemas.ts';

export function registerInfoRoutes(app: FastifyInstance): void {
  route(app, 'get_user_info', S.none, (_p, { client }) => {
    const u = client.user();
    if (!u) throw owxError('OWX_ERR_NOT_LOGGED_IN', [client.state]);
    return u;
  });
  route(app, 'get_friend_info', S.none, (_p, { client }) => client.friends());
  route(app, 'get_group_info', S.none, (_p, { client }) => client.groups());
  route(app, 'get_group_basic_info', S.none, (_p, { client }) => client.groupsBasic());
}
