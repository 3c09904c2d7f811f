/**
 * The web console in headless Chromium against a real sandbox: token entry, the login QR (the real one, served by
 * /openwx/get_qrcode) refreshing when the sandbox expires it, scan + confirm through the sandbox control API, the
 * account going online, an injected message appearing live, sends to a friend and a group reaching the sandbox,
 * search, the language switch and the docs page. Screenshots: test-artifacts/console/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { launchBrowser } from '../helpers/browser.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait-for.ts';

const TOKEN = 'console-secret-42';
const auth = { authorization: `Bearer ${TOKEN}` };
const UI_MS = 20_000;

async function control(sbUrl: string, op: string, body: unknown = {}): Promise<{ status: number; json: any }> {
  const r = await request(`${sbUrl}/__sandbox/${op}`, {
    method: op === 'sent' || op === 'state' ? 'GET' : 'POST',
    ...(op === 'sent' || op === 'state' ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await r.body.text();
  return { status: r.statusCode, json: text ? JSON.parse(text) : null };
}

/** The QR image the sandbox serves for its newest login uuid. */
async function sandboxQr(s: Stack): Promise<{ uuid: string; bytes: Buffer }> {
  const state = (await control(s.sb.url, 'state')).json;
  const r = await request(`${s.sb.url}/qrcode/${state.uuid}`);
  return { uuid: state.uuid, bytes: Buffer.from(await r.body.arrayBuffer()) };
}

