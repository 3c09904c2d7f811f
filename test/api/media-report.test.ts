/**
 * media_data by reference, end to end (sandbox → Account → reporter → outbox → worker → receiver): media reports
 * are stored without media_data and get it streamed into the POST body. The receiver gets exactly the old report
 * (media_data, the file's MIME base64, as the last key), signed, with an exact Content-Length: for a media send
 * through the API, a received media message, a pending media report after a restart, a dead-lettered one after its
 * replay, and through check_event. A file deleted before delivery sends the report without media_data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox } from '../../src/sandbox/index.ts';
import { verify } from '../../src/delivery/sign.ts';
import { FILE_STEP_BYTES } from '../../src/delivery/media-body.ts';
import type { OutboxRow } from '../../src/store/outbox.ts';
import { mimeBase64 } from '../../src/model/post-json.ts';
import { msgIdOf } from '../../src/api/report/report-json.ts';
import type { Delivery, Report } from '../../src/delivery/sink.ts';
import { Receiver, type Received } from '../helpers/receiver.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { nextEvent, waitFor } from '../helpers/wait-for.ts';

const SECRET = 'whsec-media-report-test';

function mediaFile(dir: string, name: string, n = FILE_STEP_BYTES + 1234): { path: string; data: Buffer } {
  const data = Buffer.alloc(n);
  for (let i = 0; i < n; i++) data[i] = (i * 151 + 5) & 0xff;
  const path = join(dir, name);
  writeFileSync(path, data);
  return { path, data };
}

/** The receiver got exactly the old report: the JSON without media_data, plus media_data last; signed; exact length. */
function assertOldFormat(r: Received, data: Buffer, secret?: string): void {
  const { media_data, ...rest } = r.json as Record<string, unknown>;
  assert.equal(media_data, mimeBase64(data), 'media_data is the file as MIME base64');
  assert.equal(r.body, JSON.stringify({ ...rest, media_data: mimeBase64(data) }), 'media_data is the last key, bytes as before');
  assert.equal(Number(r.headers['content-length']), Buffer.byteLength(r.body), 'Content-Length is exact');
  if (secret) {
    assert.ok(verify(secret, { timestamp: String(r.headers['x-openwx-timestamp']), signature: String(r.headers['x-openwx-signature']) }, r.body));
  }
}

const sendMedia = async (s: Stack, path: string) => {
  const r = (await s.call('send_friend_message', { markname: '老张', media_path: path })).json;
  assert.equal(r.code, 0, JSON.stringify(r));
  return r as { id: string };
};

test('a media send through the API and a received media message: post_api and check_event get media_data; a deleted file is sent without it', async () => {
  const s = await startStack({ postApi: true, openwx: { postApiSecret: SECRET, checkEventTimeoutMs: 2_000 } });
  try {
    const rx = s.receiver!;
    await waitFor(() => rx.received.some((r) => r.json?.event === 'login'), 'login reported');
    await s.call('check_event'); // empties the queue of the login's events
    const f = mediaFile(s.mediaDir, 'report.bin');
    const sent = await sendMedia(s, f.path);
    const r = await waitFor(() => rx.received.find((x) => x.json?.id === sent.id), 'send_message report of the media send');
    assert.equal(r.json.post_type, 'send_message');
    assert.equal(r.json.format, 'media');
    assertOldFormat(r, f.data, SECRET);
    // the history keeps the report without media_data
    assert.ok(!('media_data' in (s.api.store.history!.get(sent.id.split(':')[0]!)!.body as object)));
    // check_event: the queued item gets its media_data when polled
    const polled = await waitFor(async () => ((await s.call('check_event')).json as any[]).find((j) => j.id === sent.id), 'check_event item');
    assert.equal(polled.media_data, mimeBase64(f.data));
    assert.deepEqual(polled, r.json, 'check_event returns the same JSON as post_api');

    // a received media message: its downloaded file is sent as media_data
    s.sb.handle.inject({ type: 'image', from: '王芳' });
    const img = await waitFor(() => rx.received.find((x) => x.json?.post_type === 'receive_message' && x.json.media_type === 'image'), 'image report');
    assert.ok(img.json.media_path, 'downloaded into the media folder');
    assertOldFormat(img, readFileSync(img.json.media_path), SECRET);

    // the file is deleted while its report waits for a retry: the report is delivered without media_data
    const outbox = s.api.store.outbox!;
    const g = mediaFile(s.mediaDir, 'deleted.bin', 1000);
    rx.answer = (x) => (x.json?.format === 'media' ? { status: 503 } : { status: 200, text: 'ok' });
    const failed = nextEvent<[OutboxRow]>(outbox, 'failed', (row) => row.media?.path === g.path);
    const gone = await sendMedia(s, g.path);
    await failed;
    rmSync(g.path);
    rx.answer = () => ({ status: 200, text: 'ok' });
    const without = await waitFor(() => rx.received.find((x) => x.json?.id === gone.id), 'report without its file');
    assert.ok(!('media_data' in without.json), 'no media_data');
    assert.equal(without.json.format, 'media');
    assert.ok(verify(SECRET, { timestamp: String(without.headers['x-openwx-timestamp']), signature: String(without.headers['x-openwx-signature']) }, without.body));
    assert.equal(s.api.store.outbox!.deadCount, 0, 'never dropped for that');
  } finally {
    await s.close();
  }
});

