/**
 * The OneBot endpoints in the OpenAPI document (`/openwx/openapi.json`, the console's `/docs`): path items for the
 * transports configured (docs/onebot.md, "Endpoints"), added beside the route table with `addApiDocPaths` when the
 * hub registers its routes. WebSocket endpoints are documented as the GET that upgrades (101). The OneBot token is
 * an `Authorization: Bearer` token like the API's (`onebot.access_token`, else the API token), or the
 * `access_token` query parameter.
 */
import type { ApiDocExtras } from '../api/route-table.ts';
import type { OneBotOptions } from './settings.ts';
import { V11_ACTIONS } from './v11/actions.ts';
import { V12_ACTIONS } from './v12/actions.ts';

type Json = Record<string, unknown>;

export const ONEBOT_TAGS: ApiDocExtras['tags'] = [
  { name: 'onebot v12', description: 'OneBot 12 actions and events (docs/onebot.md)' },
  { name: 'onebot v11', description: 'OneBot 11 actions and events, go-cqhttp compatible (docs/onebot.md)' },
];

const TOKEN_NOTE =
  'Token: `Authorization: Bearer <token>` or the `access_token` query parameter, the token being `onebot.access_token` (else the API token); ';

const accessTokenParam: Json = {
  name: 'access_token',
  in: 'query',
  required: false,
  description: 'the OneBot token, when not sent as Authorization: Bearer',
  schema: { type: 'string' },
};

const v12Answer: Json = {
  type: 'object',
  required: ['status', 'retcode', 'data', 'message'],
  properties: {
    status: { type: 'string', enum: ['ok', 'failed'] },
    retcode: { type: 'integer', description: '0 ok; 10001–10006 request errors, 10101/10102 self, 20002 internal, 34001 not logged in, 34002 WeChat refused, 35001 not found' },
    data: { description: "the action's result, null on failure" },
    message: { type: 'string' },
    echo: { description: 'the request’s echo, when it had one' },
  },
};

const v11Answer: Json = {
  type: 'object',
  required: ['status', 'retcode', 'data'],
  properties: {
    status: { type: 'string', enum: ['ok', 'async', 'failed'] },
    retcode: { type: 'integer', description: '0 ok, 1 async, 100 bad parameters or not found, 102 failed, 1400 bad request, 1401/1403 token, 1404 unsupported action' },
    data: { description: "the action's result, null on failure" },
    message: { type: 'string' },
    wording: { type: 'string' },
  },
};

const json = (description: string, schema: Json): Json => ({ description, content: { 'application/json': { schema } } });
const upgrade = (what: string): Json => ({ description: `Switching Protocols: ${what}` });

const v11SelfParams: Json[] = [
  { name: 'X-Self-ID', in: 'header', required: false, description: 'the account’s v11 self_id (needed when several accounts are hosted)', schema: { type: 'string' } },
  { name: 'self_id', in: 'query', required: false, description: 'the account’s v11 self_id, instead of X-Self-ID', schema: { type: 'string' } },
  { name: 'client', in: 'query', required: false, description: 'the account’s name, instead of X-Self-ID', schema: { type: 'string' } },
];

function v12Paths(o: NonNullable<OneBotOptions['v12']>): ApiDocExtras['paths'] {
  const paths: ApiDocExtras['paths'] = {};
  if (o.http) {
    const op = (id: string): Json => ({
      operationId: id,
      summary: 'OneBot 12 action over HTTP',
      description: `${TOKEN_NOTE}missing or wrong → HTTP 401. Actions: ${V12_ACTIONS.join(', ')}. Several accounts: name one with \`self\`.`,
      tags: ['onebot v12'],
      security: [{ bearerAuth: [] }],
      parameters: [accessTokenParam],
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['action'],
              properties: {
                action: { type: 'string', enum: [...V12_ACTIONS] },
                params: { type: 'object', additionalProperties: true },
                echo: { description: 'returned as is in the answer' },
                self: { type: 'object', properties: { platform: { const: 'wechat' }, user_id: { type: 'string' } } },
              },
            },
          },
        },
      },
      responses: {
        200: json('the action’s answer (failures too: retcode ≠ 0)', v12Answer),
        401: json('token missing or wrong (retcode 10001)', v12Answer),
        415: json('not Content-Type: application/json (retcode 10001)', v12Answer),
      },
    });
    paths['/onebot/v12/'] = { post: op('onebotV12Action') };
    paths['/onebot/v12'] = { post: op('onebotV12ActionNoSlash') };
  }
  if (o.ws) {
    paths['/onebot/v12/ws'] = {
      get: {
        operationId: 'onebotV12WebSocket',
        summary: 'OneBot 12 forward WebSocket: every bot’s events (with `self`) and actions',
        description: `${TOKEN_NOTE}missing or wrong → HTTP 401. First frame: meta.connect; heartbeats every v12.heartbeat_ms.`,
        tags: ['onebot v12'],
        security: [{ bearerAuth: [] }],
        parameters: [accessTokenParam],
        responses: { 101: upgrade('the WebSocket'), 401: json('token missing or wrong', v12Answer) },
      },
    };
  }
  return paths;
}

