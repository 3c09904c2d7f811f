/**
 * What the Openwx routes answer, as zod schemas (the OpenAPI document's `components.schemas`). Each route's
 * declaration (its file of routes/, account-route.ts) names the ones it answers with, by HTTP status, next to its
 * parameter schema and summary. test/api/openapi.test.ts checks real answers against these schemas, so the
 * document cannot drift from what the routes send.
 */
import { z } from 'zod';
import type { ResponseDoc } from './route-table.ts';

/** Every schema the OpenAPI document refers to, by id (`#/components/schemas/<id>`). */
export const apiSchemas = z.registry<{ id: string }>();

/** The same schemas by id (tests validate real answers with the schema a `$ref` names). */
export const schemasById = new Map<string, z.ZodType>();

export function component<T extends z.ZodType>(id: string, schema: T): T {
  if (schemasById.has(id)) throw new Error(`OpenAPI schema id ${id} registered twice`);
  apiSchemas.add(schema, { id });
  schemasById.set(id, schema);
  return schema;
}

const uid = z.union([z.string(), z.number()]).describe('WeChat Uin; "" when WeChat gives none');

const person = {
  id: z.string().describe('WeChat UserName (`@…`), changes with each QR login'),
  uid,
  account: z.string().describe('WeChat alias'),
  name: z.string().describe('nickname'),
  markname: z.string().describe('remark name (for members: their group nickname)'),
  sex: z.enum(['male', 'female', '']),
  display: z.string(),
  city: z.string(),
  province: z.string(),
  signature: z.string(),
  displayname: z.string().describe('remark, else nickname'),
  stable_id: z.string().describe('openwx: best-effort key that survives QR logins'),
};

export const User = component('User', z.strictObject(person).describe('the logged-in user'));
export const Friend = component(
  'Friend',
  z.strictObject({ ...person, category: z.enum(['好友', '公众号', '系统帐号']) }).describe('a friend, public or system account'),
);
export const Member = component('Member', z.strictObject(person).describe('a group member'));
const groupBase = {
  id: z.string().describe('`@@…`'),
  uid,
  name: z.string().describe('topic ("" when none)'),
  displayname: z.string().describe('topic, else the member names'),
  owner_uid: uid,
  stable_id: z.string(),
};
export const Group = component('Group', z.strictObject({ ...groupBase, member: z.array(Member) }).describe('a group with its members'));
export const GroupBasic = component('GroupBasic', z.strictObject(groupBase).describe('a group without its members'));

/** In-band failure (HTTP 200) and the JSON of HTTP errors: a non-zero `code` and a readable `status`. */
export const Failure = component(
  'Failure',
  z
    .strictObject({
      code: z.number().int().describe('non-zero: see docs/errors.md (100 not found, -1 bad parameter, -2 not logged in, -6 auth, WeChat Ret)'),
      status: z.string(),
      id: z.string().nullable().optional(),
      media_id: z.string().nullable().optional(),
      media_path: z.string().nullable().optional(),
      reason: z.string().optional(),
    })
    .describe('a failure: code ≠ 0 and a readable status'),
);

export const Success = component('Success', z.strictObject({ code: z.literal(0), status: z.literal('success') }));

export const SendAnswer = component(
  'SendAnswer',
  z
    .strictObject({
      code: z.number().int().describe('0 sent; else WeChat Ret or -1'),
      status: z.string().describe('发送成功, or why it failed'),
      msg_id: z.string().describe('WeChat MsgID'),
      id: z.string().describe('`<MsgID>:<ToUserName>` (revoke_message takes it)'),
      media_id: z.string().optional().describe('`<MediaId>:<code>` of a media send, reusable'),
      text_msg_id: z.string().optional().describe('content and media: the text message sent first'),
      text_id: z.string().optional(),
    })
    .describe('outcome of one send'),
);

export const Accepted = component(
  'Accepted',
  z.strictObject({ code: z.literal(0), status: z.literal('request already in execution') }).describe('async=1: the send runs in the background'),
);

export const BroadcastAnswer = component(
  'BroadcastAnswer',
  z
    .strictObject({ id: z.literal('0'), code: z.literal(0), status: z.literal('request already executed'), count: z.number().int() })
    .describe('id=@all: number of friends the message is being sent to'),
);

export const ConsultAnswer = component(
  'ConsultAnswer',
  z
    .strictObject({
      code: z.literal(0),
      status: z.string(),
      msg_id: z.string(),
      id: z.string(),
      reply: z.string().nullable().describe('the friend\'s reply, null on timeout'),
      reply_id: z.string().optional(),
      reply_status: z.enum(['success', 'reply timeout']),
    })
    .describe('the send and the friend\'s reply'),
);

export const RevokeAnswer = component(
  'RevokeAnswer',
  z
    .strictObject({ id: z.string(), code: z.union([z.literal(0), z.literal(201)]), status: z.enum(['revoke success', 'revoke failure']), reason: z.string().optional() })
    .describe('revoke outcome'),
);

export const UploadAnswer = component(
  'UploadAnswer',
  z
    .strictObject({
      code: z.literal(0),
      status: z.literal('success'),
      media_id: z.string().describe('`<MediaId>:<code>`'),
      media_code: z.number().int(),
      media_type: z.string(),
      media_path: z.string(),
      media_name: z.string(),
      media_size: z.number().int(),
      media_mime: z.string(),
      media_mtime: z.number().int(),
      media_ext: z.string(),
    })
    .describe('an uploaded media, to send later by media_id'),
);

