/** Test helpers: a sandbox on port 0 with short long-polls, the HTTP control API, and a logged-in test client. */
import { request } from 'undici';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.ts';
import { WxTestClient, type ClientOptions } from './wx-test-client.ts';

export async function sandbox(o: SandboxOptions = {}): Promise<Sandbox> {
  return startSandbox({ port: 0, chatter: false, longPollMs: 400, ...o });
}

export async function control(sb: Sandbox, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const r = await request(`${sb.url}/__sandbox/${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await r.body.text();
  return { status: r.statusCode, json: text ? JSON.parse(text) : null };
}

/** A client logged in through the real flow; the QR is confirmed through the HTTP control API. */
export async function loggedIn(sb: Sandbox, o: ClientOptions & { desktop?: boolean } = {}): Promise<{ client: WxTestClient; init: any }> {
  const client = new WxTestClient(sb.url, o);
  const init = await client.login(async () => {
    const r = await control(sb, 'POST', 'confirm', {});
    if (r.status !== 200) throw new Error(`confirm failed: ${JSON.stringify(r.json)}`);
  }, { desktop: o.desktop });
  if (init.BaseResponse.Ret !== 0) throw new Error(`init failed: ${JSON.stringify(init.BaseResponse)}`);
  return { client, init };
}

/** Consumes everything queued so far (e.g. the status-notify message after init). */
export async function drain(c: WxTestClient): Promise<void> {
  for (let i = 0; i < 20; i++) {
    const r = await c.sync();
    if (r.AddMsgCount === 0 && r.ModContactCount === 0 && r.DelContactCount === 0 && r.ContinueFlag === 0) return;
  }
}
