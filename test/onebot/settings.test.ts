/** OneBot settings: the `onebot:` key, its flags and env vars, off unless configured, the token never echoed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSettings, openwxOptionsOf, SettingsError } from '../../src/cli/config.ts';

const file = (text: string) => {
  const p = join(mkdtempSync(join(tmpdir(), 'owx-ob-')), 'c.yaml');
  writeFileSync(p, text);
  return p;
};

test('onebot: off unless configured', () => {
  assert.equal(openwxOptionsOf(loadSettings({ env: {} })).onebot, undefined);
  // a version with every transport off is off
  assert.equal(openwxOptionsOf(loadSettings({ env: {}, configFile: file('onebot:\n  v12: { http: false }\n') })).onebot, undefined);
});

test('onebot: the config key with both versions and their defaults', () => {
  const s = loadSettings({
    env: {},
    configFile: file(
      'onebot:\n  access_token: s3cret-token\n  v12: { http: true, ws: true, webhook: [http://127.0.0.1:9/hook] }\n  v11: { ws: true, message_format: string }\n',
    ),
  });
  const o = openwxOptionsOf(s).onebot!;
  assert.equal(o.accessToken, 's3cret-token');
  assert.deepEqual(o.v12, { http: true, ws: true, webhook: ['http://127.0.0.1:9/hook'], ws_reverse: [], heartbeat_ms: 5000 });
  assert.deepEqual(o.v11, { http: false, ws: true, http_post: [], ws_reverse: [], heartbeat_ms: 5000, message_format: 'string', report_self_message: false });
});

test('onebot: flags and env vars win over the key; a reverse URL by flag turns its version on', () => {
  const s = loadSettings({
    env: { OPENWX_ONEBOT_ACCESS_TOKEN: 'from-env-token', OPENWX_ONEBOT_V11_WS_REVERSE: 'ws://127.0.0.1:1/a,ws://127.0.0.1:2/b' },
    flags: { onebot_v12_ws_reverse: ['ws://127.0.0.1:3/x'] },
    configFile: file('onebot:\n  access_token: from-file-token\n'),
  });
  const o = openwxOptionsOf(s).onebot!;
  assert.equal(o.accessToken, 'from-env-token');
  assert.deepEqual(o.v12?.ws_reverse, ['ws://127.0.0.1:3/x']);
  assert.equal(o.v12?.http, false);
  assert.deepEqual(o.v11?.ws_reverse, ['ws://127.0.0.1:1/a', 'ws://127.0.0.1:2/b']);
  const j = openwxOptionsOf(loadSettings({ env: { OPENWX_ONEBOT: '{"v12":{"http":true}}' } })).onebot!;
  assert.equal(j.v12?.http, true);
});

test('onebot: bad values are one line naming the setting, and never echo the token', () => {
  const bad = (f: () => unknown, re: RegExp) => assert.throws(f, (e: unknown) => e instanceof SettingsError && re.test(e.message));
  bad(() => loadSettings({ env: {}, flags: { onebot_v12_ws_reverse: ['http://x/'] } }), /invalid setting onebot_v12_ws_reverse: expected a ws\(s\) URL/);
  bad(() => loadSettings({ env: {}, configFile: file('onebot:\n  v11: { message_format: xml }\n') }), /invalid setting onebot: expected array or string/);
  bad(() => loadSettings({ env: {}, configFile: file('onebot:\n  v13: {}\n') }), /unknown setting v13/);
  for (const src of [{ flags: { onebot_access_token: 'short' } }, { configFile: file('onebot:\n  access_token: short\n') }, { configFile: file('onebot:\n  v11: { http: true, secret: short }\n') }]) {
    assert.throws(
      () => loadSettings({ env: {}, ...src }),
      (e: unknown) => e instanceof SettingsError && /at least 8 characters/.test(e.message) && !e.message.includes('short'),
    );
  }
});

test('onebot.v11: secret (the X-Signature key) and report_self_message', () => {
  const o = openwxOptionsOf(loadSettings({ env: {}, configFile: file('onebot:\n  v11: { http_post: [http://127.0.0.1:9/p], secret: sign-me-please, report_self_message: true }\n') })).onebot!;
  assert.equal(o.v11?.secret, 'sign-me-please');
  assert.equal(o.v11?.report_self_message, true);
  assert.throws(
    () => loadSettings({ env: {}, configFile: file('onebot:\n  v11: { http: true, report_self_message: maybe }\n') }),
    (e: unknown) => e instanceof SettingsError && /invalid setting onebot: expected true or false/.test(e.message),
  );
  // A secret with spaces at an end is refused without being printed.
  assert.throws(
    () => loadSettings({ env: {}, configFile: file('onebot:\n  v11: { http: true, secret: " padded-secret-1 " }\n') }),
    (e: unknown) => e instanceof SettingsError && !e.message.includes('padded-secret-1'),
  );
});
