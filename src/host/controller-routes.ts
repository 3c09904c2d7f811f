/**
 * The Controller's own routes (Mojo-Weixin's Controller-API.md, same answers and codes): start_client, stop_client
 * and check_client. Like every route they answer GET and POST (query, form, JSON), behind the API's guards. Every
 * other `/openwx/<route>?client=NAME` is the account route for that account (src/host/host.ts resolves it);
 * get_qrcode?client=NAME is the account's QR route.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { owxError } from '../errors.ts';
import { component } from '../api/responses.ts';
import type { RouteDoc } from '../api/route-table.ts';
import type { HostedAccount } from './account.ts';
import type { Host } from './host.ts';

const ControllerAnswer = component(
  'ControllerAnswer',
  z
    .looseObject({
      code: z.number().int().describe('0 success (also `client already exists`); 1 client not found / not exists / bad name or setting; 5 max clients exceed'),
      status: z.string(),
      client: z.string().optional(),
    })
    .describe('a Controller answer; start_client echoes its parameters (secrets left out)'),
);

const ClientEntry = component(
  'ClientEntry',
  z
    .looseObject({
      client: z.string(),
      account: z.string(),
      state: z.enum(['init', 'loading', 'scaning', 'confirming', 'updating', 'running', 'stop']),
      start_time: z.number().int().describe('unix seconds the account started; 0 before'),
      runtime: z.number().int().describe('seconds since start_time'),
      user_id: z.string().optional().describe('the logged-in user (when running)'),
      user_name: z.string().optional(),
      outbox_depth: z.number().int().optional().describe('post_api reports waiting (absent for an account another controller of the cluster runs)'),
      dead_letters: z.number().int().optional(),
      worker: z.string().nullable().optional().describe('cluster (docs/cluster.md): the controller that runs the account (null: none yet)'),
    })
    .describe('one hosted account'),
);

const ClientList = component(
  'ClientList',
  z.strictObject({ code: z.literal(0), client: z.array(ClientEntry) }).describe('the hosted accounts'),
);

const clientParam = (what: string) => z.object({ client: z.string().optional().describe(what) });

function doc(summary: string, query: z.ZodObject, ok: z.ZodType, description?: string): RouteDoc {
  return { summary, tag: 'controller', query, responses: { 200: { description: 'answer', json: ok } }, ...(description ? { description } : {}) };
}

/** Parameters of a Controller request that are not per-account settings. */
const NOT_SETTINGS = new Set(['client', 'access_token', 'datatype', 'callback', 'worker']);

/** The per-account settings of a start_client request: every parameter but `client`, the token and JSONP's. */
export function settingsOf(params: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) if (!NOT_SETTINGS.has(k)) out[k] = v;
  return out;
}

/** Parameters echoed by start_client: not the secrets given. */
function echo(raw: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) if (!/secret|token|password/i.test(k)) out[k] = v;
  return out;
}

/** start_client's answer (also given by a cluster for an account another controller runs). */
export function startAnswer(name: string, raw: Record<string, string>, existed: boolean): Record<string, unknown> {
  return { ...echo(raw), client: name, account: name, pid: process.pid, code: 0, status: existed ? 'client already exists' : 'success' };
}

export function clientEntry(a: HostedAccount, nowS = Math.floor(Date.now() / 1000)): Record<string, unknown> {
  const c = a.client;
  const user = c.state === 'running' ? c.user() : null;
  return {
    client: a.name,
    account: a.name,
    state: c.state,
    start_time: c.startTime,
    runtime: c.startTime ? Math.max(0, nowS - c.startTime) : 0,
    ...(user ? { user_id: user.id, user_name: user.name, user_displayname: user.displayname } : {}),
    outbox_depth: a.delivery?.depth ?? 0,
    dead_letters: a.store.outbox?.deadCount ?? 0,
    pid: process.pid,
  };
}

export function registerControllerRoutes(app: FastifyInstance, host: Host): void {
  const nameOf = (p: Record<string, string>) => {
    const name = p['client'];
    if (name === undefined || name === '') throw owxError('OWX_ERR_CLIENT_NOT_FOUND');
    return name;
  };

  app.route({
    method: ['GET', 'POST'],
    url: '/openwx/start_client',
    config: {
      doc: doc(
        'Controller: start an account (client=NAME), with per-account settings as further parameters',
        z.looseObject({
          client: z.string().describe('the account name: letters, digits, _ . @ -, at most 64'),
          worker: z.string().optional().describe('cluster (docs/cluster.md): the controller to run it on; default the live one with the fewest accounts'),
        }),
        ControllerAnswer,
        'Any per-account setting (post_api, post_event_list, send_interval_ms, relogin, …) may be given; the rest come from the controller. ' +
          'A name already present: code 0 `client already exists`. Beyond max_clients: code 5 `max clients exceed`.',
      ),
    },
    handler: async (req) => {
      const p = req.owx.params;
      const name = nameOf(p);
      const raw = settingsOf(p);
      // worker= places the account in a cluster (src/cluster/routes.ts answers it there); alone, no controller named
      // by it is live: refused, never silently ignored.
      const worker = p['worker'];
      if (worker && !host.clustered) throw owxError('OWX_ERR_CLUSTER_WORKER', [JSON.stringify(worker), 'no such controller: this controller is not in a cluster (no --database); start it without worker=']);
      const { existed } = await host.startClient(name, raw);
      return startAnswer(name, raw, existed);
    },
  });

  app.route({
    method: ['GET', 'POST'],
    url: '/openwx/stop_client',
    config: { doc: doc('Controller: stop an account (its stop event is reported) and remove it', clientParam('the account name'), ControllerAnswer) },
    handler: async (req) => {
      const name = nameOf(req.owx.params);
      if (!(await host.stopClient(name))) throw owxError('OWX_ERR_CLIENT_NOT_EXISTS');
      return { client: name, account: name, pid: process.pid, code: 0, status: 'success' };
    },
  });

  app.route({
    method: ['GET', 'POST'],
    url: '/openwx/check_client',
    config: { doc: doc('Controller: the hosted accounts (or the one client= names)', clientParam('one account; absent = all'), ClientList) },
    handler: async (req) => {
      const name = req.owx.params['client'];
      let list = host.accounts();
      if (name !== undefined && name !== '') {
        const a = host.account(name);
        if (!a) throw owxError('OWX_ERR_CLIENT_NOT_EXISTS');
        list = [a];
      }
      const now = Math.floor(Date.now() / 1000);
      return { code: 0, client: list.map((a) => clientEntry(a, now)) };
    },
  });
}
