import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { account, sandbox, tempDir, testWorld } from './helpers.ts';
import { nextEvent } from '../helpers/wait-for.ts';
import { fitName } from '../../src/client/media-download.ts';
import type { Account } from '../../src/client/account.ts';
import type { Sandbox } from '../../src/sandbox/index.ts';
import type { Message } from '../../src/model/types.ts';

let sb: Sandbox;
let a: Account;
const tmp = tempDir();
const mediaDir = () => join(tmp.dir, 'media');
const bytes = (s: string) => Buffer.byteLength(s);

before(async () => {
  sb = await sandbox({ world: testWorld() });
  a = account(sb, tmp.dir);
  await a.run();
});
after(async () => {
  await a.stop();
  await sb.close();
  tmp.cleanup();
});

async function receiveFile(fileName: string): Promise<Message> {
  const { msgIds } = sb.handle.inject({ type: 'file', from: 'Ann', fileName });
  const [m] = await nextEvent<[Message]>(a, 'receive_message', (m) => m.id === msgIds[0]);
  return m;
}

const partFiles = () => readdirSync(mediaDir()).filter((f) => f.endsWith('.part'));

test('a received file whose name is 300 UTF-8 bytes is saved under a name cut to 255 bytes, extension kept', async () => {
  const name = `ab${'报'.repeat(98)}.pdf`;
  assert.equal(bytes(name), 300);
  const m = await receiveFile(name);
  assert.equal(m.media_error, undefined, String(m.media_error));
  assert.ok(m.media_path, 'a file path is reported');
  const saved = basename(m.media_path);
  assert.ok(bytes(saved) <= 255, `${bytes(saved)} bytes`);
  assert.ok(bytes(saved) >= 250, 'cut no shorter than needed');
  assert.match(saved, /^ab报+\.pdf$/);
  assert.ok(statSync(m.media_path).size > 0);
  assert.equal(readFileSync(m.media_path).length, Number(m.media_size));
  assert.equal(m.media_name, name, 'the reported name is the original one');
  assert.deepEqual(partFiles(), []);

  // The same name again: a second file, " (2)" inside the limit too.
  const again = await receiveFile(name);
  assert.ok(again.media_path && again.media_path !== m.media_path);
  const saved2 = basename(again.media_path);
  assert.ok(bytes(saved2) <= 255, `${bytes(saved2)} bytes`);
  assert.match(saved2, /^ab报+ \(2\)\.pdf$/);
  assert.ok(statSync(again.media_path).size > 0);
  assert.deepEqual(partFiles(), []);
});

test('a name of 4-byte characters is cut between characters, never inside one', async () => {
  const name = `${'😀'.repeat(80)}.txt`;
  const m = await receiveFile(name);
  assert.ok(m.media_path, String(m.media_error));
  const saved = basename(m.media_path);
  assert.match(saved, /^(😀)+\.txt$/u);
  assert.equal(bytes(saved), 62 * 4 + 4);
  assert.ok(readdirSync(mediaDir()).includes(saved));
  assert.deepEqual(partFiles(), []);
});

test('an empty download leaves no .part file and reports the message with media_error', async () => {
  sb.handle.fault({ endpoint: 'webwxgetmedia', status: 200, body: '', times: 1 });
  const m = await receiveFile('empty.txt');
  assert.equal(m.media_path, undefined);
  assert.match(String(m.media_error), /empty answer/);
  assert.deepEqual(partFiles(), []);
});

test('fitName: bytes, not characters; suffix and short extension kept; long extensions are not', () => {
  assert.equal(fitName('short.pdf', '', 255), 'short.pdf');
  assert.equal(fitName('short.pdf', ' (2)', 255), 'short (2).pdf');
  assert.equal(fitName(`${'é'.repeat(10)}.md`, '', 12), `${'é'.repeat(4)}.md`);
  assert.equal(fitName(`${'é'.repeat(10)}.md`, ' (3)', 12), `${'é'.repeat(2)} (3).md`);
  const longExt = `x.${'y'.repeat(60)}`;
  assert.equal(fitName(longExt, '', 40), longExt.slice(0, 40));
  for (const name of [`${'报'.repeat(120)}.txt`, `${'😀'.repeat(90)}.tar.gz`, `${'a'.repeat(400)}`, `${'é'.repeat(200)}.${'y'.repeat(40)}`]) {
    for (const suffix of ['', ' (2)', ' (1234)']) {
      for (let max = 8; max <= 300; max++) {
        const out = fitName(name, suffix, max);
        assert.ok(Buffer.byteLength(out) <= max, `${out}: ${Buffer.byteLength(out)} > ${max}`);
        assert.ok(out.length > 0);
        assert.ok(!out.includes('\ufffd') && Buffer.from(out).toString() === out, 'no character split');
        if (Buffer.byteLength(name) + Buffer.byteLength(suffix) <= max) assert.ok(out.startsWith(name.slice(0, name.lastIndexOf('.') >= 0 ? name.lastIndexOf('.') : name.length)));
      }
    }
  }
  assert.equal(fitName(`${'报'.repeat(100)}.txt`, ' (2)', 255), `${'报'.repeat(82)} (2).txt`);
});
