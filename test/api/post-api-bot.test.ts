/**
 * issue 11 §5, end to end: a bot written for Mojo-Weixin's Openwx API (like the Flask bot of the issue) receives
 * post_api reports and answers through the API, against the real openwx API, a real sandbox and a real HTTP
 * receiver. (a) Its handler crashes (HTTP 500) on one message, every time: the messages behind it are delivered
 * within the hold bound, in order, and answered. (b) Its handler calls the real `consult` route and answers after
 * the consult's wait: the report is delivered once and the reply reaches WeChat once, also when the report comes
 * again after its answer was acted on. Timeouts are scaled down through the settings (no real 30 s waits).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.ts';
import { openDatabase } from '../../src/store/db.ts';
import { callApi, startStack, type Stack, type StackOptions } from '../helpers/stack.ts';
import { closeServer, readBody } from '../helpers/receiver.ts';
import { nextEvent, waitFor } from '../helpers/wait-for.ts';

interface Post {
  headers: IncomingHttpHeaders;
  body: string;
  json: any;
  at: number;
  status: number;
}

/**
 * The bot: a plain HTTP server, one handler per report, as a Flask app would run it. `handle` returns the status
 * and JSON answer (it may take its time and call the API); every request and its answer are recorded.
 */
class Bot {
  readonly posts: Post[] = [];
  /** The openwx API the handler calls (set once the stack is up). */
  api = '';
  handle: (p: Post) => Promise<{ status: number; json?: unknown }> = async () => ({ status: 200 });
  #server: Server | null = null;
  url = '';

