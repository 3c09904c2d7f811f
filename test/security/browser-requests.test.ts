/**
 * The pure rules behind the API's browser and body guards: Host names (src/security/browser-requests.ts), cross-site
 * requests, body checks (src/security/body-checks.ts), and the settings that feed them (allowed_hosts, the request
 * timeouts, connections_max).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crossSiteRefusal, hostRefusal, hostRules, parseHost, type BrowserRequest, type OriginPolicy } from '../../src/security/browser-requests.ts';
import { formBodyRefusal, jsonBodyRefusal, percentEscapesRefusal } from '../../src/security/body-checks.ts';
import { isOpenwxError } from '../../src/errors.ts';
import { loadSettings, openwxOptionsOf, SettingsError } from '../../src/cli/config.ts';
import { resolveOptions } from '../../src/api/options.ts';

test('Host names: localhost, IP literals, listen names and allowed_hosts; nothing else', () => {
  assert.deepEqual(parseHost('[::1]:3000'), { name: '::1', port: 3000 });
  assert.deepEqual(parseHost('Example.COM.'), { name: 'example.com', port: null });
  for (const bad of ['', 'a b', '::1', '[zz]:1', 'x:y', 'a:1:2']) assert.equal(parseHost(bad), null, bad);
  const rules = hostRules(['proxy.example', 'bot.example:8443']);
  const ok = (h: string | undefined, listen: string[] = ['127.0.0.1']) => hostRefusal(h, listen, rules) === null;
  for (const h of [undefined, 'localhost', 'localhost:1', 'LocalHost.', '127.0.0.1', '127.9.9.9:80', '[::1]', '[::1]:3000', '192.168.1.20:3000', '[fe80::1%eth0]:1', 'proxy.example', 'proxy.example:9', 'bot.example:8443']) {
    assert.ok(ok(h), String(h));
  }
  for (const h of ['evil.example', 'evil.example:3000', 'bot.example', 'bot.example:443', 'sub.proxy.example', '127.0.0.1.evil.example', 'localhost.evil.example', 'a b', '']) {
    assert.ok(!ok(h), h);
  }
  assert.ok(ok('mybox.lan:3000', ['mybox.lan']), 'a listen host name is served');
  assert.ok(!ok('mybox.lan:3000', ['0.0.0.0']));
  assert.match(hostRefusal('evil.example:3000', [], [])!, /^Host evil\.example is not served here: add it to allowed_hosts \(--allowed-host\)/);
  assert.throws(() => hostRules(['bad host']), (e) => isOpenwxError(e, 'OWX_ERR_CONFIG') && /allowed_hosts/.test(e.message));
});

test('cross-site rules: Sec-Fetch-Site first, then Origin; CORS-listed origins and public-page navigations pass', () => {
  const req = (o: Partial<BrowserRequest>): BrowserRequest => ({
    method: 'GET', host: '127.0.0.1:3000', origin: undefined, secFetchSite: undefined, secFetchMode: undefined, publicRoute: false, ...o,
  });
  const cors: OriginPolicy = { corsOrigins: ['https://bot.example'] };
  const none: OriginPolicy = { corsOrigins: [] };
  const pass = (o: Partial<BrowserRequest>, p = none) => crossSiteRefusal(req(o), p) === null;
  assert.ok(pass({}), 'a script');
  assert.ok(pass({ secFetchSite: 'same-origin', origin: 'http://127.0.0.1:3000', method: 'POST' }));
  assert.ok(pass({ secFetchSite: 'same-origin', origin: 'https://proxy.example' }), 'same-origin says the browser, behind a Host-rewriting proxy');
  assert.ok(pass({ secFetchSite: 'none', secFetchMode: 'navigate' }));
  assert.ok(!pass({ secFetchSite: 'cross-site', secFetchMode: 'no-cors' }));
  assert.ok(!pass({ secFetchSite: 'same-site', origin: 'http://localhost:8080', method: 'POST' }));
  assert.ok(!pass({ secFetchSite: 'cross-site', secFetchMode: 'navigate', method: 'POST', publicRoute: true }), 'a form POST navigation');
  assert.ok(pass({ secFetchSite: 'cross-site', secFetchMode: 'navigate', publicRoute: true }), 'a link to the console page');
  assert.ok(!pass({ secFetchSite: 'cross-site', secFetchMode: 'navigate', publicRoute: false }), 'a link to an API route');
  assert.ok(!pass({ secFetchSite: 'cross-site', secFetchMode: 'cors', publicRoute: true }), 'a fetch of a public page');
  assert.ok(pass({ secFetchSite: 'cross-site', origin: 'https://bot.example' }, cors));
  assert.ok(pass({ secFetchSite: 'cross-site', origin: 'https://x.example' }, { corsOrigins: ['*'] }));
  assert.ok(!pass({ secFetchSite: 'cross-site', origin: 'https://evil.example' }, cors));
  assert.ok(!pass({ secFetchSite: 'cross-site' }, { corsOrigins: ['*'] }), 'no Origin: not a CORS request');
  // Older browsers: Origin only.
  assert.ok(pass({ origin: 'http://127.0.0.1:3000' }));
  assert.ok(pass({ origin: 'http://localhost', host: 'localhost:80' }));
  assert.ok(pass({ origin: 'https://bot.example' }, cors));
  assert.ok(!pass({ origin: 'http://127.0.0.1:3001' }));
  assert.ok(!pass({ origin: 'null' }));
  assert.ok(!pass({ origin: 'file://' }));
  assert.ok(!pass({ origin: 'http://127.0.0.1:3000', host: undefined }));
  assert.match(crossSiteRefusal(req({ secFetchSite: 'cross-site', origin: 'https://evil.example' }), none)!, /Origin https:\/\/evil\.example\).*cors_origins/);
});

test('body checks: UTF-8 (raw and escaped) and JSON depth, strings not counted as nesting', () => {
  assert.equal(formBodyRefusal(Buffer.from('a=%E4%BD%A0&b=老&c=100%&d=%zz')), null);
  assert.match(formBodyRefusal(Buffer.from('a=%ff'))!, /percent-escape/);
  assert.match(formBodyRefusal(Buffer.from([0x61, 0x3d, 0xc3]))!, /not valid UTF-8/);
  assert.equal(percentEscapesRefusal('x=%ED%A0%80') !== null, true, 'a surrogate');
  assert.equal(percentEscapesRefusal('x=%C0%AF') !== null, true, 'overlong');
  assert.equal(jsonBodyRefusal(Buffer.from(JSON.stringify({ a: '[[[[{{{{\\"[[[[', b: [[[1]]] })), 4), null);
  assert.match(jsonBodyRefusal(Buffer.from('[[[[[1]]]]]'), 4)!, /nested deeper than 4 levels/);
  assert.match(jsonBodyRefusal(Buffer.from([0x22, 0xff, 0x22]), 4)!, /not valid UTF-8/);
});

test('settings: allowed_hosts (flag list, env comma list), request timeouts and connections_max reach the plugin', () => {
  const s = loadSettings({ flags: { allowed_hosts: ['proxy.example', 'bot.example:8443'] }, env: { OPENWX_REQUEST_TIMEOUT_MS: '30000', OPENWX_CONNECTIONS_MAX: '64' } });
  const o = openwxOptionsOf(s);
  assert.deepEqual(o.allowedHosts, ['proxy.example', 'bot.example:8443']);
  assert.equal(o.requestTimeoutMs, 30_000);
  assert.equal(o.headersTimeoutMs, 20_000);
  assert.equal(o.connectionsMax, 64);
  assert.deepEqual(openwxOptionsOf(loadSettings({ env: { OPENWX_ALLOWED_HOSTS: 'a.example, b.example:1' } })).allowedHosts, ['a.example', 'b.example:1']);
  assert.throws(() => loadSettings({ env: { OPENWX_ALLOWED_HOSTS: 'http://a.example/' } }), (e) => e instanceof SettingsError && /^invalid setting allowed_hosts: expected host names/.test(e.message));
  const d = openwxOptionsOf(loadSettings({}));
  assert.deepEqual(d.allowedHosts, []);
  assert.equal(d.requestTimeoutMs, 120_000);
  assert.equal(d.connectionsMax, 256);
  // The header timeout never exceeds the request timeout (Node refuses that).
  assert.equal(resolveOptions({ requestTimeoutMs: 5_000, headersTimeoutMs: 20_000 }).headersTimeoutMs, 5_000);
});
