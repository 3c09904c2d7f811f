import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StateMachine, TRANSITIONS, canTransition, InvalidTransitionError } from '../../src/client/state.ts';
import { STATES, type ClientState } from '../../src/model/types.ts';

test('the Mojo path init → loading → scaning → confirming → updating → running → stop emits each change once', () => {
  const seen: [ClientState, ClientState][] = [];
  const sm = new StateMachine((a, b) => seen.push([a, b]));
  for (const s of ['loading', 'scaning', 'confirming', 'updating', 'running', 'stop'] as const) sm.to(s);
  assert.deepEqual(seen, [
    ['init', 'loading'], ['loading', 'scaning'], ['scaning', 'confirming'], ['confirming', 'updating'],
    ['updating', 'running'], ['running', 'stop'],
  ]);
  assert.equal(sm.previous, 'running');
});

test('a resumed session skips scaning/confirming; a relogin re-enters scaning; same-state moves are silent', () => {
  const seen: string[] = [];
  const sm = new StateMachine((a, b) => seen.push(`${a}>${b}`));
  sm.to('loading');
  sm.to('updating');
  sm.to('running');
  sm.to('running');
  sm.to('scaning');
  sm.to('scaning');
  sm.to('confirming');
  sm.to('scaning'); // cancelled on the phone
  assert.deepEqual(seen, ['init>loading', 'loading>updating', 'updating>running', 'running>scaning', 'scaning>confirming', 'confirming>scaning']);
});

test('invalid moves throw and leave the state unchanged', () => {
  const sm = new StateMachine(() => undefined);
  assert.throws(() => sm.to('running'), InvalidTransitionError);
  assert.equal(sm.state, 'init');
  sm.to('stop');
  assert.throws(() => sm.to('scaning'), /stop → scaning/);
  sm.to('loading'); // run() again after stop
  assert.equal(sm.state, 'loading');
});

test('the table covers every state and every state can stop', () => {
  for (const s of STATES) {
    assert.ok(TRANSITIONS[s], s);
    if (s !== 'stop') assert.ok(canTransition(s, 'stop'), `${s} → stop`);
    for (const t of TRANSITIONS[s]) assert.ok(STATES.includes(t));
  }
});
