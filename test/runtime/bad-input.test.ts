/**
 * Bad input, table-driven: each case is answered by a typed error with a stable code, and what is
 * stored is unchanged (the whole store for input refused at the boundary, the actor's state for
 * input that fails while processing).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DgenError, createSystem, defineActor, memory, type MemoryBackend, type System } from '../../src/index.js';
import { Layout } from '../../src/store/keys.js';
import { Counter } from '../fixtures/actors.js';

class Point {
  constructor(readonly x: number) {}
}

const Bad = defineActor({
  name: 'bad',
  initialState: () => ({ n: 0, data: {} as Record<string, unknown> }),
  reducers: {
    ok(state) {
      state.n += 1;
    },
    storeFunction(state) {
      state.data.f = () => 1;
    },
    storeSymbol(state) {
      state.data.s = Symbol('s');
    },
    storeClass(state) {
      state.data.p = new Point(1);
    },
    storeCycle(state) {
      const a: Record<string, unknown> = {};
      a.self = a;
      state.data.a = a;
    },
    storeHugeKey(state) {
      state.data['k'.repeat(20_000)] = 1;
    },
    returnAndMutate(state) {
      state.n = 99;
      return { n: 100, data: {} };
    },
    replyFunction(_state, _: void, ctx) {
      return ctx.reply(() => 1);
    },
    lockUnknown(_state, _: void, ctx) {
      ctx.lock('nope');
    },
    lockTwice(_state, _: void, ctx) {
      ctx.lock('noop');
      ctx.lock('noop');
    },
    lockBadArgs(_state, _: void, ctx) {
      ctx.lock('noop', { f: () => 1 });
    },
    sendUnknownAction(_state, _: void, ctx) {
      (ctx.send(Counter, 'x') as unknown as Record<string, (p?: unknown) => void>)['nope']!();
    },
    sendBadId(_state, _: void, ctx) {
      ctx.send(Counter, '').increment(1);
    },
    sendBadPayload(_state, _: void, ctx) {
      ctx.send(Counter, 'x').increment(Symbol('s') as unknown as number);
    },
    scheduleNegative(_state, _: void, ctx) {
      ctx.schedule({ delay: -1 }).ok();
    },
    scheduleEmptyKey(_state, _: void, ctx) {
      ctx.schedule({ delay: 1_000, key: '' }).ok();
    },
    scheduleLongKey(_state, _: void, ctx) {
      ctx.schedule({ delay: 1_000, key: 'k'.repeat(1_001) }).ok();
    },
    scheduleNumericKey(_state, _: void, ctx) {
      ctx.schedule({ delay: 1_000, key: 7 as unknown as string }).ok();
    },
    scheduleUnknownAction(_state, _: void, ctx) {
      ctx.schedule({ delay: 1_000 })['nope']!();
    },
    scheduleBadPayload(_state, _: void, ctx) {
      ctx.schedule({ delay: 1_000 })['ok']!(() => 1);
    },
    cancelNumericKey(_state, _: void, ctx) {
      ctx.cancel(7 as unknown as string);
    },
    sendDelayNaN(_state, _: void, ctx) {
      ctx.send(Counter, 'x', { delay: NaN }).increment(1);
    },
    sendAtTooFar(_state, _: void, ctx) {
      ctx.send(Counter, 'x', { at: Date.now() + 11 * 365 * 86_400_000 }).increment(1);
    },
  },
  thunks: {
    noop() {},
  },
});

let backend: MemoryBackend;
let system: System;
const bad = () => system.ref(Bad, 'victim');

/** Every key and value in the store, as hex. */
async function dump(): Promise<string[]> {
  const kvs = await backend.transact((tx) => tx.getRange(Buffer.alloc(0), Buffer.from([0xff])));
  return kvs.map((kv) => `${kv.key.toString('hex')}=${kv.value.toString('hex')}`);
}

beforeAll(async () => {
  backend = memory();
  system = await createSystem({ backend, closeBackend: false });
  system.serve(Bad);
  await bad().call.ok();
});
afterAll(async () => {
  await system.close();
  await backend.close();
});

type Case = readonly [name: string, code: string, run: () => unknown];

const untyped = (verbs: unknown) => verbs as Record<string, (payload?: unknown, options?: unknown) => Promise<unknown>>;

