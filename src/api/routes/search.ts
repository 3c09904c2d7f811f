/**
 * search_friend / search_group: every parameter is an attribute that must be equal (reference §1.3). No match —
 * including an attribute objects do not have — is `{"code":100,"status":"object not found"}`, never a 500.
 */
import type { FastifyInstance } from 'fastify';
import { owxError } from '../../errors.ts';
import { route } from '../context.ts';
import { searchQuery } from '../resolve.ts';
import { S } from '../schemas.ts';

export function registerSearchRoutes(app: FastifyInstance): void {
  route(app, 'search_friend', S.search, (params, { client }) => {
    const q = searchQuery(params);
    const found = q ? client.searchFriends(q) : [];
    if (found.length === 0) throw owxError('OWX_ERR_NOT_FOUND');
    return found;
  });
  route(app, 'search_group', S.search, (params, { client }) => {
    const q = searchQuery(params);
    const found = q ? client.searchGroups(q) : [];
    if (found.length === 0) throw owxError('OWX_ERR_NOT_FOUND');
    return found;
  });
}
