/**
 * A route of the API is declared once (src/api/account-route.ts): the server refuses an `/openwx/` route added
 * without a declaration, every declaration of a file of src/api/routes/ is served (ACCOUNT_ROUTES), and the
 * Controller serves exactly the routes declared per account. Routes documented by hand add OpenAPI path items.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { z } from 'zod';
import { isAccountRoute, openwxRoute, registerAccountRoute, type AccountRoute } from '../../src/api/account-route.ts';
import { buildOpenApi, registerOpenApi, undocumentedOperations } from '../../src/api/openapi.ts';
import { resolveOptions } from '../../src/api/options.ts';
import { Success, ok } from '../../src/api/responses.ts';
import { ACCOUNT_ROUTES, accountRoutesOf, buildApiServer } from '../../src/api/server.ts';
import { addApiDocPaths } from '../../src/api/route-table.ts';
import { owxError } from '../../src/errors.ts';
import { silent } from '../helpers/stack.ts';

/** An API server whose requests have no account (these tests only register routes). */
async function server() {
  return buildApiServer(resolveOptions({}), silent, {
    resolve: () => {
      throw owxError('OWX_ERR_CLIENT_NOT_FOUND');
    },
  });
}

test('an /openwx/ route registered by hand, without a declaration, is refused at start-up', async () => {
  const app = await server();
  try {
    app.register(async (scope) => {
      scope.get('/openwx/rogue', async () => ({ code: 0 }));
    });
    await assert.rejects(async () => {
      await app.ready();
    }, /GET \/openwx\/rogue has no declaration/);
    assert.ok(!app.routeTable.some((r) => r.url === '/openwx/rogue'), 'not in the route table');
  } finally {
    await app.close();
  }
});

test('the same route declared is registered, with its declaration in the route table', async () => {
  const app = await server();
  try {
    const decl = openwxRoute({
      name: 'declared_probe',
      params: z.object({ x: z.string().optional() }),
      doc: { summary: 'probe', tag: 'client', needsLogin: false, responses: ok('ok', Success) },
      handler: () => ({ code: 0, status: 'success' }),
    });
    await app.register(async (scope) => registerAccountRoute(scope, decl));
    await app.ready();
    const row = app.routeTable.find((r) => r.url === '/openwx/declared_probe' && r.methods.includes('POST'));
    assert.ok(row, 'in the route table');
    assert.equal(row.openwx?.doc, decl.doc);
    assert.equal(row.openwx?.params, decl.params);
    // A request without an account is answered by the resolver's coded error, not a 500.
    const res = await app.inject({ method: 'GET', url: '/openwx/declared_probe' });
    assert.equal(res.json().status, 'client not found');
  } finally {
    await app.close();
  }
});

test('every route declared in src/api/routes/ is served, once, and nothing else', async () => {
  const dir = new URL('../../src/api/routes/', import.meta.url);
  const declared: AccountRoute[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts')).sort()) {
    const mod = (await import(new URL(f, dir).href)) as Record<string, unknown>;
    for (const v of Object.values(mod)) for (const item of Array.isArray(v) ? v : [v]) if (isAccountRoute(item)) declared.push(item);
  }
  const names = ACCOUNT_ROUTES.map((r) => r.name);
  assert.equal(new Set(names).size, names.length, `route names are unique: ${names.join(', ')}`);
  for (const r of declared) assert.ok(ACCOUNT_ROUTES.includes(r), `${r.name} (declared in src/api/routes/) is in ACCOUNT_ROUTES`);
  for (const r of ACCOUNT_ROUTES) assert.ok(declared.includes(r), `${r.name} is declared in a file of src/api/routes/`);
  for (const r of ACCOUNT_ROUTES) assert.ok(r.doc.summary && Object.keys(r.doc.responses).length > 0, `${r.name} is documented`);
});

test('the Controller serves the routes declared per account; one account, all of them', () => {
  assert.deepEqual(accountRoutesOf('single'), ACCOUNT_ROUTES);
  const controller = accountRoutesOf('controller');
  assert.deepEqual(
    ACCOUNT_ROUTES.filter((r) => !controller.includes(r)).map((r) => r.name),
    ['stop_client'],
    'only stop_client is the Controller’s own',
  );
  assert.ok(controller.every((r) => r.perAccount));
});

test('addApiDocPaths: other modules document their routes beside the route table (OneBot)', async () => {
  const app = await server();
  try {
    await app.register(async (scope) => {
      scope.post('/x/action', { config: { public: true } }, async () => ({ ok: true }));
      addApiDocPaths(scope, { '/x/action': { post: { operationId: 'x_action', summary: 'an action', tags: ['x'], responses: { 200: { description: 'done' } } } } }, [
        { name: 'x', description: 'a surface documented by hand' },
      ]);
      assert.throws(() => addApiDocPaths(scope, { '/x/action': { post: { summary: 'again' } } }), /POST \/x\/action documented twice/);
      registerOpenApi(scope, { version: '1' });
    });
    const doc = (await app.inject({ method: 'GET', url: '/openwx/openapi.json' })).json();
    assert.deepEqual(doc.paths['/x/action'].post, { operationId: 'x_action', summary: 'an action', tags: ['x'], responses: { 200: { description: 'done' } } });
    assert.deepEqual(doc.tags.at(-1), { name: 'x', description: 'a surface documented by hand' });
    assert.deepEqual(undocumentedOperations(doc), [], 'the hand-written item replaced the undocumented placeholder');
    // A path item may not replace what a route documents itself.
    const clash = { paths: { '/openwx/openapi.json': { get: { summary: 'other' } } }, tags: [] };
    assert.throws(() => buildOpenApi(app.routeTable, { version: '1', extras: clash }), /GET \/openwx\/openapi.json is documented by its route already/);
  } finally {
    await app.close();
  }
});
