/**
 * One account's trouble stays in it: a handler throwing on every message and a 1205 storm on a's sends, a relogin
 * loop of c (logged out, waiting for a scan nobody makes), then WeChat logging a out (its policy: stop), while b keeps
 * sending and receiving. /metrics is labelled by account and /readyz names the accounts that are not ready.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { waitFor } from '../helpers/wait-for.ts';
import { control, startTestController, UrlReceiver, usersSandbox } from './helpers.ts';

test("a throwing handler, a 1205 storm, a logout and a relogin loop of other accounts do not reach the other; /metrics by account; /readyz names who is not ready", async () => {
  const sb = await usersSandbox(3);
  const rcv = await new UrlReceiver().start();
  const ctl = await startTestController(sb, { post_api: rcv.url });
  try {
    await ctl.login('a', 'wxid_user1', { relogin: 'stop' });
    await ctl.login('b', 'wxid_user2');
    await ctl.login('c', 'wxid_user3');
    const ready = await ctl.call('/readyz');
    assert.equal(ready.status, 200, ready.text);
    assert.deepEqual(ready.json.not_ready, []);
    assert.deepEqual(ready.json.accounts.map((x: any) => [x.client, x.ready]), [['a', true], ['b', true], ['c', true]]);

    // WeChat ends c's session; c's policy is to log in again: it loops on new QRs nobody scans. b does not notice.
    assert.equal((await control(sb, 'POST', 'logout', { user: 'wxid_user3' })).status, 200);
    await waitFor(async () => (await ctl.state('c')) === 'scaning', 'c waits for a new scan', 15_000, 20);

    // A handler on a that throws for every message (a plugin's listener): a's reports and b's go on.
    ctl.host.account('a')!.client.on('receive_message', () => {
      throw new Error('handler boom');
    });
    await control(sb, 'POST', 'messages', { user: 'wxid_user1', type: 'text', from: 'Ann', content: 'a despite boom' });
    await control(sb, 'POST', 'messages', { user: 'wxid_user2', type: 'text', from: 'Ann', content: 'b despite boom' });
    assert.equal((await rcv.waitFor((p) => p.json?.content === 'a despite boom', "a's report")).headers['x-openwx-account'], 'a');
    assert.equal((await rcv.waitFor((p) => p.json?.content === 'b despite boom', "b's report")).headers['x-openwx-account'], 'b');

    const friend = async (client: string) => (await ctl.call('search_friend', { client, name: 'Ann' })).json[0].id as string;
    const [annA, annB] = [await friend('a'), await friend('b')];

    // WeChat rate-limits a's sends (Ret 1205, more than its retries): a's send fails, b's sends go through at once.
    assert.equal((await control(sb, 'POST', 'faults', { user: 'wxid_user1', endpoint: 'webwxsendmsg', ret: 1205, times: 20 })).status, 200);
    const sendA = ctl.call('send_friend_message', { client: 'a', id: annA, content: 'a under 1205' });
    let aAnswered = false;
    void sendA.then(() => (aAnswered = true));
    for (let i = 1; i <= 3; i++) {
      const r = await ctl.call('send_friend_message', { client: 'b', id: annB, content: `b ${i}` }, 'json');
      assert.equal(r.json.code, 0, r.text);
    }
    const sentB = (await control(sb, 'GET', 'sent?user=wxid_user2')).json.map((s: any) => s.Content);
    assert.deepEqual(sentB.filter((c: string) => /^b \d$/.test(c)), ['b 1', 'b 2', 'b 3']);
    assert.equal(aAnswered, false, "a's send is still backing off from 1205 while b's were answered");

    // WeChat ends a's session; a's policy is to stop. b keeps running and reporting.
    assert.equal((await control(sb, 'POST', 'logout', { user: 'wxid_user1' })).status, 200);
    await waitFor(async () => (await ctl.state('a')) === 'stop', 'a stopped', 15_000, 20);
    const ra = await sendA;
    assert.notEqual(ra.json.code, 0, `a's send was never accepted: ${ra.text}`);
    const notReady = await ctl.call('/readyz');
    assert.equal(notReady.status, 503);
    assert.deepEqual(notReady.json.not_ready, ['a', 'c']);
    assert.equal(await ctl.state('c'), 'scaning', 'c still relogging in');
    assert.equal(notReady.json.accounts.find((x: any) => x.client === 'a').reason, 'client stopped');
    assert.equal(await ctl.state('b'), 'running');
    await control(sb, 'POST', 'messages', { user: 'wxid_user2', type: 'text', from: 'Ann', content: 'b after a left' });
    const got = await rcv.waitFor((p) => p.json?.content === 'b after a left', 'b still reports');
    assert.equal(got.headers['x-openwx-account'], 'b');
    const r = await ctl.call('send_friend_message', { client: 'b', id: annB, content: 'b still sends' });
    assert.equal(r.json.code, 0, r.text);

    // One registry, every series labelled by account.
    const metrics = (await ctl.call('/metrics')).text;
    assert.match(metrics, /openwx_state\{account="a",state="stop"\} 1/);
    assert.match(metrics, /openwx_state\{account="b",state="running"\} 1/);
    assert.match(metrics, /openwx_sends_total\{account="b",result="ok"\} [4-9]/);
    assert.doesNotMatch(metrics, /openwx_sends_total\{account="a",result="ok"\} [1-9]/);
    assert.match(metrics, /openwx_sends_total\{account="a",result="(?!ok")[^"]+"\} 1/);
  } finally {
    await ctl.close();
    await rcv.stop();
    await sb.close();
    rmSync(ctl.dataDir, { recursive: true, force: true });
  }
});
