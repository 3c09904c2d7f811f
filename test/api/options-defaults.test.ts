/**
 * The library's defaults (startOpenwx / load('Openwx') without settings: resolveOptions) are the command's (the
 * settings schema's), so a bot built on the library behaves as `openwx` does. Folders are the exception: the command
 * resolves them under its data_dir.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveOptions } from '../../src/api/options.ts';
import { openwxOptionsOf, SettingsSchema } from '../../src/cli/config.ts';

test('resolveOptions({}) has the settings schema defaults', () => {
  const bare = resolveOptions({}) as unknown as Record<string, unknown>;
  const command = resolveOptions(openwxOptionsOf(SettingsSchema.parse({}))) as unknown as Record<string, unknown>;
  const folders = new Set(['mediaDirs', 'dataDir']);
  for (const [k, v] of Object.entries(bare)) {
    if (folders.has(k)) continue;
    assert.deepEqual(v, command[k], `default of ${k}`);
  }
});
