/**
 * CSRF with a real browser (docs/security.md, "Browser requests"): Chromium opens an attacker's page (another site:
 * `http://localhost:<port>`) that targets the API at `http://127.0.0.1:<port>` on the default setup (no token) with
 * a form POST, an `<img>` GET of stop_client, a no-cors `fetch` POST and a top-level link to stop_client. Every one
 * is answered 403 with the headers Chromium really sends, nothing is sent, the client keeps running; a link to the
 * console page opens it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { launchBrowser } from '../helpers/browser.ts';
import { startStack } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait-for.ts';

test('an attacker page in Chromium cannot send, stop the client or read the API; a link to the console works', async (t) => {
  const b = await launchBrowser('csrf');
  t.after(() => b.close());
  const s = await startStack({ openwx: { stopDelayMs: 60_000 } });
  t.after(() => s.close());
  const api = s.base;
  const id = s.friendId('张伟');

  const page = `<!doctype html><meta charset="utf-8"><title>attacker</title>
<iframe name="sink" id="sink"></iframe>
<form id="f" method="POST" action="${api}/openwx/send_friend_message" target="sink">
  <input name="id" value="${id}"><input name="content" value="csrf-from-a-page">
</form>
<img id="img">
<a id="console" href="${api}/">console</a>
<a id="stop" href="${api}/openwx/stop_client">stop</a>
<script>
  if (location.hash !== '#links-only') {
    document.getElementById('f').submit();
    document.getElementById('img').src = '${api}/openwx/stop_client';
    fetch('${api}/openwx/send_friend_message', { method: 'POST', mode: 'no-cors', body: new URLSearchParams({ id: '${id}', content: 'csrf-fetch' }) }).catch(() => {});
    fetch('${api}/openwx/get_friend_info').catch(() => {});
  }
</script>`;
  const attacker = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page);
  }).listen(0, '127.0.0.1');
  await once(attacker, 'listening');
  t.after(() => new Promise<void>((r) => attacker.close(() => r())));
  const attackerUrl = `http://localhost:${(attacker.address() as AddressInfo).port}/`;

  // What reached the API and what it answered, seen by the server (Chromium hides blocked answers from the page).
  const answers: { url: string; method: string; status: number; site: string | undefined }[] = [];
  s.api.app.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    res.on('finish', () => {
      const site = req.headers['sec-fetch-site'];
      answers.push({ url: (req.url ?? '').split('?')[0]!, method: req.method ?? '', status: res.statusCode, site: Array.isArray(site) ? site[0] : site });
    });
  });
  await b.page.goto(attackerUrl);
  await waitFor(
    () => answers.filter((a) => a.url === '/openwx/send_friend_message').length >= 2 && answers.some((a) => a.url === '/openwx/stop_client') && answers.some((a) => a.url === '/openwx/get_friend_info'),
    "the page's requests answered",
    15_000,
  ).catch((e: Error) => {
    throw new Error(`${e.message}; answered so far: ${JSON.stringify(answers)}`);
  });
  for (const a of answers) {
    assert.equal(a.status, 403, JSON.stringify(a));
    assert.equal(a.site, 'cross-site', JSON.stringify(a));
  }

  // A link to stop_client (a top-level navigation) is refused too; a link to the console page opens it.
  await b.page.goto(`${attackerUrl}#links-only`);
  answers.length = 0;
  await b.page.click('#stop');
  await waitFor(() => answers.some((a) => a.url === '/openwx/stop_client'), 'the link followed');
  assert.equal(answers.find((a) => a.url === '/openwx/stop_client')!.status, 403);
  await b.page.goto(`${attackerUrl}#links-only`);
  answers.length = 0;
  await b.page.click('#console');
  await b.page.waitForURL(`${api}/`);
  await waitFor(() => answers.some((a) => a.url === '/console/api/overview'), 'the console loaded its data');
  for (const a of answers) assert.equal(a.status, 200, JSON.stringify(a));
  assert.equal(answers.find((a) => a.url === '/')!.site, 'cross-site', 'the navigation itself came from the attacker page');
  assert.equal(answers.find((a) => a.url === '/console/api/overview')!.site, 'same-origin');

  assert.equal(s.client.state, 'running', 'stop_client never ran');
});
