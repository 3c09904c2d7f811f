/**
 * Headless Chromium for end-to-end tests of the web pages: Debian's `chromium` driven by playwright-core (no
 * browser download). `.ci/run` installs it; on a machine without it the test fails and says how to install it.
 * Screenshots go to `test-artifacts/` (gitignored).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env['OPENWX_CHROMIUM'] ?? '/usr/bin/chromium';
export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Saves `test-artifacts/<dir>/<name>.png` and returns its path. */
  shot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** Launches Chromium with a fresh profile; throws with install instructions when it is missing. */
export async function launchBrowser(artifactDir: string): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}: the console tests need it. Install it with ` +
        '`apt-get update && apt-get install -y chromium` (Debian/Ubuntu; .ci/run does this), or set OPENWX_CHROMIUM to a Chromium binary.',
    );
  }
  const profile = mkdtempSync(join(tmpdir(), 'owx-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1200, height: 900 },
    locale: 'zh-CN',
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const dir = join(ARTIFACTS, artifactDir);
  mkdirSync(dir, { recursive: true });
  return {
    context,
    page,
    async shot(name) {
      const path = join(dir, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
