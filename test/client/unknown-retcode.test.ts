/**
 * A streak of retcodes the receive loop does not know (a real capture: webwxsync `Ret 3` with empty lists for hours)
 * must not spin the loop: it backs off exponentially up to a cap, logs one warning per streak and one info line when
 * it ends, and counts toward `unknownRetcodeLimit`. Time is the account's injected fake clock, so the streak's
 * minutes of pauses take no real time: the test advances the clock to each pause's end and counts what the sandbox
 * received in between.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Account } from '../../src/client/account.ts';
import type { ClientOptionsInput } from '../../src/client/options.ts';
import type { Message } from '../../src/model/types.ts';
import type { Sandbox } from '../../src/sandbox/index.ts';
import { Path } from '../../src/wire/paths.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { nextEvent, waitFor } from '../helpers/wait-for.ts';
import { recordingProxy, sandbox, tempDir, testWorld } from './helpers.ts';

interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

const WARN = 40;
const INFO = 30;

/** A sandbox, a recording proxy counting synccheck/webwxsync calls, and an account on a fake clock logging to `lines`. */
async function setup(o: ClientOptionsInput) {
  const sb = await sandbox({ world: testWorld() });
  const calls = { synccheck: 0, webwxsync: 0 };
  const proxy = await recordingProxy(sb, {
    request(req) {
      const path = (req.url ?? '').split('?')[0];
      if (path === Path.syncCheck) calls.synccheck++;
      else if (path === Path.sync) calls.webwxsync++;
    },
  });
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) lines.push(JSON.parse(l) as LogLine);
      cb();
    },
  });
  const clock = new FakeClock(Date.now());
  const tmp = tempDir();
  const a = new Account(
    {
      wechatOrigin: proxy.url,
      dataDir: tmp.dir,
      showQrInTerminal: false,
      sendIntervalMs: 0,
      loginPollTimeoutMs: 5000,
      syncCheckTimeoutMs: 5000,
      requestTimeoutMs: 5000,
      // the login's session save is run below by advancing the fake clock past it
      sessionSaveIntervalMs: 1000,
      ...o,
    },
    { logger: pino({ level: 'debug' }, sink), output: null, clock },
  );
  await a.run();
  // the receive loop is alive; then the session save timer of the login's syncs is run, so that from here on the
  // only timer on the fake clock is the loop's own pause
  const { msgIds } = sb.handle.inject({ type: 'text', from: 'Ann', content: 'before the streak' } as never);
  await nextEvent<[Message]>(a, 'receive_message', (m) => m.id === msgIds[0]);
  await clock.advance(1000);
  assert.equal(clock.pending, 0, 'no timer of the account is pending before the streak');
  const close = async () => {
    await a.stop();
    proxy.server.closeAllConnections();
    await new Promise((r) => proxy.server.close(r));
    await sb.close();
    tmp.cleanup();
  };
  return { sb, a, clock, calls, lines, close };
}

type Setup = Awaited<ReturnType<typeof setup>>;

/**
 * Drives a streak of `n` unknown retcodes on `endpoint`: after each one the loop must be parked in a pause on the
 * fake clock with exactly one more call made; the clock is then moved to the pause's end. Returns the pauses (ms).
 */
async function driveStreak(s: Setup, endpoint: 'synccheck' | 'webwxsync', n: number): Promise<number[]> {
  const base = s.calls[endpoint];
  const pauses: number[] = [];
  for (let i = 1; i <= n; i++) {
    await waitFor(() => s.calls[endpoint] - base >= i && s.clock.pending > 0, `unknown retcode #${i} and the pause after it`);
    assert.equal(s.calls[endpoint] - base, i, `${endpoint} was called ${s.calls[endpoint] - base} times while the clock stood still (expected ${i})`);
    const pause = s.clock.nextAt()! - s.clock.now();
    pauses.push(pause);
    await s.clock.advance(pause);
  }
  return pauses;
}

/** The pause after the i-th (0-based) unknown retcode: min(max, base·2^i), randomised within [d/2, d]. */
function assertPauses(pauses: number[], baseMs: number, maxMs: number): void {
  pauses.forEach((p, i) => {
    const d = Math.min(maxMs, baseMs * 2 ** i);
    assert.ok(p >= d / 2 && p <= d, `pause ${i + 1} is ${p} ms, expected within [${d / 2}, ${d}]`);
  });
  assert.equal(Math.max(...pauses.slice(-3)) <= maxMs, true);
}

const streakWarnings = (lines: LogLine[]) => lines.filter((l) => l.level === WARN && /does not know/.test(l.msg));
const streakEnds = (lines: LogLine[]) => lines.filter((l) => l.level === INFO && /streak ended/.test(l.msg));

