import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { clientOptionsOf, loadSettings, mediaDirsOf, openwxOptionsOf, SECRET_SETTINGS, SETTING_NAMES, SettingsError } from '../../src/cli/config.ts';
import { parseClientOptions } from '../../src/client/options.ts';

const dir = mkdtempSync(join(tmpdir(), 'owx-config-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function err(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SettingsError, String(e));
    return e.message;
  }
  assert.fail('no error');
}

test('defaults', () => {
  const s = loadSettings({});
  assert.equal(s.host, '127.0.0.1');
  assert.equal(s.port, 3000);
  assert.equal(s.sandbox, false);
  assert.equal(s.sandbox_port, 5030);
  assert.equal(s.log_level, 'info');
  assert.equal(s.post_event, true);
  assert.deepEqual(s.post_event_list.slice(0, 4), ['login', 'stop', 'state_change', 'input_qrcode']);
  assert.equal(s.check_event_list_max_size, 20);
});

test('precedence: flags > env > file > defaults', () => {
  const cfg = file('a.yaml', 'port: 4000\nhost: 127.0.0.2\npost-api: http://file/post\nlog_level: warn\n');
  const env = { OPENWX_PORT: '5000', OPENWX_HOST: '127.0.0.3' };
  const s = loadSettings({ configFile: cfg, env, flags: { port: '6000' } });
  assert.equal(s.port, 6000);
  assert.equal(s.host, '127.0.0.3');
  assert.equal(s.post_api, 'http://file/post');
  assert.equal(s.log_level, 'warn');
  assert.equal(loadSettings({ env: { ...env, OPENWX_CONFIG: cfg } }).port, 5000, 'OPENWX_CONFIG names the file');
});

test('JSON config files, typed values, lists and objects', () => {
  const cfg = file('b.json', JSON.stringify({ port: 0, post_event_list: ['login', 'new_friend'], post_message_filter: { type: 'group_message' }, media_dirs: ['/tmp/m'] }));
  const s = loadSettings({ configFile: cfg, env: { OPENWX_POST_MEDIA_DATA: 'false', OPENWX_SANDBOX: 'world.json' } });
  assert.equal(s.port, 0);
  assert.deepEqual(s.post_event_list, ['login', 'new_friend']);
  assert.deepEqual(s.post_message_filter, { type: 'group_message' });
  assert.equal(s.post_media_data, false);
  assert.equal(s.sandbox, 'world.json');
  assert.equal(loadSettings({ env: { OPENWX_SANDBOX: '1' } }).sandbox, true);
  assert.deepEqual(loadSettings({ env: { OPENWX_POST_EVENT_LIST: 'login, stop' } }).post_event_list, ['login', 'stop']);
  assert.deepEqual(mediaDirsOf(s), ['/tmp/m']);
});

test('a bad value is one line naming the setting and the value', () => {
  assert.equal(err(() => loadSettings({ flags: { port: 'abc' } })), 'invalid setting port: expected integer 0-65535, got "abc"');
  assert.equal(err(() => loadSettings({ env: { OPENWX_PORT: '70000' } })), 'invalid setting port: expected integer 0-65535, got "70000"');
  assert.match(err(() => loadSettings({ flags: { post_api: 'ftp://x' } })), /^invalid setting post_api: expected an http\(s\) URL, got "ftp:\/\/x"$/);
  assert.match(err(() => loadSettings({ flags: { log_level: 'loud' } })), /^invalid setting log_level: expected one of trace, debug/);
  assert.match(err(() => loadSettings({ env: { OPENWX_QUIET: 'maybe' } })), /^invalid setting quiet: expected true or false, got "maybe"$/);
  assert.match(err(() => loadSettings({ flags: { token: 'short' } })), /^invalid setting token: expected a string of at least 8/);
  assert.match(err(() => loadSettings({ flags: { post_event_list: 'login,bogus' } })), /^invalid setting post_event_list: expected event names/);
  for (const m of [err(() => loadSettings({ flags: { port: 'abc' } }))]) assert.ok(!m.includes('\n'));
});

test('config file errors: unknown keys, bad syntax, missing file', () => {
  assert.equal(err(() => loadSettings({ configFile: file('c.yaml', 'prot: 1\n') })), `unknown setting prot in ${join(dir, 'c.yaml')}`);
  assert.match(err(() => loadSettings({ configFile: file('d.json', '{"port":') })), /^invalid setting config: .*d\.json is not valid JSON/);
  assert.match(err(() => loadSettings({ configFile: file('e.yaml', '- a\n- b\n') })), /must hold a mapping of settings/);
  assert.match(err(() => loadSettings({ configFile: join(dir, 'missing.yaml') })), /^invalid setting config: cannot read .*ENOENT/);
  assert.match(err(() => loadSettings({ configFile: file('f.yaml', 'port: [1]\n') })), /^invalid setting port: expected integer 0-65535, got \[1\]$/);
});

