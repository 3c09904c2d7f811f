/**
 * README's settings table matches the settings schema and the flag table: every setting has a row, its flag is the
 * one both commands define (src/cli/flags.ts), its env var is OPENWX_<NAME>, and a plain default (number, boolean,
 * `string`) is the schema's. And every account-layer setting is a setting start_client can override.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { envName, SETTING_NAMES, SettingsSchema } from '../../src/cli/config.ts';
import { addSettingFlags, SETTING_FLAGS } from '../../src/cli/flags.ts';
import { SETTING_DEFAULTS } from '../../src/settings/defaults.ts';
import { ACCOUNT_SETTING_NAMES, PROCESS_SETTING_NAMES } from '../../src/cli/layers.ts';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

function rows(): Map<string, { flag: string; env: string; dflt: string }> {
  const out = new Map<string, { flag: string; env: string; dflt: string }>();
  for (const line of README.split('\n')) {
    const m = /^\| `([a-z0-9_]+)` \| ([^|]*) \| ([^|]*) \| ([^|]*) \|/.exec(line);
    if (m) out.set(m[1]!, { flag: m[2]!.trim(), env: m[3]!.trim(), dflt: m[4]!.trim() });
  }
  return out;
}

test('README settings table: one row per setting, its flag, env name and plain default as the code has them', () => {
  const table = rows();
  const defaults = SettingsSchema.parse({}) as Record<string, unknown>;
  assert.deepEqual([...table.keys()].sort(), [...SETTING_NAMES].sort(), 'rows = settings');
  for (const name of SETTING_NAMES) {
    const row = table.get(name)!;
    const spec = SETTING_FLAGS[name];
    assert.ok(spec, `setting ${name} has a flag`);
    const long = new Option(spec.flags).long!;
    assert.equal(/`(--[a-z0-9-]+)/.exec(row.flag)?.[1], long, `flag of ${name}`);
    assert.equal(/`(OPENWX_[A-Z0-9_]+)`/.exec(row.env)?.[1], envName(name), `env of ${name}`);
    const plain = /^(`([^`]*)`|-?\d+|true|false)$/.exec(row.dflt);
    // A computed default (undefined in the schema: <data_dir>/media, the client's) is described, not compared.
    if (plain && defaults[name] !== undefined) assert.equal(plain[2] ?? plain[1], String(defaults[name]), `default of ${name}`);
  }
});

test('--help: a plain default (number, string) is the schema\'s, appended to the help line, never written in it', () => {
  const defaults = SettingsSchema.parse({}) as Record<string, unknown>;
  for (const name of SETTING_NAMES) {
    const spec = SETTING_FLAGS[name]!;
    const d = defaults[name];
    if (typeof d === 'number' || (typeof d === 'string' && d !== '')) {
      assert.doesNotMatch(spec.help, /\bdefault\b/, `the help of ${name} states a default by hand (the schema's is ${JSON.stringify(d)})`);
    }
  }
  const cmd = new Command();
  addSettingFlags(cmd, SETTING_NAMES, defaults);
  const help = (long: string) => cmd.options.find((o) => o.long === long)?.description;
  assert.equal(help('--relogin'), `after WeChat logs the session out: relogin or stop (default ${SETTING_DEFAULTS.relogin})`);
  assert.equal(help('--post-api-order'), `bounded or strict: how long a failing report holds the ones behind it (default ${SETTING_DEFAULTS.post_api_order})`);
  assert.equal(help('--port'), `API port (0 = any free port) (default ${SETTING_DEFAULTS.port})`);
});

test('settings layers: account and process layers split every setting of the controller', () => {
  const all = new Set<string>([...ACCOUNT_SETTING_NAMES, ...PROCESS_SETTING_NAMES, 'account']);
  assert.deepEqual([...all].sort(), [...SETTING_NAMES].sort());
  for (const n of ACCOUNT_SETTING_NAMES) assert.ok(!(PROCESS_SETTING_NAMES as string[]).includes(n), `${n} in one layer only`);
});