test('webwxsync Ret 3 for a long streak: exponential pauses up to the cap, bounded call rate, one warning, one info at the end', async () => {
  const s = await setup({ unknownRetcodeLimit: 100 });
  try {
    const K = 12;
    s.sb.handle.fault({ endpoint: 'webwxsync', ret: 3, times: K });
    const before = { ...s.calls };
    const { msgIds } = s.sb.handle.inject({ type: 'text', from: 'Ann', content: 'after the streak' } as never);
    const got = nextEvent<[Message]>(s.a, 'receive_message', (m) => m.id === msgIds[0], 15_000);
    const pauses = await driveStreak(s, 'webwxsync', K);
    // defaults: 1 s doubling to 60 s
    assertPauses(pauses, 1000, 60_000);
    assert.ok(pauses.filter((p) => p >= 30_000).length >= 4, `the cap is reached: ${pauses.join(', ')}`);
    await got; // the (K+1)-th webwxsync answers Ret 0 and the message arrives
    const simulatedMs = pauses.reduce((x, y) => x + y, 0);
    const webwxsync = s.calls.webwxsync - before.webwxsync;
    const synccheck = s.calls.synccheck - before.synccheck;
    assert.equal(webwxsync, K + 1, 'one webwxsync per pause, plus the one that ended the streak');
    assert.ok(synccheck <= K + 1, `one synccheck per pause at most (got ${synccheck})`);
    // the rate over the streak: 13 calls in ≥ 4.5 simulated minutes (the spin was ~24 calls/s)
    assert.ok(simulatedMs >= 0.5 * (1 + 2 + 4 + 8 + 16 + 32 + 6 * 60) * 1000, `${simulatedMs} ms`);
    assert.ok(((webwxsync + synccheck) / simulatedMs) * 1000 < 0.1, 'fewer than 0.1 calls/s over the streak');
    assert.equal(streakWarnings(s.lines).length, 1, 'one warning for the whole streak');
    assert.equal(streakEnds(s.lines).length, 1, 'one info line when it ends');
    const w = streakWarnings(s.lines)[0]!;
    assert.equal(w['ret'], 3);
    assert.equal(w['where'], 'webwxsync');
    assert.equal(streakEnds(s.lines)[0]!['unknownRetcodes'], K);
    assert.equal(s.a.state, 'running');
  } finally {
    await s.close();
  }
});

test('an unknown synccheck retcode streak backs off exponentially too (not a fixed pause per call)', async () => {
  const s = await setup({ unknownRetcodeLimit: 100, unknownRetcodeBackoffBaseMs: 500, unknownRetcodeBackoffMaxMs: 8000 });
  try {
    const K = 8;
    s.sb.handle.fault({ endpoint: 'synccheck', ret: 3, times: K });
    const pauses = await driveStreak(s, 'synccheck', K);
    assertPauses(pauses, 500, 8000);
    const { msgIds } = s.sb.handle.inject({ type: 'text', from: 'Ann', content: 'after the synccheck streak' } as never);
    await nextEvent<[Message]>(s.a, 'receive_message', (m) => m.id === msgIds[0], 15_000);
    await waitFor(() => streakEnds(s.lines).length === 1, 'the info line of the streak end');
    assert.equal(streakWarnings(s.lines).length, 1);
    assert.equal(streakWarnings(s.lines)[0]!['where'], 'synccheck');
  } finally {
    await s.close();
  }
});

test('unknown retcodes of synccheck and webwxsync form one streak that counts toward unknownRetcodeLimit', async () => {
  const s = await setup({ unknownRetcodeLimit: 3, relogin: 'stop' });
  try {
    const logout = nextEvent<[string, number]>(s.a, 'logout', () => true, 15_000);
    let loggedOut = false;
    void logout.then(() => (loggedOut = true), () => undefined);
    s.sb.handle.fault({ endpoint: 'webwxsync', ret: 3, times: 10 });
    s.sb.handle.fault({ endpoint: 'synccheck', ret: 3, times: 10 });
    s.sb.handle.inject({ type: 'text', from: 'Ann', content: 'wakes the poll' } as never);
    for (let i = 0; i < 5 && !loggedOut; i++) {
      await waitFor(() => loggedOut || s.clock.pending > 0, 'a pause or the logout');
      if (!loggedOut) await s.clock.advance(s.clock.nextAt()! - s.clock.now());
    }
    const [reason, ret] = await logout;
    assert.equal(ret, 3);
    assert.match(reason, /retcode 3/);
    await waitFor(() => s.a.state === 'stop', 'stopped (relogin: stop)');
    const limit = s.lines.filter((l) => l.level === WARN && /unknownRetcodeLimit/.test(l.msg));
    assert.equal(limit.length, 1);
    assert.equal(limit[0]!['count'], 3);
    // the webwxsync Ret 3 (the injected message woke the poll) began it, synccheck retcodes continued it
    assert.equal(streakWarnings(s.lines).length, 1);
    assert.equal(streakWarnings(s.lines)[0]!['where'], 'webwxsync');
  } finally {
    await s.close();
  }
});
