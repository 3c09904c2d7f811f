import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const root = new URL('../../', import.meta.url);
const shebang = readFileSync(new URL('bin/openwx.js', root), 'utf8').split('\n', 1)[0]!;

test('bin/openwx.js, npm start and npm run demo run node with the same V8 flags, and node accepts them', () => {
  const m = /^#!\/usr\/bin\/env -S node\s+(.+)$/.exec(shebang);
  assert.ok(m, `shebang carries the flags: ${shebang}`);
  const flags = m[1]!.trim();
  assert.match(flags, /--max-semi-space-size=\d+/);
  const scripts = (JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string> }).scripts;
  assert.equal(scripts['start'], `node ${flags} dist/cli/main.js`);
  assert.equal(scripts['demo'], `node ${flags} dist/cli/main.js --sandbox`);
  const r = spawnSync(process.execPath, [...flags.split(/\s+/), '-e', 'process.exit(0)'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});