test('console: token, live QR (refreshed on expiry), QR login through the sandbox, live messages, sends, search, zh/en, docs page', async (t) => {
  // The browser first, and everything closed by after-hooks: a browser that cannot start fails this test at once and
  // leaves no server open behind it (which kept the file alive until the runner cancelled it).
  const b = await launchBrowser('console');
  t.after(() => b.close());
  const s = await startStack({
    noLogin: true,
    // No auto-login: the test scans and confirms like a phone would. The sandbox expires each QR after 3 s and the
    // client waits for that 400 (qrExpireAfterPolls 0), so the refresh the page shows is the sandbox's expiry.
    sandbox: { autoLoginMs: undefined, qrExpiryMs: 3_000 },
    client: { qrExpireAfterPolls: 0, maxQrAttempts: 50 },
    openwx: { token: TOKEN },
  });
  t.after(() => s.close());
  const { page } = b;
  // What the page got from /openwx/get_qrcode, by the stamp it asked with (its <img> shows that blob).
  const qrResponses = new Map<string, Buffer>();
  await page.route('**/openwx/get_qrcode*', async (route) => {
    const res = await route.fetch();
    const body = await res.body();
    if (res.status() === 200) qrResponses.set(new URL(route.request().url()).searchParams.get('t') ?? '', body);
    await route.fulfill({ response: res, body });
  });
  void s.client.run().catch(() => undefined);
  await page.goto(`${s.base}/`);
  // The page itself needs no token; its data does.
  await page.locator('#token-box').waitFor({ state: 'visible', timeout: UI_MS });
  await b.shot('01-token-prompt');
  // A wrong token is refused and asked again.
  await page.fill('#token', 'not-the-token');
  await page.click('#token-form button[type=submit]');
  await page.locator('#token-error', { hasText: '令牌不对' }).waitFor({ timeout: UI_MS });
  assert.equal(await page.locator('#token-box').isVisible(), true);
  await page.fill('#token', TOKEN);
  await page.click('#token-form button[type=submit]');

  // The QR shown is the one /openwx/get_qrcode serves, which is the sandbox's QR for its current uuid.
  const qr = page.locator('#qr');
  await page.locator('#qr[data-qrcode]').waitFor({ timeout: UI_MS });
  const shownBytes = async () => {
    const src = await qr.getAttribute('src');
    assert.ok(src?.startsWith('blob:'), `QR img src ${src}`);
    const stamp = (await qr.getAttribute('data-qrcode')) ?? '';
    return waitFor(() => qrResponses.get(stamp), `the page's get_qrcode answer for stamp ${stamp}`, UI_MS);
  };
  const stamp1 = await qr.getAttribute('data-qrcode');
  const first = await sandboxQr(s);
  const route1 = await s.call('get_qrcode', {}, 'query', auth);
  assert.equal(route1.status, 200);
  assert.equal(route1.headers['content-type'], 'image/jpeg');
  const shown1 = await shownBytes();
  if (!shown1.equals(route1.body)) {
    // The QR may have expired between the page's fetch and ours: the page follows within one refresh.
    await waitFor(async () => (await qr.getAttribute('data-qrcode')) !== stamp1, 'page follows the new QR', UI_MS);
  } else {
    assert.ok(route1.body.equals(first.bytes), 'get_qrcode serves the sandbox QR of the current uuid');
  }
  await page.locator('#state[data-state="scaning"]').waitFor({ timeout: UI_MS });
  await waitFor(async () => (await qr.evaluate((el: any) => el.complete && el.naturalWidth)) > 0, 'QR image decoded in the page', UI_MS);
  await b.shot('02-qr-waiting');

  // The sandbox expires it; the page shows the new one by itself.
  const before = await qr.getAttribute('data-qrcode');
  await waitFor(async () => (await qr.getAttribute('data-qrcode')) !== before, 'QR refreshed in the page after expiry', UI_MS);
  const second = await sandboxQr(s);
  assert.notEqual(second.uuid, first.uuid, 'a new login uuid');
  await b.shot('03-qr-refreshed');

  // Scan and confirm like a phone. A QR may expire in between: then the newest one is scanned.
  await waitFor(
    async () => {
      const cur = await sandboxQr(s);
      const shown = await shownBytes();
      if (!shown.equals(cur.bytes)) return false; // the page has not caught up with this QR yet
      return (await control(s.sb.url, 'scan')).status === 200;
    },
    'the QR shown in the page scanned',
    UI_MS,
    100,
  );
  await page.locator('#state[data-state="confirming"]').waitFor({ timeout: UI_MS });
  await b.shot('04-scanned-confirming');
  const confirmed = await control(s.sb.url, 'confirm');
  assert.equal(confirmed.status, 200, JSON.stringify(confirmed.json));
  await page.locator('#state[data-state="running"]').waitFor({ timeout: UI_MS });
  await page.locator('#login').waitFor({ state: 'hidden', timeout: UI_MS });
  assert.equal((await s.call('get_qrcode', {}, 'query', auth)).status, 404, 'no QR after login');
  await page.locator('#user-name', { hasText: '小明同学' }).waitFor({ timeout: UI_MS });
  await page.locator('#contact-list li', { hasText: '老张' }).waitFor({ timeout: UI_MS });
  await b.shot('05-running');

  // A message injected into the sandbox appears live.
  const injected = await control(s.sb.url, 'messages', { type: 'text', from: '张伟', content: '控制台你好 live' });
  assert.equal(injected.status, 200, JSON.stringify(injected.json));
  await page.locator('#messages li .content', { hasText: '控制台你好 live' }).waitFor({ timeout: UI_MS });

  // Search, pick echo, send: the sandbox receives it, the echo comes back into the list.
  await page.fill('#search', 'ech');
  await waitFor(async () => (await page.locator('#contact-list li').count()) === 1, 'search narrows to echo', UI_MS);
  await page.locator('#contact-list li', { hasText: 'echo' }).click();
  await page.fill('#send-text', 'from the console 控制台');
  await page.click('#send-button');
  await page.locator('#send-result[data-code="0"]').waitFor({ timeout: UI_MS });
  const sent = (await control(s.sb.url, 'sent')).json as { Content: string; toNickName: string }[];
  assert.ok(sent.some((m) => m.Content === 'from the console 控制台' && m.toNickName === 'echo'), JSON.stringify(sent.slice(-3)));
  await waitFor(async () => (await page.locator('#messages li .content', { hasText: 'from the console 控制台' }).count()) >= 2, 'sent message and its echo listed', UI_MS);
  await b.shot('06-sent-to-friend');

  // A group, from the groups tab.
  await page.click('.tab[data-tab="groups"]');
  await page.fill('#search', '技术');
  await page.locator('#contact-list li', { hasText: '技术交流群' }).click();
  await page.fill('#send-text', 'hello group 大家好');
  await page.click('#send-button');
  await waitFor(
    async () => ((await control(s.sb.url, 'sent')).json as { Content: string; toNickName: string }[]).some((m) => m.Content === 'hello group 大家好' && m.toNickName.startsWith('技术交流群')),
    'group send reached the sandbox',
    UI_MS,
  );

  // English labels.
  await page.click('#lang');
  await page.locator('h2', { hasText: 'Latest messages' }).waitFor({ timeout: UI_MS });
  assert.equal(await page.locator('#state').textContent(), 'online');
  await b.shot('07-english');

  // The docs page renders the OpenAPI document with the token kept in this browser.
  await page.goto(`${s.base}/docs`);
  await waitFor(async () => (await page.locator('[data-testid="operation"]').count()) > 40, 'operations rendered', UI_MS);
  await page.locator('code', { hasText: '/openwx/send_friend_message' }).first().waitFor({ timeout: UI_MS });
  await b.shot('08-docs');
});

test('console without a token: no prompt, the page shows the running account; pages carry a strict CSP', async (t) => {
  const b = await launchBrowser('console-open');
  t.after(() => b.close());
  const s = await startStack();
  t.after(() => s.close());
  const res = await s.call('/');
  assert.equal(res.status, 200);
  assert.match(String(res.headers['content-security-policy']), /default-src 'none'; script-src 'self'/);
  assert.match(res.text, /<script src="\/console\/console.js">/);
  assert.doesNotMatch(res.text, /https?:\/\//, 'nothing loaded from elsewhere');
  await b.page.goto(`${s.base}/`);
  await b.page.locator('#state[data-state="running"]').waitFor({ timeout: UI_MS });
  assert.equal(await b.page.locator('#token-box').isHidden(), true);
  await b.page.locator('#contact-list li', { hasText: '王芳' }).waitFor({ timeout: UI_MS });
  await b.shot('running-no-token');
});
