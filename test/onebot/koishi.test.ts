/**
 * A real OneBot app: Koishi (koishi 4.18 with koishi-plugin-adapter-onebot, from the npm registry, not ours) runs a
 * bot against openwx over OneBot 11 — forward WebSocket, then reverse WebSocket after a restart of openwx (the same
 * self_id: integer ids survive restarts). The bot receives a WeChat message, replies with text and an image, and
 * revokes its text reply; the sandbox sees each.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { get, TOKEN } from './helpers.ts';

// Koishi's ESM entry does not load on Node 20 (its loader's class chain); its CommonJS entry does.
const require = createRequire(import.meta.url);
const koishi = require('koishi') as any;
const OneBotAdapter = require('koishi-plugin-adapter-onebot').default as any;
const koishiHttp = require('@koishijs/plugin-http') as any;
const koishiServer = require('@koishijs/plugin-server') as any;
koishi.Logger.levels.base = 0;

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(120, 5)]);
const dir = mkdtempSync(join(tmpdir(), 'owx-koishi-'));
let sb: Sandbox;
const cleanup: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
  await sb?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A Koishi app whose bot answers "ping …" with a text and an image, then revokes the text. */
async function koishiBot(config: Record<string, unknown>, withServerPort?: number) {
  const ctx = new koishi.Context();
  const forks = [ctx.plugin(koishiHttp.default ?? koishiHttp, {})];
  if (withServerPort) forks.push(ctx.plugin(koishiServer.default ?? koishiServer, { host: '127.0.0.1', port: withServerPort }));
  // Koishi keeps each action's answer timer to its end: a short one lets the test process exit soon.
  forks.push(ctx.plugin(OneBotAdapter, { token: TOKEN, responseTimeout: 5_000, ...config }));
  const seen: string[] = [];
  const errors: unknown[] = [];
  ctx.on('message', async (session: any) => {
    if (!String(session.content).startsWith('ping')) return;
    try {
      seen.push(session.content);
      const [textId] = await session.send(`pong ${session.content}`);
      await session.send(koishi.h.image(PNG, 'image/png'));
      await session.bot.deleteMessage(session.channelId, textId);
      seen.push(`done ${session.content}`);
    } catch (e) {
      errors.push(e);
    }
  });
  await ctx.start();
  // Disposed plugin by plugin, the adapter first (Koishi's root ctx.stop() disposes the bots after their registry).
  const stop = async () => {
    for (const f of forks.reverse()) await f.dispose();
  };
  return { ctx, seen, errors, stop };
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function pingRound(s: Stack, bot: { seen: string[]; errors: unknown[] }, text: string): Promise<void> {
  const before = s.sb.handle.sent().length;
  s.sb.handle.inject({ type: 'text', from: '张伟', content: text });
  await waitFor(() => bot.seen.includes(`done ${text}`) || bot.errors.length > 0, `koishi answered ${text}`, 20_000);
  assert.deepEqual(bot.errors, []);
  const sent = s.sb.handle.sent().slice(before);
  const reply = sent.find((x) => x.Content === `pong ${text}`);
  assert.ok(reply, 'text reply sent to WeChat');
  assert.equal(reply.ToUserName, s.friendId('张伟'));
  assert.equal(reply.revoked, true, 'and revoked');
  assert.ok(sent.some((x) => x.MediaId && x.ToUserName === s.friendId('张伟')), 'image reply sent');
}

test('Koishi over OneBot 11: forward WebSocket, then reverse WebSocket after a restart (same self_id)', async () => {
  sb = await startSandbox({ port: 0, chatter: false, longPollMs: 300, autoLoginMs: 30 });
  const onebot = (v11: Record<string, unknown>) => ({
    onebot: { accessToken: TOKEN, reconnectBaseMs: 50, reconnectMaxMs: 500, v11: { http: true, ws: false, http_post: [], ws_reverse: [], heartbeat_ms: 5000, message_format: 'array' as const, ...v11 } },
  });
  const s1 = await startStack({ dataDir: dir, sandboxInstance: sb, openwx: onebot({ ws: true }) });
  let closed1 = false;
  cleanup.push(async () => !closed1 && s1.close());
  const selfId = String((await get(`${s1.base}/onebot/v11/get_login_info`, { authorization: `Bearer ${TOKEN}` })).json.data.user_id);
  const fwd = await koishiBot({ protocol: 'ws', endpoint: `${s1.base.replace('http', 'ws')}/onebot/v11/ws`, selfId });
  cleanup.push(fwd.stop);
  await waitFor(() => fwd.ctx.bots.some((b: any) => b.status === koishi.Universal.Status.ONLINE), 'koishi online (forward)', 20_000);
  await pingRound(s1, fwd, 'ping forward');
  await fwd.stop();
  await s1.close();
  closed1 = true;

  const port = await freePort();
  const rev = await koishiBot({ protocol: 'ws-reverse', path: '/onebot', selfId }, port);
  cleanup.push(rev.stop);
  const s2 = await startStack({ dataDir: dir, sandboxInstance: sb, openwx: onebot({ ws_reverse: [`ws://127.0.0.1:${port}/onebot`] }) });
  cleanup.push(() => s2.close());
  await waitFor(() => rev.ctx.bots.some((b: any) => b.status === koishi.Universal.Status.ONLINE), 'koishi online (reverse)', 20_000);
  assert.equal(String((await get(`${s2.base}/onebot/v11/get_login_info`, { authorization: `Bearer ${TOKEN}` })).json.data.user_id), selfId);
  await pingRound(s2, rev, 'ping reverse');
});
