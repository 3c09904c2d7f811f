/**
 * The web console of a Controller, in headless Chromium against a real multi-user sandbox: it lists every account
 * with its state, shows the chosen account's user, messages and send box (each request names it with client=),
 * follows the live events of the account shown, starts an account (whose QR it shows) and stops one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { launchBrowser } from '../helpers/browser.ts';
import { control, startTestController, usersSandbox } from '../host/helpers.ts';
import { waitFor } from '../helpers/wait-for.ts';

const UI_MS = 20_000;

test('controller console: accounts with states, per-account user/messages/send box, live events, start and stop', async (t) => {
  const b = await launchBrowser('controller-console');
  t.after(() => b.close());
  const sb = await usersSandbox(3);
  const ctl = await startTestController(sb);
  t.after(async () => {
    await ctl.close();
    await sb.close();
    rmSync(ctl.dataDir, { recursive: true, force: true });
  });
  await ctl.login('a', 'wxid_user1');
  await ctl.login('b', 'wxid_user2');
  const { page } = b;

  await page.goto(`${ctl.base}/#client=b`);
  await page.locator('#accounts').waitFor({ state: 'visible', timeout: UI_MS });
  await page.locator('#account-list li[data-client="a"][data-state="running"]').waitFor({ timeout: UI_MS });
  await page.locator('#account-list li[data-client="b"].selected').waitFor({ timeout: UI_MS });
  await page.locator('#user-name', { hasText: 'User2' }).waitFor({ timeout: UI_MS });
  await b.shot('01-controller-b');

  // Live: a message to b's user shows; one to a's user does not (b is shown).
  await control(sb, 'POST', 'messages', { user: 'wxid_user1', type: 'text', from: 'Ann', content: 'for a only' });
  await control(sb, 'POST', 'messages', { user: 'wxid_user2', type: 'text', from: 'Ann', content: 'for b live' });
  await page.locator('#messages li', { hasText: 'for b live' }).waitFor({ timeout: UI_MS });
  assert.equal(await page.locator('#messages li', { hasText: 'for a only' }).count(), 0);

  // Send from b's send box: it reaches b's sandbox user.
  await page.locator('#contact-list li', { hasText: 'Bob' }).click();
  await page.fill('#send-text', 'hello from b console');
  await page.click('#send-button');
  await page.locator('#send-result[data-code="0"]').waitFor({ timeout: UI_MS });
  await waitFor(async () => (await control(sb, 'GET', 'sent?user=wxid_user2')).json.some((s: any) => s.Content === 'hello from b console'), 'b sent it');
  assert.ok(!(await control(sb, 'GET', 'sent?user=wxid_user1')).json.some((s: any) => s.Content === 'hello from b console'));

  // Switch to a: its user and its recent messages.
  await page.locator('#account-list li[data-client="a"]').click();
  await page.locator('#user-name', { hasText: 'User1' }).waitFor({ timeout: UI_MS });
  await page.locator('#messages li', { hasText: 'for a only' }).waitFor({ timeout: UI_MS });
  assert.equal(await page.locator('#messages li', { hasText: 'for b live' }).count(), 0);

  // Start c from the page: it is listed and shown, its QR waits; confirmed, it goes online.
  await page.fill('#start-name', 'c');
  await page.click('#start-form button[type=submit]');
  await page.locator('#account-list li[data-client="c"].selected').waitFor({ timeout: UI_MS });
  await page.locator('#qr[data-qrcode]').waitFor({ timeout: UI_MS });
  await b.shot('02-controller-c-qr');
  assert.equal((await control(sb, 'POST', 'confirm', { user: 'wxid_user3' })).status, 200);
  await page.locator('#user-name', { hasText: 'User3' }).waitFor({ timeout: UI_MS });

  // Stop a from the page: gone from the list and from the controller; the others run on.
  await page.locator('#account-list li[data-client="a"] button').click();
  await page.locator('#account-list li[data-client="a"]').waitFor({ state: 'detached', timeout: UI_MS });
  assert.deepEqual((await ctl.call('check_client')).json.client.map((c: any) => [c.client, c.state]), [['b', 'running'], ['c', 'running']]);
  await b.shot('03-controller-a-stopped');
});
