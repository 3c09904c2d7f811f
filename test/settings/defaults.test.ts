/**
 * One source of defaults (src/settings/defaults.ts): the settings schemas give exactly SETTING_DEFAULTS (and the
 * Controller's CONTROLLER_DEFAULTS) as their defaults, so a setting cannot get a default of its own in the schema
 * that the library options, the delivery and the client would not share; and the layers below the command take
 * theirs from the same object.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { clientOptionsOf, SettingsSchema } from '../../src/cli/config.ts';
import { ControllerSettingsSchema, DEFAULT_CONTROLLER_PORT } from '../../src/cli/layers.ts';
import { parseClientOptions } from '../../src/client/options.ts';
import { listenAddresses, resolveOptions } from '../../src/api/options.ts';
import { DEFAULT_MAX_CLIENTS } from '../../src/host/host.ts';
import { CLUSTER_DEFAULTS, CONTROLLER_DEFAULTS, HOUR_MS, SETTING_DEFAULTS } from '../../src/settings/defaults.ts';

/** The settings a parse of nothing fills in (the schema's defaults), without the ones it leaves absent. */
function schemaDefaults(parsed: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(parsed).filter(([, v]) => v !== undefined));
}

test('the settings schema defaults are SETTING_DEFAULTS, no more, no less', () => {
  const got = schemaDefaults(SettingsSchema.parse({}) as Record<string, unknown>);
  assert.deepEqual(Object.keys(got).sort(), Object.keys(SETTING_DEFAULTS).sort(), 'settings with a default = keys of SETTING_DEFAULTS');
  for (const [k, v] of Object.entries(got)) assert.deepEqual(v, (SETTING_DEFAULTS as Record<string, unknown>)[k], `default of ${k}`);
});

test('the controller schema: its own defaults are CONTROLLER_DEFAULTS and CLUSTER_DEFAULTS, the rest SETTING_DEFAULTS', () => {
  const got = schemaDefaults(ControllerSettingsSchema.parse({}) as Record<string, unknown>);
  const { account: _a, ...shared } = SETTING_DEFAULTS;
  const want: Record<string, unknown> = { ...shared, ...CONTROLLER_DEFAULTS, ...CLUSTER_DEFAULTS, clients: [] };
  assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort());
  for (const [k, v] of Object.entries(got)) assert.deepEqual(v, want[k], `default of ${k}`);
  assert.equal(DEFAULT_CONTROLLER_PORT, CONTROLLER_DEFAULTS.port);
  assert.equal(DEFAULT_MAX_CLIENTS, CONTROLLER_DEFAULTS.max_clients, "the host's max clients");
});

test('the library options without settings are the defaults of the settings they are named after', () => {
  const r = resolveOptions({});
  const D = SETTING_DEFAULTS;
  assert.deepEqual(
    {
      postEvent: r.postEvent,
      postEventList: [...r.postEventList],
      postMediaData: r.postMediaData,
      checkEventMax: r.checkEventMax,
      stopDelayMs: r.stopDelayMs,
      broadcastMax: r.broadcastMax,
      bodyLimitBytes: r.bodyLimitBytes,
      postTimeoutMs: r.postTimeoutMs,
      logLevel: r.logLevel,
      postMaxAttempts: r.postMaxAttempts,
      postMaxAgeMs: r.postMaxAgeMs,
      postBackoffBaseMs: r.postBackoffBaseMs,
      postBackoffMaxMs: r.postBackoffMaxMs,
      postConcurrency: r.postConcurrency,
      postOrder: r.postOrder,
      postHoldMs: r.postHoldMs,
      postRejectedMaxAttempts: r.postRejectedMaxAttempts,
      historyRetentionDays: r.historyRetentionDays,
      accessTokenParam: r.accessTokenParam,
      jsonp: r.jsonp,
      requestTimeoutMs: r.requestTimeoutMs,
      headersTimeoutMs: r.headersTimeoutMs,
      connectionsMax: r.connectionsMax,
      listen: listenAddresses({}),
    },
    {
      postEvent: D.post_event,
      postEventList: [...D.post_event_list],
      postMediaData: D.post_media_data,
      checkEventMax: D.check_event_list_max_size,
      stopDelayMs: D.stop_delay_ms,
      broadcastMax: D.broadcast_max,
      bodyLimitBytes: D.body_limit_bytes,
      postTimeoutMs: D.post_api_timeout_ms,
      logLevel: D.log_level,
      postMaxAttempts: D.post_api_max_attempts,
      postMaxAgeMs: D.post_api_max_age_hours * HOUR_MS,
      postBackoffBaseMs: D.post_api_backoff_base_ms,
      postBackoffMaxMs: D.post_api_backoff_max_ms,
      postConcurrency: D.post_api_concurrency,
      postOrder: D.post_api_order,
      postHoldMs: D.post_api_hold_ms,
      postRejectedMaxAttempts: D.post_api_rejected_max_attempts,
      historyRetentionDays: D.history_retention_days,
      accessTokenParam: D.access_token_param,
      jsonp: D.jsonp,
      requestTimeoutMs: D.request_timeout_ms,
      headersTimeoutMs: D.headers_timeout_ms,
      connectionsMax: D.connections_max,
      listen: [{ host: D.host, port: D.port }],
    },
  );
});

test("the client's options without settings are the command's", () => {
  const bare = parseClientOptions({});
  const command = parseClientOptions(clientOptionsOf(SettingsSchema.parse({})));
  for (const k of ['account', 'downloadMedia', 'desktopMode', 'relogin', 'allowPrivateMediaUrls', 'sendIntervalMs'] as const) {
    assert.deepEqual(bare[k], command[k], `client default of ${k}`);
  }
  assert.equal(resolve(bare.dataDir), command.dataDir, 'data folder (the command resolves it)');
});
