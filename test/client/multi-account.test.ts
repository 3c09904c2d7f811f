import { test } from 'node:test';
import assert from 'node:assert/strict';
import { account, sandbox, tempDir, testWorld } from './helpers.ts';
import { nextEvent } from '../helpers/wait-for.ts';
import type { Message } from '../../src/model/types.ts';

test('two accounts in one process stay independent (sessions, contacts, queues, files)', async () => {
  const [sb1, sb2] = await Promise.all([sandbox({ world: testWorld() }), sandbox({ pageHost: 'wx2.qq.com' })]);
  const t1 = tempDir();
  const t2 = tempDir();
  const a = account(sb1, t1.dir, { account: 'one' });
  const b = account(sb2, t2.dir, { account: 'two' });
  try {
    await Promise.all([a.run(), b.run()]);
    assert.equal(a.info().pageHost, 'wx.qq.com');
    assert.equal(b.info().pageHost, 'wx2.qq.com');
    assert.notEqual(a.user()!.id, b.user()!.id);
    const ga = nextEvent<[Message]>(a, 'receive_message');
    const gb = nextEvent<[Message]>(b, 'receive_message', () => true, 10_000);
    sb1.handle.inject({ type: 'text', from: 'Ann', content: 'for one' } as never);
    const fb = b.friends().find((f) => f.id.startsWith('@') && f.category === '好友')!;
    sb2.handle.inject({ type: 'text', from: fb.name, content: 'for two' } as never);
    assert.equal((await ga)[0].content, 'for one');
    assert.equal((await gb)[0].content, 'for two');
    await a.stop();
    assert.equal(b.state, 'running');
    assert.equal((await b.sendText(fb.id, 'still here')).code, 0);
    // the same Account object runs again after a stop: the saved session resumes
    const again = nextEvent(a, 'login');
    await a.run();
    assert.deepEqual(await again, [0]);
    assert.equal(a.state, 'running');
  } finally {
    await a.stop();
    await b.stop();
    await sb1.close();
    await sb2.close();
    t1.cleanup();
    t2.cleanup();
  }
});