test('client and plugin options follow the settings, and the client accepts them', () => {
  const s = loadSettings({ flags: { data_dir: dir, send_interval_ms: '250', desktop_mode: false, wechat_origin: 'http://127.0.0.1:5030' } });
  const c = parseClientOptions(clientOptionsOf(s));
  assert.equal(c.dataDir, resolve(dir));
  assert.equal(c.sendIntervalMs, 250);
  assert.equal(c.desktopMode, false);
  assert.equal(c.wechatOrigin, 'http://127.0.0.1:5030');
  const o = openwxOptionsOf(s);
  assert.deepEqual(o.listen, [{ host: '127.0.0.1', port: 3000 }]);
  assert.deepEqual(o.mediaDirs, [resolve(dir, 'media')]);
});

test('delivery, history and security settings reach the plugin and client options', () => {
  const d = openwxOptionsOf(loadSettings({ flags: { data_dir: dir } }));
  assert.equal(d.dataDir, resolve(dir));
  assert.equal(d.postApiSecret, undefined);
  assert.equal(d.postMaxAttempts, 50);
  assert.equal(d.postMaxAgeMs, 24 * 3_600_000);
  assert.equal(d.historyRetentionDays, 30);
  assert.equal(d.accessTokenParam, false);
  assert.deepEqual(d.corsOrigins, []);
  assert.equal(d.jsonp, false);
  assert.equal(parseClientOptions(clientOptionsOf(loadSettings({}))).relogin, 'relogin');
  const cfg = file('sec.yaml', 'post_api_secret: a-long-webhook-secret\ncors_origins: [https://a.example, "*"]\njsonp: true\n');
  const s = loadSettings({
    configFile: cfg,
    env: { OPENWX_HISTORY_RETENTION_DAYS: '0', OPENWX_ACCESS_TOKEN_PARAM: 'yes', OPENWX_RELOGIN: 'stop', OPENWX_POST_API_CONCURRENCY: '1' },
    flags: { post_api_max_attempts: '7', post_api_max_age_hours: '2', post_api_backoff_base_ms: '10', post_api_backoff_max_ms: '20', post_api_timeout_ms: '3000', body_limit_bytes: '65536' },
  });
  const o = openwxOptionsOf(s);
  assert.equal(o.postApiSecret, 'a-long-webhook-secret');
  assert.deepEqual(o.corsOrigins, ['https://a.example', '*']);
  assert.equal(o.jsonp, true);
  assert.equal(o.historyRetentionDays, 0);
  assert.equal(o.accessTokenParam, true);
  assert.equal(o.postMaxAttempts, 7);
  assert.equal(o.postMaxAgeMs, 7_200_000);
  assert.equal(o.postBackoffBaseMs, 10);
  assert.equal(o.postBackoffMaxMs, 20);
  assert.equal(o.postTimeoutMs, 3000);
  assert.equal(o.postConcurrency, 1);
  assert.equal(openwxOptionsOf(loadSettings({})).postConcurrency, 8);
  assert.match(err(() => loadSettings({ flags: { post_api_concurrency: '0' } })), /^invalid setting post_api_concurrency/);
  assert.equal(o.bodyLimitBytes, 65536);
  assert.equal(parseClientOptions(clientOptionsOf(s)).relogin, 'stop');
  assert.deepEqual(loadSettings({ env: { OPENWX_CORS_ORIGINS: 'https://a.example,https://b.example:8443' } }).cors_origins, ['https://a.example', 'https://b.example:8443']);
  assert.match(err(() => loadSettings({ flags: { post_api_secret: 'short' } })), /^invalid setting post_api_secret: expected a string of at least 16 characters/);
  assert.match(err(() => loadSettings({ flags: { cors_origins: ['evil.example/path'] } })), /^invalid setting cors_origins: expected \* or origins/);
  assert.match(err(() => loadSettings({ flags: { relogin: 'maybe' } })), /^invalid setting relogin: expected relogin or stop/);
  assert.match(err(() => loadSettings({ flags: { post_api_max_attempts: '0' } })), /^invalid setting post_api_max_attempts: expected integer/);
});

/** A setting given through one source: a flag, an env var, or a YAML or JSON config file. */
function via(source: 'flag' | 'env' | 'yaml' | 'json', name: string, value: unknown) {
  if (source === 'flag') return { flags: { [name]: value } };
  if (source === 'env') return { env: { [`OPENWX_${name.toUpperCase()}`]: String(value) } };
  const text = source === 'json' ? JSON.stringify({ [name]: value }) : `${name}: ${JSON.stringify(value)}\n`;
  return { configFile: file(`${name}-${source}.${source}`, text) };
}