/** Refused at the boundary: nothing at all is written. */
const refused: Case[] = [
  ['unknown action (untyped dispatch)', 'unknown_action', () => untyped(bad().dispatch)['nope']!()],
  ['unknown action (untyped call)', 'unknown_action', () => untyped(bad().call)['nope']!()],
  ['payload with a function', 'unserializable_value', () => untyped(system.ref(Counter, 'c').dispatch)['increment']!(() => 1)],
  ['payload with a symbol', 'unserializable_value', () => untyped(system.ref(Counter, 'c').dispatch)['increment']!({ s: Symbol('s') })],
  ['payload with a class instance', 'unserializable_value', () => untyped(system.ref(Counter, 'c').dispatch)['increment']!(new Point(1))],
  ['payload with a cycle', 'unserializable_value', () => {
    const a: Record<string, unknown> = {};
    a.a = a;
    return untyped(system.ref(Counter, 'c').dispatch)['increment']!(a);
  }],
  ['payload with a WeakMap', 'unserializable_value', () => untyped(system.ref(Counter, 'c').dispatch)['increment']!(new WeakMap())],
  ['payload with a Promise', 'unserializable_value', () => untyped(system.ref(Counter, 'c').dispatch)['increment']!(Promise.resolve(1))],
  ['payload over the message maximum', 'message_too_large', () => untyped(system.ref(Counter, 'c').dispatch)['increment']!('x'.repeat(1_100_000))],
  ['empty id', 'invalid_id', () => system.ref(Counter, '')],
  ['numeric id', 'invalid_id', () => system.ref(Counter, 7 as unknown as string)],
  ['null id', 'invalid_id', () => system.ref(Counter, null as unknown as string)],
  ['id over 1,000 bytes', 'invalid_id', () => system.ref(Counter, 'é'.repeat(501))],
  ['serve with a bad id', 'invalid_id', () => system.serve(Counter, { ids: [''] })],
  ['empty idempotency key', 'invalid_idempotency_key', () => system.ref(Counter, 'c').dispatch.increment(1, { idempotencyKey: '' })],
  ['definition without name', 'invalid_definition', () => defineActor({ name: '', initialState: 0, reducers: { a() {} } })],
  ['definition name with a slash', 'invalid_definition', () => defineActor({ name: 'a/b', initialState: 0, reducers: { a() {} } })],
  ['definition without reducers', 'invalid_definition', () => defineActor({ name: 'x', initialState: 0, reducers: {} })],
  ['reducer that is not a function', 'invalid_definition', () => defineActor({ name: 'x', initialState: 0, reducers: { a: 1 as never } })],
  ['thunk that is not a function', 'invalid_definition', () => defineActor({ name: 'x', initialState: 0, reducers: { a() {} }, thunks: { t: 'no' as never } })],
  ['unknown failure policy', 'invalid_definition', () => defineActor({ name: 'x', initialState: 0, reducers: { a() {} }, options: { failurePolicy: 'retry' as never } })],
  ['batch size of 0', 'invalid_definition', () => defineActor({ name: 'x', initialState: 0, reducers: { a() {} }, options: { maxBatchMessages: 0 } })],
  ['two definitions with one name', 'definition_conflict', () => system.ref(defineActor({ name: 'bad', initialState: 0, reducers: { ok() {} } }), 'a')],
  ['a backend that is not an engine', 'invalid_options', () => createSystem({ backend: {} as never })],
  ['admin: a malformed queue position', 'invalid_position', () => system.admin.deleteQueued(Bad, 'victim', 'zz')],
  ['admin: an actor without a name', 'invalid_actor', () => system.admin.queue('', 'victim')],
  ['delayed dispatch: negative delay', 'invalid_options', () => system.ref(Counter, 'c').dispatch.increment(1, { delay: -5 })],
  ['delayed dispatch: NaN delay', 'invalid_options', () => system.ref(Counter, 'c').dispatch.increment(1, { delay: NaN })],
  ['delayed dispatch: infinite delay', 'invalid_options', () => system.ref(Counter, 'c').dispatch.increment(1, { delay: Infinity })],
  ['delayed dispatch: delay over 10 years', 'invalid_options', () => system.ref(Counter, 'c').dispatch.increment(1, { delay: 11 * 365 * 86_400_000 })],
  ['delayed dispatch: an invalid Date', 'invalid_options', () => system.ref(Counter, 'c').dispatch.increment(1, { at: new Date('nope') })],
  ['delayed dispatch: at as a string', 'invalid_options', () => system.ref(Counter, 'c').dispatch.increment(1, { at: '2030-01-01' as never })],
  ['delayed dispatch: both delay and at', 'invalid_options', () => system.ref(Counter, 'c').dispatch.increment(1, { delay: 1, at: Date.now() } as never)],
  ['delayed dispatch: a payload with a function', 'unserializable_value', () => untyped(system.ref(Counter, 'c').dispatch)['increment']!(() => 1, { delay: 10 })],
  ['delayed dispatch: unknown action', 'unknown_action', () => untyped(bad().dispatch)['nope']!(1, { delay: 10 })],
  ['delayed call', 'invalid_options', () => untyped(system.ref(Counter, 'c').call)['add']!(1, { delay: 10 })],
  ['admin: cancel a timer named by neither key nor message id', 'invalid_timer', () => system.admin.cancelTimer(Bad, 'victim', {} as never)],
  ['call timeout', 'call_timeout', () => system.ref(Counter, 'nobody-serves').call.add(1, { timeout: 50 })],
  ['call aborted', 'call_aborted', () => system.ref(Counter, 'nobody-serves').call.add(1, { signal: AbortSignal.abort() })],
];