test('a media report dead-lettered and replayed is delivered with media_data', async () => {
  const s = await startStack({ postApi: true, openwx: { postMaxAttempts: 2 } });
  try {
    const rx = s.receiver!;
    const outbox = s.api.store.outbox!;
    rx.answer = (x) => (x.json?.format === 'media' ? { status: 400, text: 'no' } : { status: 200, text: 'ok' });
    const f = mediaFile(s.mediaDir, 'dead.bin');
    const dead = nextEvent<[OutboxRow]>(outbox, 'dead');
    const sent = await sendMedia(s, f.path);
    const [row] = await dead;
    assert.deepEqual(row.media, { path: f.path, size: f.data.length });
    assert.ok(!row.body.includes('media_data'), 'the outbox holds the reference, not the base64');
    const list = (await s.call('get_dead_letters')).json;
    const d = list.dead_letters.find((x: any) => x.report.id === sent.id);
    assert.ok(d, 'listed');
    rx.answer = () => ({ status: 200, text: 'ok' });
    assert.equal((await s.call('replay_dead_letters', { event_id: d.event_id })).json.replayed, 1);
    const r = await waitFor(() => rx.received.find((x) => x.json?.id === sent.id), 'replayed media report delivered');
    assert.equal(r.headers['x-openwx-event-id'], d.event_id);
    assertOldFormat(r, f.data);
  } finally {
    await s.close();
  }
});

test('a pending media report is delivered with media_data after a restart on the same data folder', async () => {
  const sb = await startSandbox({ port: 0, chatter: false, longPollMs: 300, autoLoginMs: 30 });
  const rx = await new Receiver().start();
  const dataDir = mkdtempSync(join(tmpdir(), 'owx-media-restart-'));
  try {
    const openwx = { postMaxAttempts: 100_000, postApiSecret: SECRET };
    let s = await startStack({ sandboxInstance: sb, receiverInstance: rx, dataDir, openwx });
    rx.answer = (x) => (x.json?.format === 'media' ? { status: 503 } : { status: 200, text: 'ok' });
    const f = mediaFile(s.mediaDir, 'restart.bin');
    const failed = nextEvent<[OutboxRow]>(s.api.store.outbox!, 'failed', (row) => row.media?.path === f.path);
    const sent = await sendMedia(s, f.path);
    await failed;
    await s.close();

    rx.answer = () => ({ status: 200, text: 'ok' });
    s = await startStack({ sandboxInstance: sb, receiverInstance: rx, dataDir, openwx, noLogin: true });
    try {
      const r = await waitFor(() => rx.received.find((x) => x.json?.id === sent.id), 'pending media report delivered after the restart');
      assertOldFormat(r, f.data, SECRET);
      await waitFor(() => s.api.store.outbox!.depth === 0, 'outbox drained');
    } finally {
      await s.close();
    }
  } finally {
    await rx.stop();
    await sb.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('without a data folder (in-memory sink) a media send is reported with media_data too', async () => {
  const s = await startStack({ postApi: true, openwx: { dataDir: undefined, postApiSecret: SECRET } });
  try {
    assert.equal(s.api.store.outbox, null);
    const f = mediaFile(s.mediaDir, 'memory.bin');
    const sent = await sendMedia(s, f.path);
    const r = await waitFor(() => s.receiver!.received.find((x) => x.json?.id === sent.id), 'media report');
    assertOldFormat(r, f.data, SECRET);
  } finally {
    await s.close();
  }
});

test("a host's own sink that does not take media by reference still gets the whole body with media_data", async () => {
  const got: Report[] = [];
  const sink: Delivery = {
    enqueue: (r) => void got.push(r),
    onDelivered: () => undefined,
    depth: 0,
    flush: async () => undefined,
    close: async () => undefined,
  };
  const s = await startStack({ openwx: { delivery: sink } });
  try {
    const f = mediaFile(s.mediaDir, 'own-sink.bin', 5000);
    const sent = await sendMedia(s, f.path);
    const r = await waitFor(() => got.find((x) => x.body.includes(sent.id)), 'report handed to the sink');
    assert.equal(r.media, undefined);
    const { media_data, ...rest } = JSON.parse(r.body) as Record<string, unknown>;
    assert.equal(media_data, mimeBase64(f.data));
    assert.equal(r.body, JSON.stringify({ ...rest, media_data }));
    // The message history keeps the report without media_data (the sink's body is not its text).
    const stored = await waitFor(() => s.api.store.history?.get(msgIdOf(String(sent.id))), 'recorded in the history');
    assert.deepEqual(stored.body, rest);
  } finally {
    await s.close();
  }
});
