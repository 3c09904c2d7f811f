/** Shared setup of the client e2e tests: a real sandbox on port 0 and a real Account pointed at it. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.ts';
import { Account } from '../../src/client/account.ts';
import type { ClientOptionsInput } from '../../src/client/options.ts';

export const silent = pino({ level: process.env['OPENWX_TEST_LOG'] ?? 'silent' });

export async function sandbox(o: SandboxOptions = {}): Promise<Sandbox> {
  return startSandbox({ port: 0, chatter: false, longPollMs: 300, autoLoginMs: 30, ...o });
}

export function tempDir(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'owx-client-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Fast, quiet defaults for tests; every value can be overridden. */
export function account(sb: Sandbox, dataDir: string, o: ClientOptionsInput = {}): Account {
  return new Account(
    {
      wechatOrigin: sb.url,
      dataDir,
      showQrInTerminal: false,
      sendIntervalMs: 0,
      sendBurst: 100,
      sendRefillMs: 1,
      backoffBaseMs: 20,
      backoffMaxMs: 200,
      loginPollTimeoutMs: 5000,
      syncCheckTimeoutMs: 5000,
      requestTimeoutMs: 5000,
      ...o,
    },
    { logger: silent, output: null },
  );
}