export const CreateGroupAnswer = component(
  'CreateGroupAnswer',
  z.strictObject({ code: z.literal(0), group_id: z.string(), status: z.literal('success') }),
);

export const FriendRequestAnswer = component(
  'FriendRequestAnswer',
  z
    .strictObject({
      id: z.string(),
      displayname: z.string(),
      ticket: z.string(),
      code: z.union([z.literal(0), z.literal(-1)]),
      status: z.enum(['success', 'failure']),
      reason: z.string().optional(),
    })
    .describe('accept_friend_request outcome, echoing the request'),
);

const clientBase = {
  code: z.literal(0),
  account: z.string(),
  pid: z.number().int(),
  starttime: z.number().int().describe('unix seconds'),
  runtime: z.number().int().describe('seconds since starttime'),
};

export const ClientInfo = component(
  'ClientInfo',
  z.strictObject({
    ...clientBase,
    os: z.string(),
    version: z.string(),
    http_debug: z.literal(0),
    log_encoding: z.null(),
    log_path: z.string(),
    log_level: z.string(),
    state: z.enum(['init', 'loading', 'scaning', 'confirming', 'updating', 'running', 'stop']),
    outbox_depth: z.number().int().describe('openwx: post_api reports waiting in the outbox'),
    dead_letters: z.number().int().describe('openwx: post_api reports given up (get_dead_letters)'),
    status: z.literal('success'),
  }),
);

export const DeadLettersAnswer = component(
  'DeadLettersAnswer',
  z
    .strictObject({
      code: z.literal(0),
      status: z.literal('success'),
      total: z.number().int().describe('dead letters of this account'),
      dead_letters: z.array(
        z.strictObject({
          event_id: z.string().describe('X-Openwx-Event-Id of the report (kept when replayed)'),
          kind: z.string().describe('receive_message, send_message or event:<name>'),
          created_at: z.number().int().describe('unix seconds: written to the outbox (or last replayed)'),
          died_at: z.number().int().describe('unix seconds: given up'),
          attempts: z.number().int(),
          last_error: z.string().describe('why the last attempt failed (HTTP status or network error)'),
          report: z.unknown().describe('the report JSON as it would be POSTed'),
        }),
      ),
    })
    .describe('post_api reports given up, oldest first'),
);

export const ReplayAnswer = component(
  'ReplayAnswer',
  z
    .strictObject({
      code: z.union([z.literal(0), z.literal(100)]),
      status: z.string().describe('success, or dead letter <ids> not found'),
      replayed: z.number().int().describe('reports moved back to the outbox'),
      not_found: z.array(z.string()).optional().describe('requested event ids that are not dead letters'),
    })
    .describe('replay outcome'),
);

export const StopAnswer = component(
  'StopAnswer',
  z.strictObject({ ...clientBase, status: z.string().describe('success, client(<pid>) will stop in <n> seconds') }),
);

export const MessageReport = component(
  'MessageReport',
  z
    .looseObject({
      post_type: z.enum(['receive_message', 'send_message']),
      id: z.string(),
      type: z.enum(['friend_message', 'group_message', 'group_notice']),
      class: z.enum(['send', 'recv']),
      format: z.enum(['text', 'media', 'app', 'card', 'revoke', 'payment', 'unknown']),
      time: z.number(),
      content: z.string(),
    })
    .describe('a message as post_api receives it (docs/message-model.md lists every field)'),
);

export const EventReport = component(
  'EventReport',
  z.strictObject({ post_type: z.literal('event'), event: z.string(), params: z.array(z.unknown()) }).describe('an account event'),
);

export const CheckEventAnswer = component(
  'CheckEventAnswer',
  z.array(z.union([MessageReport, EventReport])).describe('queued reports, or [] after the long-poll timeout'),
);

export const json = (description: string, schema: z.ZodType): ResponseDoc => ({ description, json: schema });
const oneOf = (id: string, ...schemas: z.ZodType[]) => component(id, z.union(schemas as [z.ZodType, z.ZodType, ...z.ZodType[]]));

export const FriendsOrFailure = oneOf('FriendsOrFailure', z.array(Friend), Failure);
export const GroupsOrFailure = oneOf('GroupsOrFailure', z.array(Group), Failure);
export const FriendList = component('FriendList', z.array(Friend));
export const GroupList = component('GroupList', z.array(Group));
export const GroupBasicList = component('GroupBasicList', z.array(GroupBasic));
export const SendOutcome = oneOf('SendOutcome', SendAnswer, Accepted, Failure);
export const FriendSendOutcome = oneOf('FriendSendOutcome', SendAnswer, Accepted, BroadcastAnswer, Failure);
export const ConsultOutcome = oneOf('ConsultOutcome', ConsultAnswer, SendAnswer, Failure);
export const RevokeOutcome = oneOf('RevokeOutcome', RevokeAnswer, Failure);
export const UploadOutcome = oneOf('UploadOutcome', UploadAnswer, Failure);
export const CreateGroupOutcome = oneOf('CreateGroupOutcome', CreateGroupAnswer, Failure);
export const OperationOutcome = oneOf('OperationOutcome', Success, Failure);

/** The one answer of most routes: HTTP 200 JSON of `schema`. */
export const ok = (description: string, schema: z.ZodType): Record<number, ResponseDoc> => ({ 200: json(description, schema) });
