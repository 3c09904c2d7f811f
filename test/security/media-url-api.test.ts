/**
 * Media URL destinations through the API, a post_api reply and the command's setting (docs/security.md). The media
 * servers listen on loopback, which is refused by default: the default stack shows the refusal, the command run
 * with --allow-private-media-urls shows the opt-in.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callApi, startStack, type Stack } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { clientOptionsOf, loadSettings } from '../../src/cli/config.ts';
import { parseClientOptions } from '../../src/client/options.ts';
import { ErrorDefs } from '../../src/errors.ts';
import type { Received } from '../helpers/receiver.ts';
import { startCommand } from '../cli/real-command.ts';

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(300, 9)]);
const UNIFORM = ErrorDefs.OWX_ERR_MEDIA_URL_FAILED.message;

let s: Stack;
let img: Server;
let port: number;
let connections = 0;
before(async () => {
  img = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'image/png' });
    res.end(PNG);
  });
  img.on('connection', () => connections++);
  await new Promise<void>((r) => img.listen(0, '127.0.0.1', r));
  port = (img.address() as AddressInfo).port;
  s = await startStack({ postApi: true });
});
after(async () => {
  await s.close();
  img.closeAllConnections();
  await new Promise<void>((r) => img.close(() => r()));
});

test('media_path URLs to loopback are refused by default, in any form, with the uniform status and no connection', async () => {
  const id = s.friendId('张伟');
  const sentBefore = s.sb.handle.sent().length;
  for (const media_path of [`http://127.0.0.1:${port}/a.png`, `http://2130706433:${port}/a.png`, `http://[::ffff:127.0.0.1]:${port}/a.png`, `http://localhost:${port}/a.png`]) {
    const r = await s.call('send_friend_message', { id, media_path });
    assert.equal(r.status, 200, media_path);
    assert.deepEqual([r.json.code, r.json.status, r.json.media_id], [-1, UNIFORM, ''], media_path);
    const up = await s.call('upload_media', { media_path });
    assert.equal(up.json.code, -1, media_path);
    assert.equal(up.json.status, UNIFORM, media_path);
  }
  assert.equal(connections, 0);
  assert.equal(s.sb.handle.sent().length, sentBefore);
});

test('a post_api reply whose media URL points to loopback is refused by default (the text part is still sent)', async () => {
  const failures = s.api.reporter.stats.replyFailures;
  s.receiver!.answer = (r: Received) => (r.json?.content === '要内网图' ? { json: { reply: '图来了', media: `http://127.0.0.1:${port}/pic.png` } } : { text: 'ok' });
  s.sb.handle.inject({ type: 'text', from: '赵磊', content: '要内网图' });
  await waitFor(() => s.api.reporter.stats.replyFailures > failures, 'the media reply refused');
  const toZhao = s.sb.handle.sent().filter((x) => x.toNickName === '赵磊');
  assert.deepEqual(toZhao.map((x) => x.Content), ['图来了']);
  assert.equal(connections, 0);
  s.receiver!.answer = () => ({ text: 'ok' });
});

test('allow_private_media_urls: default false; flag, env and config file reach the client option', () => {
  assert.equal(parseClientOptions(clientOptionsOf(loadSettings({}))).allowPrivateMediaUrls, false);
  assert.equal(parseClientOptions({}).allowPrivateMediaUrls, false);
  assert.equal(clientOptionsOf(loadSettings({ flags: { allow_private_media_urls: true } })).allowPrivateMediaUrls, true);
  assert.equal(clientOptionsOf(loadSettings({ env: { OPENWX_ALLOW_PRIVATE_MEDIA_URLS: 'true' } })).allowPrivateMediaUrls, true);
  assert.equal(clientOptionsOf(loadSettings({ env: { OPENWX_ALLOW_PRIVATE_MEDIA_URLS: 'no' } })).allowPrivateMediaUrls, false);
  assert.throws(() => loadSettings({ env: { OPENWX_ALLOW_PRIVATE_MEDIA_URLS: 'maybe' } }), /invalid setting allow_private_media_urls: expected true or false/);
});

test('openwx --allow-private-media-urls: the command fetches a loopback media URL and sends it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'owx-ssrf-'));
  const cmd = startCommand(['--sandbox', '--port', '0', '--sandbox-port', '0', '--data-dir', dir, '--stop-delay-ms', '0', '--log-level', 'warn', '--quiet', '--allow-private-media-urls']);
  try {
    const base = (await cmd.waitForOutput(/Openwx API at (http:\/\/[^/\s]+)\/openwx\//, 'the API URL line'))[1]!;
    await waitFor(async () => (await callApi(base, 'get_client_info')).json.state === 'running', 'login', 20_000);
    const before = connections;
    const r = await callApi(base, 'send_friend_message', { displayname: 'echo', media_path: `http://127.0.0.1:${port}/pic.png` });
    assert.equal(r.json.code, 0, JSON.stringify(r.json));
    assert.ok(r.json.media_id);
    assert.equal(connections, before + 1);
    await callApi(base, 'stop_client');
    assert.equal(await cmd.exited, 0);
  } finally {
    cmd.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
