import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseClientOptions, DEFAULT_UOS_EXTSPAM } from '../../src/client/options.ts';
import { isOpenwxError } from '../../src/errors.ts';

test('defaults: UOS desktop mode, Mojo-like limits, media folder under the data folder', () => {
  const o = parseClientOptions();
  assert.equal(o.desktopMode, true);
  assert.deepEqual(o.uosHeaders, { clientVersion: '2.0.0', extspam: DEFAULT_UOS_EXTSPAM, referer: 'https://wx.qq.com/?&lang=zh_CN&target=t' });
  assert.equal(o.mediaDir, join('./data', 'media'));
  assert.equal(o.maxQrAttempts, 10);
  assert.equal(o.uploadChunkBytes, 512 * 1024);
  assert.equal(o.mediaSizeMaxBytes, 20 * 1024 * 1024);
  assert.equal(o.contactBatchSize, 50);
  assert.equal(o.relogin, 'relogin');
});

test('every UOS value is overridable on its own', () => {
  const o = parseClientOptions({ uosHeaders: { extspam: 'NEW' }, dataDir: '/d', mediaDir: '/m' });
  assert.equal(o.uosHeaders.extspam, 'NEW');
  assert.equal(o.uosHeaders.clientVersion, '2.0.0');
  assert.equal(o.mediaDir, '/m');
});

test('bad values and unknown keys are OWX_ERR_CONFIG naming the setting', () => {
  const bad: [unknown, RegExp][] = [
    [{ sendIntervalMs: -1 }, /sendIntervalMs/],
    [{ relogin: 'maybe' }, /relogin/],
    [{ contactBatchSize: 51 }, /contactBatchSize/],
    [{ wechatOrigin: 'not a url' }, /wechatOrigin/],
    [{ dataDIr: 'x' }, /dataDIr/],
    [{ uosHeaders: { clientversion: '1' } }, /clientversion/],
    [{ account: '../x' }, /account/],
  ];
  for (const [input, re] of bad) {
    assert.throws(() => parseClientOptions(input as never), (e: unknown) => isOpenwxError(e, 'OWX_ERR_CONFIG') && re.test(e.message), JSON.stringify(input));
  }
});
