/**
 * system.events$: a message that fails for good is reported once, with the code its caller saw;
 * a thunk's failed runs are reported with their attempt and whether it runs again, so alerting on
 * `message-failed` never fires for a message that succeeded in the end.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSystem, defineActor, memory, type System, type SystemEvent } from '../../src/index.js';
import { Account, mailbox } from '../fixtures/bank.js';

let system: System;
let events: SystemEvent[];

beforeEach(async () => {
  system = await createSystem({ backend: memory() });
  events = [];
  system.events$.subscribe((e) => events.push(e));
  mailbox.requests = [];
  mailbox.failNext = 0;
  mailbox.gate = undefined;
});
afterEach(() => system.close());

const Typo = defineActor({
  name: 'typo',
  initialState: () => ({ items: [] as string[] }),
  reducers: {
    push(state, item: string) {
      (state as unknown as { itemz: string[] }).itemz.push(item); // a TypeError, with no code
    },
    ok(state) {
      state.items.push('ok');
    },
  },
});

const summary = (e: SystemEvent) => ('attempt' in e ? { type: e.type, attempt: e.attempt, ...('willRetry' in e ? { willRetry: e.willRetry } : {}) } : { type: e.type, ...('attempts' in e ? { attempts: e.attempts } : {}) });

describe('events$ and dead letters', () => {
  it("a reducer's TypeError: the caller, the dead letter and the one event all carry reducer_failed", async () => {
    system.serve(Typo);
    const ref = system.ref(Typo, 't');
    await expect(ref.call.push('x')).rejects.toMatchObject({ name: 'TypeError', code: 'reducer_failed' });
    const [letter] = await system.admin.deadLetters(Typo, 't');
    expect(letter).toMatchObject({ error: { name: 'TypeError', code: 'reducer_failed' }, attempts: 1 });
    await ref.call.ok();
    expect(events.map(summary)).toEqual([{ type: 'message-failed', attempts: 1 }]);
    expect(events[0]).toMatchObject({ actor: 'typo', id: 't', action: 'push', policy: 'dead-letter', messageId: (letter!.message as { id: string }).id });
  });

  it('a thunk that fails twice, then succeeds: two thunk-failed with willRetry, one thunk-succeeded, no message-failed', async () => {
    system.serve(Account);
    mailbox.failNext = 2;
    await system.ref(Account, 'bob').call.sendStatement('bob@example.com');
    expect(events.map(summary)).toEqual([
      { type: 'thunk-failed', attempt: 1, willRetry: true },
      { type: 'thunk-failed', attempt: 2, willRetry: true },
      { type: 'thunk-succeeded', attempt: 3 },
    ]);
    expect(events[0]).toMatchObject({ actor: 'account', id: 'bob', action: 'sendStatement', thunk: 'mailStatement', error: { message: 'mail server unavailable' } });
  });

  it('a thunk that fails on every run: the last thunk-failed says it will not retry, then one message-failed', async () => {
    system.serve(Account);
    mailbox.failNext = 3;
    await expect(system.ref(Account, 'carol').call.sendStatement('carol@example.com')).rejects.toMatchObject({ code: 'thunk_failed' });
    expect(events.map(summary)).toEqual([
      { type: 'thunk-failed', attempt: 1, willRetry: true },
      { type: 'thunk-failed', attempt: 2, willRetry: true },
      { type: 'thunk-failed', attempt: 3, willRetry: false },
      { type: 'message-failed', attempts: 3 },
    ]);
    const [letter] = await system.admin.deadLetters(Account, 'carol');
    expect(letter).toMatchObject({ attempts: 3, error: { code: 'thunk_failed', message: 'mail server unavailable' } });
  });
});
