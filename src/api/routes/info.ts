/** get_user_info, get_friend_info, get_group_info, get_group_basic_info: the contact book as Mojo JSON. */
import { owxError } from '../../errors.ts';
import { openwxRoute } from '../account-route.ts';
import { FriendList, GroupBasicList, GroupList, ok, User } from '../responses.ts';
import { NO_PARAMS } from '../schemas.ts';

export const INFO_ROUTES = [
  openwxRoute({
    name: 'get_user_info',
    params: NO_PARAMS,
    doc: { summary: 'The logged-in user', tag: 'information', needsLogin: true, responses: ok('the user', User) },
    handler: (_p, { client }) => {
      const u = client.user();
      if (!u) throw owxError('OWX_ERR_NOT_LOGGED_IN', [client.state]);
      return u;
    },
  }),
  openwxRoute({
    name: 'get_friend_info',
    params: NO_PARAMS,
    doc: { summary: 'Every friend, public and system account', tag: 'information', needsLogin: false, responses: ok('friends', FriendList) },
    handler: (_p, { client }) => client.friends(),
  }),
  openwxRoute({
    name: 'get_group_info',
    params: NO_PARAMS,
    doc: { summary: 'Every group with its members', tag: 'information', needsLogin: false, responses: ok('groups', GroupList) },
    handler: (_p, { client }) => client.groups(),
  }),
  openwxRoute({
    name: 'get_group_basic_info',
    params: NO_PARAMS,
    doc: { summary: 'Every group, without members', tag: 'information', needsLogin: false, responses: ok('groups', GroupBasicList) },
    handler: (_p, { client }) => client.groupsBasic(),
  }),
];