test('secret settings: surrounding whitespace is refused, and no error prints the value (flag, env, YAML, JSON)', () => {
  assert.deepEqual([...SECRET_SETTINGS].sort(), ['database_url', 'onebot_access_token', 'post_api_secret', 'token']);
  const min: Record<string, number> = { token: 8, post_api_secret: 16, onebot_access_token: 8 };
  // database_url is the controller's (a URL, not a minimum length): test/cluster/secrets.test.ts checks it.
  for (const name of [...SECRET_SETTINGS].filter((n) => n !== 'database_url')) {
    const good = 'Secret-Value-0123456789';
    for (const source of ['flag', 'env', 'yaml', 'json'] as const) {
      assert.equal((loadSettings(via(source, name, good)) as Record<string, unknown>)[name], good, `${name} via ${source}`);
      const bad: [string, string][] = [
        [` ${good}`, `expected no spaces or line breaks at either end, got a value of ${good.length + 1} characters`],
        [`${good}\n`, `expected no spaces or line breaks at either end, got a value of ${good.length + 1} characters`],
        [`\t${good} `, `expected no spaces or line breaks at either end, got a value of ${good.length + 2} characters`],
        ['Sh0rt', `expected a string of at least ${min[name]} characters, got a value of 5 characters`],
      ];
      for (const [value, message] of bad) {
        const m = err(() => loadSettings(via(source, name, value)));
        assert.equal(m, `invalid setting ${name}: ${message}`, `${name} via ${source}: ${JSON.stringify(value)}`);
        assert.ok(!m.includes(value.trim()), 'the value is not printed');
      }
    }
    // a config file can give a secret of another type: its kind is named, never its value
    assert.equal(err(() => loadSettings(via('yaml', name, 9876543210123456))), `invalid setting ${name}: expected a string of at least ${min[name]} characters, got a number`);
    assert.equal(err(() => loadSettings(via('json', name, ['Secret-Value-0123456789']))), `invalid setting ${name}: expected a string of at least ${min[name]} characters, got a list`);
    assert.equal(err(() => loadSettings(via('json', name, { k: 'Secret-Value-0123456789' }))), `invalid setting ${name}: expected a string of at least ${min[name]} characters, got a mapping`);
  }
});

test('every setting named like a secret is listed as one', () => {
  for (const name of SETTING_NAMES) {
    if (/token|secret|password|passwd|credential|api_key|private_key/.test(name) && name !== 'access_token_param') {
      assert.ok(SECRET_SETTINGS.has(name), `${name} looks like a secret: add it to SECRET_SETTINGS (src/cli/config.ts)`);
    }
  }
});

test('a bad URL setting is printed without its user:password and query values', () => {
  for (const source of ['flag', 'env', 'yaml'] as const) {
    assert.equal(err(() => loadSettings(via(source, 'post_api', 'ftp://bot:hunter22@example.com/in?key=k3y&x=1'))), 'invalid setting post_api: expected an http(s) URL, got "ftp://…@example.com/in?key=…&x=…"');
    assert.equal(err(() => loadSettings(via(source, 'wechat_origin', 'htp//bot:hunter22@example.com/?key=k3y'))), 'invalid setting wechat_origin: expected an http(s) URL, got "htp//…@example.com/?…"');
  }
  assert.equal(err(() => loadSettings({ flags: { post_api: 'not a url' } })), 'invalid setting post_api: expected an http(s) URL, got "not a url"');
});

test('a config file\'s syntax error says where, never quoting the file (which may hold a secret)', () => {
  const cases: [string, string, RegExp][] = [
    ['x1.json', '{"token": s3cret-value-1}', /is not valid JSON: unexpected token$/],
    ['x2.json', '{"token": "s3cret-value-1" x}', /is not valid JSON: Expected ',' or '}' after property value in JSON at position 27$/],
    ['x3.yaml', 'token: *s3cret-value-1\n', /is not valid YAML: an alias \(\*name\) without its anchor; quote a value that starts with \*$/],
    ['x4.yaml', 'token: "s3cret\\qvalue-1"\n', /is not valid YAML \(BAD_DQ_ESCAPE\) at line 1, column 15$/],
    ['x5.yaml', 'token: `s3cret-value-1\n', /is not valid YAML \(BAD_SCALAR_START\) at line 1, column 8$/],
  ];
  for (const [name, text, re] of cases) {
    const m = err(() => loadSettings({ configFile: file(name, text) }));
    assert.match(m, re, name);
    assert.ok(!/s3cret|value-1|\\q/.test(m), `${name}: ${m}`);
  }
});