  async start(): Promise<this> {
    this.#server = createServer((req, res) => {
      readBody(req, ({ body, json }) => {
        const p: Post = { headers: req.headers, body, json, at: Date.now(), status: 0 };
        this.posts.push(p);
        this.handle(p).then(
          (a) => {
            p.status = a.status;
            if (res.destroyed) return; // openwx gave up on this attempt: the answer is lost, as with a real bot
            const text = a.json === undefined ? 'ok' : JSON.stringify(a.json);
            res.writeHead(a.status, { 'content-type': a.json === undefined ? 'text/plain' : 'application/json' }).end(text);
          },
          () => res.writeHead(500).end('handler crashed'),
        );
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/post_api`;
    return this;
  }

  /** The posts of messages whose content starts with `prefix`. */
  about(prefix: string): Post[] {
    return this.posts.filter((p) => typeof p.json?.content === 'string' && p.json.content.startsWith(prefix));
  }

  async stop(): Promise<void> {
    const s = this.#server;
    this.#server = null;
    await closeServer(s);
  }
}

/** What WeChat got from the account, read from the sandbox's control API (`/__sandbox/sent`). */
async function sentToWeChat(sb: Sandbox): Promise<{ Content: string; ToUserName: string }[]> {
  const res = await request(`${sb.url}/__sandbox/sent`);
  return (await res.body.json()) as { Content: string; ToUserName: string }[];
}

async function botStack(bot: Bot, o: StackOptions = {}): Promise<Stack> {
  const s = await startStack({ ...o, openwx: { post_api: bot.url, ...o.openwx } });
  bot.api = s.base;
  return s;
}

const isMessage = (p: Post) => p.json?.post_type === 'receive_message';

test('(a) the bot answers 500 to one message every time: the messages behind it are delivered within the hold, in order, and answered; the failing one becomes a dead letter', async () => {
  const bot = await new Bot().start();
  bot.handle = async (p) => {
    if (!isMessage(p)) return { status: 200 };
    if (p.json.content.startsWith('崩溃')) return { status: 500 }; // the handler's own bug, on this message only
    return { status: 200, json: { reply: `收到：${p.json.content}` } };
  };
  // The defaults of the command (bounded order, hold 5 s, 3 refusals); short retry waits from the test stack.
  const s = await botStack(bot);
  try {
    const t0 = Date.now();
    s.sb.handle.inject({ type: 'text', from: '王芳', content: '崩溃 这条让处理函数出错' });
    for (let i = 1; i <= 5; i++) s.sb.handle.inject({ type: 'text', from: '王芳', content: `消息 ${i}` });
    const replies = await waitFor(async () => {
      const r = (await sentToWeChat(s.sb)).filter((x) => x.Content.startsWith('收到：消息 '));
      return r.length >= 5 ? r : null;
    }, 'the five replies reached WeChat', 15_000);
    const took = Date.now() - t0;
    assert.ok(took < 5_000, `answered after ${took} ms: within the default hold (5 s)`);
    assert.deepEqual(replies.map((r) => r.Content), [1, 2, 3, 4, 5].map((i) => `收到：消息 ${i}`), 'answered in order');
    assert.ok(replies.every((r) => r.ToUserName === s.friendId('王芳')));
    const accepted = bot.about('消息 ').filter((p) => p.status === 200).map((p) => p.json.content);
    assert.deepEqual(accepted, [1, 2, 3, 4, 5].map((i) => `消息 ${i}`), 'delivered in order, each once');
    // the crashing message: tried 3 times (a few retries, not 50 over 24 h), then a dead letter one can replay
    await waitFor(async () => (await s.call('get_dead_letters')).json.total === 1, 'the crashing report is a dead letter');
    const crashes = bot.about('崩溃');
    assert.deepEqual(crashes.map((p) => p.headers['x-openwx-attempt']), ['1', '2', '3']);
    const [d] = (await s.call('get_dead_letters')).json.dead_letters;
    assert.equal(d.report.content, '崩溃 这条让处理函数出错');
    assert.equal(d.last_error, 'HTTP 500');
    assert.equal(d.attempts, 3);
  } finally {
    await s.close();
    await bot.stop();
  }
});

test('(a) a message that keeps failing longer than the hold: the ones behind it go on after post_api_hold_ms, in order, answered, while it is retried; answered too once the bot is fixed', async () => {
  const HOLD = 800;
  const bot = await new Bot().start();
  let fixed = false;
  bot.handle = async (p) => {
    if (!isMessage(p)) return { status: 200 };
    if (p.json.content.startsWith('崩溃') && !fixed) return { status: 500 };
    return { status: 200, json: { reply: `收到：${p.json.content}` } };
  };
  const s = await botStack(bot, { openwx: { postHoldMs: HOLD, postRejectedMaxAttempts: 1_000_000 } });
  try {
    const failed = nextEvent(s.api.store.outbox!, 'failed');
    s.sb.handle.inject({ type: 'text', from: '王芳', content: '崩溃 一直出错' });
    // the later messages come after its first failure (none of them is already in flight with it)
    await failed;
    for (let i = 1; i <= 4; i++) s.sb.handle.inject({ type: 'text', from: '王芳', content: `后来 ${i}` });
    const replies = await waitFor(async () => {
      const r = (await sentToWeChat(s.sb)).filter((x) => x.Content.startsWith('收到：后来 '));
      return r.length >= 4 ? r : null;
    }, 'the later messages answered', 15_000);
    assert.deepEqual(replies.map((r) => r.Content), [1, 2, 3, 4].map((i) => `收到：后来 ${i}`));
    const firstCrash = bot.about('崩溃')[0]!.at;
    const firstLater = bot.about('后来 ')[0]!.at;
    assert.ok(firstLater - firstCrash >= HOLD - 50, `the later ones waited ${firstLater - firstCrash} ms: the hold is real`);
    assert.ok(firstLater - firstCrash < HOLD + 4_000, `the later ones waited ${firstLater - firstCrash} ms: bounded`);
    assert.deepEqual(bot.about('后来 ').map((p) => p.json.content), [1, 2, 3, 4].map((i) => `后来 ${i}`), 'in order, each once');
    assert.ok(s.api.store.outbox!.depth >= 1, 'the crashing report is still pending, retried on its own');
    assert.ok(bot.about('崩溃').length >= 2);
    fixed = true;
    await waitFor(async () => (await sentToWeChat(s.sb)).some((x) => x.Content === '收到：崩溃 一直出错'), 'answered once the bot is fixed', 15_000);
    await waitFor(() => s.api.store.outbox!.depth === 0, 'outbox drained');
  } finally {
    await s.close();
    await bot.stop();
  }
});

test('(b) a handler that runs a consult before it answers: delivered once, one consult, one reply; the same report coming again after a restart is not replied to twice', async () => {
  const sb = await startSandbox({ port: 0, chatter: false, longPollMs: 300, autoLoginMs: 30 });
  const dataDir = mkdtempSync(join(tmpdir(), 'owx-bot-'));
  const bot = await new Bot().start();
  let consults = 0;
  // Resolved once the (re)started openwx is logged in: the outbox resumes before that, and the handler needs the API.
  let online: Promise<void> = Promise.resolve();
  bot.handle = async (p) => {
    if (!isMessage(p) || p.json.content !== '帮我问问刘强') return { status: 200 };
    await online;
    // Like the Flask bot: ask a friend through the API and wait for the answer (here the silent friend: the
    // consult waits its whole timeout, 1 s, longer than the old post_api timeout scaled down to 500 ms).
    consults++;
    const r = await callApi(bot.api, 'consult', { displayname: '刘强', content: '在吗？', timeout: '1' });
    assert.equal(r.json.reply_status, 'reply timeout');
    return { status: 200, json: { reply: '刘强没空，稍后再说' } };
  };
  // The attempt timeout covers the handler (the default 40 s covers a 30 s consult; scaled: 3 s for a 1 s one).
  const openwx = { postTimeoutMs: 3_000 };
  const replies = async () => (await sentToWeChat(sb)).filter((x) => x.Content === '刘强没空，稍后再说');
  let s = await botStack(bot, { sandboxInstance: sb, dataDir, openwx });
  try {
    s.sb.handle.inject({ type: 'text', from: '王芳', content: '帮我问问刘强' });
    await waitFor(async () => (await replies()).length >= 1, 'the reply reached WeChat', 15_000);
    await waitFor(() => s.api.store.outbox!.depth === 0, 'delivered');
    const posts = bot.about('帮我问问刘强');
    assert.equal(posts.length, 1, 'delivered once: no redelivery while the handler ran its consult');
    assert.equal(posts[0]!.headers['x-openwx-attempt'], '1');
    assert.equal(consults, 1);
    assert.equal((await sentToWeChat(sb)).filter((x) => x.Content === '在吗？').length, 1, 'one consult question');
    assert.equal((await replies()).length, 1);
    assert.equal((await replies())[0]!.ToUserName, s.friendId('王芳'));
    await s.close();

    // The same report comes again with its event id (as a power loss that lost the delivery's commit would
    // leave it, or a copy of the data folder): the bot, which does not de-duplicate, answers again with a reply.
    const db = openDatabase(join(dataDir, 'openwx.db'));
    db.prepare('INSERT INTO outbox (event_id, account, kind, body, created_at, next_at) VALUES (?, ?, ?, ?, ?, ?)').run(
      String(posts[0]!.headers['x-openwx-event-id']), String(posts[0]!.headers['x-openwx-account']), 'receive_message', posts[0]!.body, Date.now(), Date.now(),
    );
    db.close();
    let up!: () => void;
    online = new Promise<void>((resolve) => (up = resolve));
    s = await botStack(bot, { sandboxInstance: sb, dataDir, openwx });
    up();
    await waitFor(() => bot.about('帮我问问刘强').slice(1).some((p) => p.status === 200), 'the report came again and was answered', 15_000);
    await waitFor(() => s.api.store.outbox!.depth === 0, 'delivered again');
    await waitFor(() => s.api.reporter.stats.repeatedAnswers === 1, 'the repeated answer recognised');
    for (const p of bot.about('帮我问问刘强')) assert.equal(p.headers['x-openwx-event-id'], posts[0]!.headers['x-openwx-event-id']);
    assert.equal((await replies()).length, 1, 'the reply reached WeChat exactly once');
  } finally {
    await s.close();
    await bot.stop();
    await sb.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