/** Fail while processing: the message goes to the dead letters, the state stays as it was. */
const failing: Case[] = [
  ['state with a function', 'unserializable_value', () => bad().call.storeFunction()],
  ['state with a symbol', 'unserializable_value', () => bad().call.storeSymbol()],
  ['state with a class instance', 'unserializable_value', () => bad().call.storeClass()],
  ['state with a cycle', 'unserializable_value', () => bad().call.storeCycle()],
  ['state field name over the key limit', 'unserializable_value', () => bad().call.storeHugeKey()],
  ['reducer returning a value and mutating the draft', 'reducer_returned_and_mutated', () => bad().call.returnAndMutate()],
  ['reply with a function', 'unserializable_value', () => bad().call.replyFunction()],
  ['lock of an unknown thunk', 'unknown_thunk', () => bad().call.lockUnknown()],
  ['two locks in one message', 'lock_twice', () => bad().call.lockTwice()],
  ['lock args with a function', 'unserializable_value', () => bad().call.lockBadArgs()],
  ['send of an unknown action', 'unknown_action', () => bad().call.sendUnknownAction()],
  ['send to an empty id', 'invalid_id', () => bad().call.sendBadId()],
  ['send of a payload with a symbol', 'unserializable_value', () => bad().call.sendBadPayload()],
  ['schedule with a negative delay', 'invalid_options', () => bad().call.scheduleNegative()],
  ['schedule with an empty timer key', 'invalid_timer_key', () => bad().call.scheduleEmptyKey()],
  ['schedule with a timer key over 1,000 bytes', 'invalid_timer_key', () => bad().call.scheduleLongKey()],
  ['schedule with a numeric timer key', 'invalid_timer_key', () => bad().call.scheduleNumericKey()],
  ['schedule of an unknown action', 'unknown_action', () => bad().call.scheduleUnknownAction()],
  ['schedule of a payload with a function', 'unserializable_value', () => bad().call.scheduleBadPayload()],
  ['cancel with a numeric timer key', 'invalid_timer_key', () => bad().call.cancelNumericKey()],
  ['delayed send with a NaN delay', 'invalid_options', () => bad().call.sendDelayNaN()],
  ['delayed send over 10 years ahead', 'invalid_options', () => bad().call.sendAtTooFar()],
];

describe('bad input refused at the boundary leaves the store unchanged', () => {
  it.each(refused)('%s → %s', async (_name, code, run) => {
    const before = await dump();
    const error = await (async () => run())().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DgenError);
    expect(error).toMatchObject({ code });
    if (code !== 'call_timeout' && code !== 'call_aborted') expect(await dump()).toEqual(before);
  });
});

describe('bad input failing while processing leaves the state unchanged', () => {
  it.each(failing)('%s → %s', async (_name, code, run) => {
    const state = await system.admin.state(Bad, 'victim');
    const letters = (await system.admin.deadLetters(Bad, 'victim')).length;
    await expect(run()).rejects.toMatchObject({ code });
    expect(await system.admin.state(Bad, 'victim')).toEqual(state);
    expect(await system.admin.deadLetters(Bad, 'victim')).toHaveLength(letters + 1);
    expect(await bad().call.ok()).toBeUndefined(); // the actor goes on
  });
});

describe('bad input from outside the API', () => {
  it('moves a corrupt stored message to the dead letters instead of crash-looping', async () => {
    const keys = new Layout().actor('bad', 'corrupt');
    await backend.transact((tx) => {
      const { key, stampOffset } = keys.queue.packVersionstamped([], 0);
      tx.setVersionstampedKey(key, stampOffset, Buffer.from([0x00, 0xff, 0xfe, 0xfd]));
      tx.set(keys.work, Buffer.alloc(0));
      tx.add(keys.notify, 1);
    });
    const ref = system.ref(Bad, 'corrupt');
    await ref.call.ok();
    expect(await ref.query((s) => s.n)).toBe(1);
    const [letter] = await system.admin.deadLetters(Bad, 'corrupt');
    expect(letter).toMatchObject({ error: { code: 'corrupt_message' }, message: { corrupt: expect.stringContaining('Corrupt') } });
  });

  it('refuses an LMDB path that is a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dgen-bad-'));
    const file = join(dir, 'file');
    writeFileSync(file, 'not a database');
    try {
      await expect(createSystem({ path: file })).rejects.toMatchObject({ code: 'open_failed' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses dispatch after close', async () => {
    const s = await createSystem({ backend, closeBackend: false });
    const ref = s.ref(Counter, 'late');
    await s.close();
    await expect(ref.dispatch.increment()).rejects.toMatchObject({ code: 'system_closed' });
  });
});
