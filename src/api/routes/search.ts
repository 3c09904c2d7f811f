/**
 * search_friend / search_group: every parameter is an attribute that must be equal (reference §1.3). No match —
 * including an attribute objects do not have — is `{"code":100,"status":"object not found"}`, never a 500.
 */
import { z } from 'zod';
import { owxError } from '../../errors.ts';
import { openwxRoute } from '../account-route.ts';
import { searchQuery } from '../resolve.ts';
import { FriendsOrFailure, GroupsOrFailure, ok } from '../responses.ts';

/** Every parameter is kept: any attribute of the object. */
const SearchParams = z.record(z.string(), z.string()).describe('any attribute of the object; all given ones must be equal');

export const SEARCH_ROUTES = [
  openwxRoute({
    name: 'search_friend',
    params: SearchParams,
    doc: {
      summary: 'Friends whose given attributes are all equal',
      tag: 'information',
      needsLogin: false,
      responses: ok('matching friends, or code 100 object not found', FriendsOrFailure),
    },
    handler: (params, { client }) => {
      const q = searchQuery(params);
      const found = q ? client.searchFriends(q) : [];
      if (found.length === 0) throw owxError('OWX_ERR_NOT_FOUND');
      return found;
    },
  }),
  openwxRoute({
    name: 'search_group',
    params: SearchParams,
    doc: {
      summary: 'Groups whose given attributes are all equal',
      tag: 'information',
      needsLogin: false,
      responses: ok('matching groups, or code 100 object not found', GroupsOrFailure),
    },
    handler: (params, { client }) => {
      const q = searchQuery(params);
      const found = q ? client.searchGroups(q) : [];
      if (found.length === 0) throw owxError('OWX_ERR_NOT_FOUND');
      return found;
    },
  }),
];
