import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { SendQueue, type SendQueueOptions } from '../../src/client/send-queue.ts';
import { Timers } from '../../src/client/clock.ts';
import { owxError, isOpenwxError } from '../../src/errors.ts';
import { FakeClock, flush } from '../helpers/fake-clock.ts';

const logger = pino({ level: 'silent' });
const base: SendQueueOptions = {
  sendIntervalMs: 1000, sendBurst: 3, sendRefillMs: 5000, rateLimitBackoffMs: 10_000, rateLimitBackoffMaxMs: 40_000, rateLimitRetries: 2,
};

function setup(o: Partial<SendQueueOptions> = {}) {
  const clock = new FakeClock();
  const timers = new Timers(clock);
  const q = new SendQueue({ ...base, ...o }, timers, logger);
  const starts: number[] = [];
  const job = (v: number) => () => {
    starts.push(clock.now());
    return Promise.resolve(v);
  };
  return { clock, timers, q, starts, job, t0: clock.now() };
}

test('sends are FIFO and spaced by sendIntervalMs', async () => {
  const { clock, q, starts, job, t0 } = setup({ sendBurst: 10 });
  const results: number[] = [];
  const all = [1, 2, 3].map((i) => q.enqueue(`s${i}`, job(i)).then((v) => results.push(v)));
  await clock.advance(5000);
  await Promise.all(all);
  assert.deepEqual(results, [1, 2, 3]);
  assert.deepEqual(starts.map((s) => s - t0), [0, 1000, 2000]);
});

test('the token bucket allows a burst, then one send per sendRefillMs', async () => {
  const { clock, q, starts, job, t0 } = setup({ sendIntervalMs: 0, sendBurst: 3, sendRefillMs: 5000 });
  const all = [1, 2, 3, 4, 5].map((i) => q.enqueue(`s${i}`, job(i)));
  await clock.advance(20_000);
  await Promise.all(all);
  assert.deepEqual(starts.map((s) => s - t0), [0, 0, 0, 5000, 10_000]);
});

test('Ret 1205 pauses the queue with doubling backoff, retries the send, and fails it after rateLimitRetries', async () => {
  const { clock, q, starts, t0 } = setup({ sendIntervalMs: 0, sendBurst: 100, sendRefillMs: 1 });
  let calls = 0;
  const limited = () => {
    starts.push(clock.now());
    calls++;
    return Promise.reject(owxError('OWX_ERR_WX_RATE_LIMITED', [], { ret: 1205 }));
  };
  const p = q.enqueue('limited', limited);
  let err: unknown;
  p.catch((e) => (err = e));
  await clock.advance(100_000);
  assert.equal(calls, 3); // first try + 2 retries
  assert.ok(isOpenwxError(err, 'OWX_ERR_WX_RATE_LIMITED'));
  assert.deepEqual(starts.map((s) => s - t0), [0, 10_000, 30_000]);
  // the streak keeps the pause high for the next send, then success resets it
  const ok = q.enqueue('next', () => Promise.resolve('ok'));
  await clock.advance(100_000);
  assert.equal(await ok, 'ok');
});

test('a 1205 followed by success delivers the result after the pause', async () => {
  const { clock, q, t0 } = setup({ sendIntervalMs: 0 });
  let n = 0;
  const at: number[] = [];
  const p = q.enqueue('flaky', () => {
    at.push(clock.now() - t0);
    return ++n === 1 ? Promise.reject(owxError('OWX_ERR_WX_RATE_LIMITED')) : Promise.resolve('sent');
  });
  await clock.advance(15_000);
  assert.equal(await p, 'sent');
  assert.deepEqual(at, [0, 10_000]);
});

test('other errors reject only their send; close() rejects waiting sends and refuses new ones', async () => {
  const { clock, q } = setup({ sendIntervalMs: 1000 });
  const bad = q.enqueue('bad', () => Promise.reject(new Error('boom')));
  const waiting = q.enqueue('waiting', () => Promise.resolve(1));
  await assert.rejects(bad, /boom/);
  await flush();
  q.close();
  await assert.rejects(waiting, (e: unknown) => isOpenwxError(e, 'OWX_ERR_STOPPED'));
  await assert.rejects(q.enqueue('late', () => Promise.resolve(2)), (e: unknown) => isOpenwxError(e, 'OWX_ERR_STOPPED'));
  await clock.advance(5000);
});
