/**
 * What counts as loopback for the `--host` setting (src/api/options.ts isLoopback): without a token the API may only
 * listen on loopback, so a name that merely looks like a loopback address must not pass. The command-level check
 * (exit 2 for `--host 127.evil.example`) is in command.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLoopback } from '../../src/api/options.ts';
import { checkAuthSetting } from '../../src/host/index.ts';

test('loopback: 127.0.0.0/8, ::1 and ::ffff:127.x.x.x in any spelling, and the name localhost', () => {
  for (const host of ['127.0.0.1', '127.0.0.2', '127.255.255.254', '::1', '0:0:0:0:0:0:0:1', '::0:1', '::ffff:127.0.0.1', '::FFFF:127.1.2.3', '::ffff:7f00:1', '::1%lo', 'localhost', 'LOCALHOST']) {
    assert.equal(isLoopback(host), true, host);
  }
});

test('not loopback: names that start with 127. or localhost, other addresses, shortened IPv4 forms', () => {
  for (const host of ['127.evil.example', '127.0.0.1.nip.io', '127.0.0.1.', '127.1', '0127.0.0.1', 'localhost.evil.example', 'evil-localhost', '0.0.0.0', '::', '::ffff:10.0.0.1', '::ffff:0.0.0.0', '10.0.0.1', '128.0.0.1', '::2', 'fe80::1', '']) {
    assert.equal(isLoopback(host), false, host);
  }
});

test('a host that only looks like loopback needs a token (or insecureNoAuth)', () => {
  assert.throws(() => checkAuthSetting({ listen: [{ host: '127.evil.example', port: 0 }] }), /host 127\.evil\.example is reachable from other machines/);
  assert.doesNotThrow(() => checkAuthSetting({ listen: [{ host: '127.evil.example', port: 0 }], token: 'a-long-token' }));
  assert.doesNotThrow(() => checkAuthSetting({ listen: [{ host: '::ffff:127.0.0.1', port: 0 }] }));
});
