/**
 * The OneBot endpoints in the OpenAPI document (`/openwx/openapi.json`): each transport configured documented under
 * its tag with its token rule and answers, none left as an undocumented placeholder of the route table.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startStack, type Stack } from '../helpers/stack.ts';
import { undocumentedOperations } from '../../src/api/openapi.ts';
import { TOKEN } from './helpers.ts';

const API_TOKEN = 'openapi-api-token-1';
let s: Stack;

before(async () => {
  s = await startStack({
    openwx: {
      token: API_TOKEN,
      onebot: {
        accessToken: TOKEN,
        v12: { http: true, ws: true, webhook: [], ws_reverse: [], heartbeat_ms: 0 },
        v11: { http: true, ws: true, http_post: [], ws_reverse: [], heartbeat_ms: 0, message_format: 'array' },
      },
    },
  });
});
after(() => s.close());

test('OpenAPI: every OneBot endpoint documented under its tag, with its token rule; none undocumented', async () => {
  const r = await request(`${s.base}/openwx/openapi.json`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
  assert.equal(r.statusCode, 200);
  const doc = (await r.body.json()) as any;
  const paths = doc.paths as Record<string, Record<string, any>>;
  const ob = Object.keys(paths).filter((p) => p.startsWith('/onebot/'));
  assert.deepEqual(ob.sort(), ['/onebot/v11/api', '/onebot/v11/event', '/onebot/v11/ws', '/onebot/v11/{action}', '/onebot/v12', '/onebot/v12/', '/onebot/v12/ws'].sort());
  assert.deepEqual(undocumentedOperations(doc).filter((o) => o.includes('/onebot/')), []);
  const v12 = paths['/onebot/v12/']!['post'];
  assert.deepEqual(v12.tags, ['onebot v12']);
  assert.ok(v12.requestBody.content['application/json'].schema.properties.action.enum.includes('send_message'));
  assert.equal(v12.responses['401'].description.includes('token'), true);
  const v11 = paths['/onebot/v11/{action}']!;
  assert.deepEqual(Object.keys(v11).sort(), ['get', 'post']);
  assert.ok(v11['get'].parameters.find((p: any) => p.name === 'action').schema.enum.includes('send_group_msg_async'));
  assert.deepEqual(Object.keys(v11['get'].responses).sort(), ['200', '400', '401', '403', '404']);
  assert.ok(paths['/onebot/v11/ws']!['get'].responses['101']);
  assert.ok(doc.tags.some((t: any) => t.name === 'onebot v11') && doc.tags.some((t: any) => t.name === 'onebot v12'));
  assert.ok(paths['/console/api/onebot']?.['get'], 'the console route is documented too');
});
