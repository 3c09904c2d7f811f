/**
 * kill -9 of the busiest of three real controller processes during steady inbound traffic: its accounts run on the
 * others within 30 s without a scan (the stored session resumed), and every injected message is in openwx_events
 * (in order per account) and reaches post_api: the outbox is in PostgreSQL too, so what the dead controller had
 * accepted and not delivered yet is delivered by the new owner.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postgresForFile } from '../helpers/postgres.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { control, UrlReceiver, usersSandbox } from '../host/helpers.ts';
import { rows } from './helpers.ts';
import { spawnController, type ControllerProcess } from './processes.ts';

const server = postgresForFile();

async function clusterEntry(c: ControllerProcess, name: string): Promise<any> {
  return (await c.call('check_client', { client: name })).json?.client?.[0];
}

test('kill -9 of the busiest controller during inbound traffic: its accounts move within 30 s without a scan, no message lost (openwx_events and post_api)', async () => {
  const url = await server.createDatabase();
  const sb = await usersSandbox(3);
  const receiver = await new UrlReceiver().start();
  const cs: ControllerProcess[] = [];
  try {
    for (const id of ['k1', 'k2', 'k3']) cs.push(await spawnController(id, { databaseUrl: url, wechatOrigin: sb.url, postApi: receiver.url }));
    const [k1, k2, k3] = cs as [ControllerProcess, ControllerProcess, ControllerProcess];
    // k1 runs two accounts (the busiest), k2 one.
    const placed: [string, string, string][] = [['alice', 'k1', 'wxid_user1'], ['dave', 'k1', 'wxid_user2'], ['bob', 'k2', 'wxid_user3']];
    for (const [name, worker, user] of placed) {
      const r = await k3.call('start_client', { client: name, worker });
      assert.equal(r.json.status, 'success', r.text);
      await waitFor(async () => (await clusterEntry(k3, name))?.state === 'scaning', `${name} QR`, 30_000, 50);
      assert.equal((await control(sb, 'POST', 'confirm', { user })).status, 200);
      await waitFor(async () => (await clusterEntry(k3, name))?.state === 'running', `${name} running`, 30_000, 50);
    }
    const before = (await k2.call('check_client')).json.client as any[];
    assert.deepEqual(before.map((e) => [e.client, e.worker]), [['alice', 'k1'], ['dave', 'k1'], ['bob', 'k2']]);

    // Steady traffic to k1's two accounts; kill -9 k1 in the middle of it.
    const injected: Record<string, string[]> = { alice: [], dave: [] };
    const users: Record<string, string> = { alice: 'wxid_user1', dave: 'wxid_user2' };
    let n = 0;
    const inject = async () => {
      n++;
      for (const name of ['alice', 'dave']) {
        const content = `${name} msg ${n}`;
        const r = await control(sb, 'POST', 'messages', { user: users[name], type: 'text', from: 'Ann', content });
        assert.equal(r.status, 200, JSON.stringify(r.json));
        injected[name]!.push(content);
      }
    };
    for (let i = 0; i < 10; i++) await inject();
    await waitFor(async () => (await rows(url, "SELECT 1 FROM openwx_events WHERE report->>'content' = 'alice msg 5'")).length > 0, 'traffic flowing', 15_000, 50);
    const killedAt = Date.now();
    k1.kill('SIGKILL');
    await k1.exited;
    // WeChat queues messages meanwhile; the new owner's sync resumes from the stored SyncKey.
    for (let i = 0; i < 10; i++) await inject();
    // Running as both survivors see it (the owner's live state, and the accounts table the other one reads).
    await waitFor(async () => {
      for (const k of [k2, k3]) {
        const l = (await k.call('check_client')).json.client as any[];
        if (!l.filter((e) => e.client !== 'bob').every((e) => e.state === 'running' && (e.worker === 'k2' || e.worker === 'k3'))) return false;
      }
      return true;
    }, "k1's accounts running elsewhere", 30_000, 50);
    const failoverMs = Date.now() - killedAt;
    console.log(`# failover (kill -9 → both accounts running elsewhere): ${failoverMs} ms`);
    assert.ok(failoverMs < 30_000);
    const moved = (await k3.call('check_client')).json.client as any[];
    assert.deepEqual(moved.map((e) => [e.client, e.user_name]), [['alice', 'User1'], ['dave', 'User2'], ['bob', 'User3']], 'same users: no scan');
    for (let i = 0; i < 10; i++) await inject();

    // Every message is in the event log, once per account in order of arrival (at-least-once: a re-delivery may
    // repeat one, never reorder or lose).
    for (const name of ['alice', 'dave']) {
      const got = await waitFor(async () => {
        const r = await rows(url, "SELECT report->>'content' AS c FROM openwx_events WHERE client = $1 AND report->>'post_type' = 'receive_message' ORDER BY id", [name]);
        const cs2 = r.map((x) => x.c as string);
        return injected[name]!.every((m) => cs2.includes(m)) ? cs2 : null;
      }, `${name}'s ${injected[name]!.length} messages in openwx_events`, 30_000, 100);
      const firsts = injected[name]!.map((m) => got.indexOf(m));
      assert.deepEqual([...firsts].sort((a, b) => a - b), firsts, `${name}'s messages in order`);
    }
    // post_api: every message delivered (what k1 had accepted and not delivered is delivered by the new owner).
    await waitFor(() => {
      const delivered = new Set(receiver.posts.map((p) => p.json?.content));
      return [...injected['alice']!, ...injected['dave']!].every((m) => delivered.has(m));
    }, 'every message delivered to post_api', 30_000, 100);
  } finally {
    for (const c of cs) c.kill('SIGKILL');
    await Promise.all(cs.map((c) => c.exited));
    await sb.close();
    await receiver.stop();
  }
});
