/**
 * Forwarding a request for an account to the controller that owns it, over HTTP to its `advertise_url`. The caller
 * gets the owner's exact answer: its status, content type and body bytes.
 *
 * - A GET goes as it came (path and query). Any other request goes as a POST of the request's merged parameters
 *   (query, form, multipart, JSON: src/api/server.ts mergeParams), urlencoded, or multipart when it carried files:
 *   every route reads its parameters the same from any of these.
 * - The caller's Authorization header goes along (all controllers of a cluster share one token); a token given as an
 *   access_token parameter goes as that header too (and stays among the parameters).
 * - `X-Openwx-Forwarded: <worker id>` marks it: a controller receiving a forwarded request for an account it does not
 *   own answers OWX_ERR_FORWARD_LOOP instead of forwarding again.
 * - A receiver that does not run the account answers OWX_ERR_FORWARD_LOOP marked `X-Openwx-Forward-Refused` (it did
 *   nothing); an account route's sender then looks for the new owner again (src/cluster/routes.ts).
 * - Otherwise one attempt only: no retry. An owner that does not answer within `forwardTimeoutMs` gets OWX_ERR_FORWARD_TIMEOUT
 *   (the request may have been carried out: a send is never silently repeated).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Agent, FormData, request } from 'undici';
import { owxError, type OpenwxError } from '../errors.ts';
import { CLUSTER_DEFAULTS } from '../settings/defaults.ts';

export const FORWARDED_HEADER = 'x-openwx-forwarded';
/**
 * On the answer to a forwarded request that the receiver refused WITHOUT acting on it (it does not run the account:
 * ownership moved meanwhile): the sender may send it again to the new owner (it was not carried out).
 */
export const REFUSED_HEADER = 'x-openwx-forward-refused';
export const DEFAULT_FORWARD_TIMEOUT_MS: number = CLUSTER_DEFAULTS.forward_timeout_ms;

/** Answer headers passed back to the caller besides the content type. */
const PASSED_BACK = ['content-disposition', 'cache-control', 'x-content-type-options'];

export interface ForwardTarget {
  client: string;
  workerId: string;
  advertiseUrl: string;
}

export class Forwarder {
  readonly #agent: Agent;
  readonly #selfId: string;
  readonly #timeoutMs: number;

  constructor(selfId: string, forwardTimeoutMs = DEFAULT_FORWARD_TIMEOUT_MS) {
    this.#selfId = selfId;
    this.#timeoutMs = forwardTimeoutMs;
    this.#agent = new Agent({ keepAliveTimeout: 10_000, connections: 64 });
  }

  /** Sends `req` (its parameters, plus `extra`) to the owner and replies with the owner's answer. */
  async forward(req: FastifyRequest, reply: FastifyReply, to: ForwardTarget, extra: Record<string, string> = {}): Promise<FastifyReply> {
    await this.#forward(req, reply, to, extra, false);
    return reply;
  }

  /**
   * As forward, except that an answer marked REFUSED_HEADER (the receiver did nothing: it does not run the account) is
   * not passed on. True: the owner's answer was sent; false: refused, and the caller may send the request to the new
   * owner. (A boolean, not the reply: a FastifyReply is thenable, and awaiting it yields undefined.)
   */
  forwardRefusable(req: FastifyRequest, reply: FastifyReply, to: ForwardTarget): Promise<boolean> {
    return this.#forward(req, reply, to, {}, true);
  }

  async #forward(req: FastifyRequest, reply: FastifyReply, to: ForwardTarget, extra: Record<string, string>, refusable: boolean): Promise<boolean> {
    const base = new URL(to.advertiseUrl);
    // advertise_url may carry a path (a controller behind a reverse proxy at /node1/): the route goes under it.
    const at = (pathAndQuery: string) => new URL(`${base.pathname.replace(/\/+$/, '')}${pathAndQuery}`, base.origin);
    const path = req.url.split('?')[0]!;
    const headers: Record<string, string> = { [FORWARDED_HEADER]: this.#selfId, accept: req.headers.accept ?? '*/*' };
    if (typeof req.headers.authorization === 'string') headers['authorization'] = req.headers.authorization;
    else {
      // A token given as an access_token parameter goes as the header, which the owner always reads: it does not look
      // for one in a multipart body or one over access_token_body_max_bytes (re-encoding can make a body larger).
      const token = req.owx.params['access_token'];
      if (typeof token === 'string' && /^[\x21-\x7e]+$/.test(token)) headers['authorization'] = `Bearer ${token}`;
    }
    let method: 'GET' | 'HEAD' | 'POST' = 'POST';
    let url: URL;
    let body: string | FormData | undefined;
    const params = { ...req.owx.params, ...extra };
    const files = Object.entries(req.owx.files);
    if ((req.method === 'GET' || req.method === 'HEAD') && files.length === 0 && Object.keys(extra).length === 0) {
      method = req.method;
      url = at(req.url);
    } else if (files.length > 0) {
      url = at(path);
      const form = new FormData();
      for (const [k, v] of Object.entries(params)) form.append(k, v);
      for (const [k, f] of files) form.append(k, new Blob([f.data], { type: f.mimetype || 'application/octet-stream' }), f.filename || k);
      body = form;
    } else if (String(req.headers['content-type'] ?? '').toLowerCase().includes('json')) {
      // A JSON request goes on as JSON: as a form, text outside ASCII would grow up to 3× (percent-escapes) and could
      // pass the owner's body limit where the caller's body did not.
      url = at(path);
      body = JSON.stringify(params);
      headers['content-type'] = 'application/json';
    } else {
      url = at(path);
      body = new URLSearchParams(params).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    let res;
    try {
      res = await request(url, {
        method,
        headers,
        body,
        dispatcher: this.#agent,
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
      });
    } catch (err) {
      throw this.#failure(err, to);
    }
    let bytes: Buffer;
    try {
      bytes = Buffer.from(await res.body.arrayBuffer());
    } catch (err) {
      throw this.#failure(err, to);
    }
    if (refusable && res.headers[REFUSED_HEADER] !== undefined) return false;
    reply.code(res.statusCode);
    const ct = res.headers['content-type'];
    if (typeof ct === 'string') reply.header('content-type', ct);
    for (const h of PASSED_BACK) {
      const v = res.headers[h];
      if (typeof v === 'string') reply.header(h, v);
    }
    reply.header(FORWARDED_HEADER, to.workerId);
    reply.send(bytes);
    return true;
  }

  #failure(err: unknown, to: ForwardTarget): OpenwxError {
    const code = (err as { code?: string }).code ?? '';
    if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
      return owxError('OWX_ERR_FORWARD_TIMEOUT', [to.client, to.workerId, this.#timeoutMs]);
    }
    return owxError('OWX_ERR_FORWARD_FAILED', [to.client, to.workerId, code || (err as Error).message || String(err)]);
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}