function v11Paths(o: NonNullable<OneBotOptions['v11']>): ApiDocExtras['paths'] {
  const paths: ApiDocExtras['paths'] = {};
  if (o.http) {
    const op = (method: 'get' | 'post'): Json => ({
      operationId: method === 'get' ? 'onebotV11Action' : 'onebotV11ActionPost',
      summary: 'OneBot 11 action over HTTP',
      description:
        `${TOKEN_NOTE}missing → 401, wrong → 403 (also \`Authorization: Token <token>\`). Parameters in the query` +
        `${method === 'post' ? ', a JSON body or a form' : ''}. \`<action>_async\` answers retcode 1 at once.`,
      tags: ['onebot v11'],
      security: [{ bearerAuth: [] }],
      parameters: [
        { name: 'action', in: 'path', required: true, schema: { type: 'string', enum: [...V11_ACTIONS, ...V11_ACTIONS.map((a) => `${a}_async`)] } },
        accessTokenParam,
        ...v11SelfParams,
      ],
      ...(method === 'post'
        ? { requestBody: { required: false, content: { 'application/json': { schema: { type: 'object', additionalProperties: true } }, 'application/x-www-form-urlencoded': { schema: { type: 'object', additionalProperties: true } } } } }
        : {}),
      responses: {
        200: json('the action’s answer (failures too: retcode ≠ 0)', v11Answer),
        400: json('which account is unclear (retcode 1400)', v11Answer),
        401: json('token missing (retcode 1401)', v11Answer),
        403: json('token wrong (retcode 1403)', v11Answer),
        404: json('unsupported action (retcode 1404)', v11Answer),
      },
    });
    paths['/onebot/v11/{action}'] = { get: op('get'), post: op('post') };
  }
  if (o.ws) {
    const roles: [string, string, string][] = [
      ['/onebot/v11/ws', 'onebotV11WebSocket', 'OneBot 11 forward WebSocket, events and actions (Universal)'],
      ['/onebot/v11/api', 'onebotV11WebSocketApi', 'OneBot 11 forward WebSocket, actions only'],
      ['/onebot/v11/event', 'onebotV11WebSocketEvent', 'OneBot 11 forward WebSocket, events only'],
    ];
    for (const [path, id, summary] of roles) {
      paths[path] = {
        get: {
          operationId: id,
          summary,
          description: `${TOKEN_NOTE}missing → 401, wrong → 403. One account per connection (X-Self-ID, self_id= or client=).`,
          tags: ['onebot v11'],
          security: [{ bearerAuth: [] }],
          parameters: [accessTokenParam, ...v11SelfParams],
          responses: {
            101: upgrade('the WebSocket'),
            400: json('which account is unclear (retcode 1400)', v11Answer),
            401: json('token missing (retcode 1401)', v11Answer),
            403: json('token wrong (retcode 1403)', v11Answer),
          },
        },
      };
    }
  }
  return paths;
}

/** The OpenAPI path items of the OneBot endpoints the options turn on. */
export function oneBotApiPaths(o: OneBotOptions): ApiDocExtras['paths'] {
  return { ...(o.v12 ? v12Paths(o.v12) : {}), ...(o.v11 ? v11Paths(o.v11) : {}) };
}
