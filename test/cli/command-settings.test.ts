/**
 * The real `openwx` command (bin/openwx.js on dist/): a --host that only looks like loopback needs a token;
 * settings errors never print a secret.
 * (Split from one file so that each stays well inside the runner's per-file time limit on a loaded machine.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, startCommand, tmp } from './real-command.ts';

test('a --host name that starts with "127." is not loopback: without a token it is refused (exit 2)', async () => {
  const dir = tmp();
  try {
    for (const host of ['127.evil.example', '127.0.0.1.nip.io']) {
      const cmd = startCommand(['--host', host, '--port', '0', '--data-dir', dir, '--log-level', 'silent']);
      assert.equal(await cmd.exited, 2, `${host}: ${cmd.err()}`);
      assert.equal(cmd.err(), `openwx: cannot start: invalid setting: host ${host} is reachable from other machines: set a token (--token) or --insecure-no-auth\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad secret setting is refused in one line that never prints its value (flag, env, config file)', async () => {
  const dir = tmp();
  try {
    const cases: { args: string[]; env?: Record<string, string>; secret: string; line: string }[] = [
      { args: ['--token', ' padded-token-value '], secret: 'padded-token-value', line: 'invalid setting token: expected no spaces or line breaks at either end, got a value of 20 characters' },
      { args: [], env: { OPENWX_TOKEN: 'shorty' }, secret: 'shorty', line: 'invalid setting token: expected a string of at least 8 characters, got a value of 6 characters' },
      { args: ['--post-api-secret', 'too-short-sec'], secret: 'too-short-sec', line: 'invalid setting post_api_secret: expected a string of at least 16 characters, got a value of 13 characters' },
      { args: [], env: { OPENWX_POST_API_SECRET: 'signing-secret-from-env\n' }, secret: 'signing-secret-from-env', line: 'invalid setting post_api_secret: expected no spaces or line breaks at either end, got a value of 24 characters' },
    ];
    const json = join(dir, 'openwx.json');
    writeFileSync(json, JSON.stringify({ token: 'file-token-value\t' }));
    cases.push({ args: ['--config', json], secret: 'file-token-value', line: 'invalid setting token: expected no spaces or line breaks at either end, got a value of 17 characters' });
    const yaml = join(dir, 'openwx.yaml');
    writeFileSync(yaml, 'post_api_secret: short-yaml-sec\n');
    cases.push({ args: [], env: { OPENWX_CONFIG: yaml }, secret: 'short-yaml-sec', line: 'invalid setting post_api_secret: expected a string of at least 16 characters, got a value of 14 characters' });
    for (const c of cases) {
      const cmd = startCommand([...c.args, '--port', '0', '--data-dir', dir], cleanEnv(c.env));
      assert.equal(await cmd.exited, 2, cmd.err());
      assert.equal(cmd.err(), `openwx: ${c.line}\n`);
      assert.ok(!cmd.err().includes(c.secret) && !cmd.out().includes(c.secret), 'the value is not printed');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
