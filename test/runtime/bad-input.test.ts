/**
 * Bad input, table-driven: each case is answered by a typed error with a stable code, and what is
 * stored is unchanged (the whole store for input refused at the boundary, the actor's state for
 * input that fails while processing).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallTimeoutError, DgenError, OverloadedError, TimedOutError, createSystem, defineActor, lmdb, memory, type MemoryBackend, type System } from '../../src/index.js';
import { Layout } from '../../src/store/keys.js';
import type { Inspector } from '../../src/inspect/server.js';
import { Counter } from '../fixtures/actors.js';
import { firstValueFrom } from 'rxjs';
import { pruneFeed } from '../../src/changes/prune.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { createTestSystem, fakeThunk, reduce, simulate, type TestSystem } from '../../src/testing/index.js';

class Point {
  constructor(readonly x: number) {}
}

const Bad = defineActor({
  name: 'bad',
  initialState: () => ({ n: 0, data: {} as Record<string, unknown> }),
  thunks: {
    noop(_args?: unknown) {},
    async replyFunction() {
      return { reply: () => 1 };
    },
    async returnNumber() {
      return 42 as never;
    },
  },
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
    storeOver10MB(state) {
      state.data.big = 'x'.repeat(10_500_000); // chunked under the value limit, but over 10 MB in one transaction
    },
    storeManyKeys(state) {
      // under 10 MB of keys and values, but each key counts again as a write conflict range: over 10 MB
      for (let i = 0; i < 70_000; i++) state.data[`a-rather-long-field-name-${i}`] = i;
    },
    typeError(state) {
      (state.data as unknown as { list: string[] }).list.push('x'); // TypeError, no code of its own
    },
    returnAndMutate(state) {
      state.n = 99;
      return { n: 100, data: {} };
    },
    replyFunction(_state, _: void, ctx) {
      return ctx.reply(() => 1);
    },
    lockUnknown(_state, _: void, ctx) {
      (ctx.lock as (thunk: string) => void)('nope'); // untyped caller: checked at run time
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
    thunkReplyFunction(_state, _: void, ctx) {
      return ctx.lock('replyFunction');
    },
    thunkReturnsNumber(_state, _: void, ctx) {
      ctx.lock('returnNumber');
    },
  },
  options: { thunkRetryMs: 1 },
});

/** A definition with a change feed that keeps one entry: the feed of the bad-input store has been pruned. */
const Fed = defineActor({ name: 'fed', changes: { retention: { count: 1 } }, initialState: { n: 0 }, reducers: { inc(s) { s.n += 1; } } });

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
  system.serve(Fed);
  for (let i = 0; i < 3; i++) await system.ref(Fed, 'f').call.inc();
  await pruneFeed(new Runtime(backend, undefined), 'fed', Fed.changes!);
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
  ['call idempotency key that is a number', 'invalid_idempotency_key', () => system.ref(Counter, 'c').call.add(1, { idempotencyKey: 7 as never })],
  ['call idempotency key over 1,000 bytes', 'invalid_idempotency_key', () => system.ref(Counter, 'c').call.add(1, { idempotencyKey: 'k'.repeat(1_001) })],
  ['definition without name', 'invalid_definition', () => defineActor({ name: '', initialState: 0, reducers: { a() {} } })],
  ['definition name with a slash', 'invalid_definition', () => defineActor({ name: 'a/b', initialState: 0, reducers: { a() {} } })],
  ['definition without reducers', 'invalid_definition', () => defineActor({ name: 'x', initialState: 0, reducers: {} })],
  ['reducer that is not a function', 'invalid_definition', () => defineActor({ name: 'x', initialState: 0, reducers: { a: 1 as never } })],
  ['thunk that is not a function', 'invalid_definition', () => defineActor({ name: 'x', initialState: 0, reducers: { a() {} }, thunks: { t: 'no' as never } })],
  ['thunk onFailure that is not a function', 'invalid_definition', () => defineActor({ name: 'x', initialState: 0, thunks: { t: { run: async () => {}, onFailure: 'undo' as never } }, reducers: { a() {} } })],
  ['thunk spec without run', 'invalid_definition', () => defineActor({ name: 'x', initialState: 0, thunks: { t: { onFailure() {} } as never }, reducers: { a() {} } })],
  ['thunk spec with an unknown field', 'invalid_definition', () => defineActor({ name: 'x', initialState: 0, thunks: { t: { run: async () => {}, onFailur() {} } as never }, reducers: { a() {} } })],
  ['unknown failure policy', 'invalid_definition', () => defineActor({ name: 'x', initialState: 0, reducers: { a() {} }, options: { failurePolicy: 'retry' as never } })],
  ['definition version 0', 'invalid_definition', () => defineActor({ name: 'x', version: 0, initialState: 0, reducers: { a() {} } })],
  ['definition version 1.5', 'invalid_definition', () => defineActor({ name: 'x', version: 1.5, initialState: 0, reducers: { a() {} } })],
  ['definition version as a string', 'invalid_definition', () => defineActor({ name: 'x', version: '2' as never, initialState: 0, reducers: { a() {} } })],
  ['migrations with a gap', 'invalid_definition', () => defineActor({ name: 'x', version: 4, initialState: 0, migrations: { 2: () => {}, 4: () => {} }, reducers: { a() {} } })],
  ['a migration above the version', 'invalid_definition', () => defineActor({ name: 'x', version: 2, initialState: 0, migrations: { 2: () => {}, 3: () => {} }, reducers: { a() {} } })],
  ['a migration to version 1', 'invalid_definition', () => defineActor({ name: 'x', version: 2, initialState: 0, migrations: { 1: () => {}, 2: () => {} }, reducers: { a() {} } })],
  ['a migration keyed by a name', 'invalid_definition', () => defineActor({ name: 'x', version: 2, initialState: 0, migrations: { two: () => {} } as never, reducers: { a() {} } })],
  ['a migration that is not a function', 'invalid_definition', () => defineActor({ name: 'x', version: 2, initialState: 0, migrations: { 2: 'add currency' as never }, reducers: { a() {} } })],
  ['an upcaster of an unknown action', 'invalid_definition', () => defineActor({ name: 'x', version: 2, initialState: 0, upcast: { b: { 1: (p: unknown) => p } } as never, reducers: { a() {} } })],
  ['an upcaster from the current version', 'invalid_definition', () => defineActor({ name: 'x', version: 2, initialState: 0, upcast: { a: { 2: (p) => p } }, reducers: { a() {} } })],
  ['a rename onto no reducer', 'invalid_definition', () => defineActor({ name: 'x', version: 2, initialState: 0, renamed: { old: 'gone' }, reducers: { a() {} } })],
  ['a rename of a current reducer', 'invalid_definition', () => defineActor({ name: 'x', version: 2, initialState: 0, renamed: { a: 'b' }, reducers: { a() {}, b() {} } })],
  ['batch size of 0', 'invalid_definition', () => defineActor({ name: 'x', initialState: 0, reducers: { a() {} }, options: { maxBatchMessages: 0 } })],
  ['two definitions with one name', 'definition_conflict', () => system.ref(defineActor({ name: 'bad', initialState: 0, reducers: { ok() {} } }), 'a')],
  ['a backend that is not an engine', 'invalid_options', () => createSystem({ backend: {} as never })],
  ['admin: a malformed queue position', 'invalid_position', () => system.admin.deleteQueued(Bad, 'victim', 'zz')],
  ['admin: an actor without a name', 'invalid_actor', () => system.admin.queue('', 'victim')],
  ['admin: instances with a limit of 0', 'invalid_limit', () => system.admin.instances(Bad, { limit: 0 })],
  ['admin: migrate with a limit of 0', 'invalid_limit', () => system.admin.migrate(Bad, { limit: 0 })],
  ['admin: migrate after an empty id', 'invalid_id', () => system.admin.migrate(Bad, { after: '' })],
  ['admin: instances with a prefix that is not a string', 'invalid_prefix', () => system.admin.instances(Bad, { prefix: 7 as never })],
  ['admin: a state node address that is not hex', 'invalid_address', () => system.admin.stateNode(Bad, 'victim', 'xyz')],
  ['admin: commits before a version that is not one', 'invalid_version', () => system.admin.commits(Bad, 'victim', { before: 0 })],
  ['admin: the state as of a negative version', 'invalid_version', () => system.admin.stateAt(Bad, 'victim', -1)],
  ['admin: an overview counting 0 instances', 'invalid_limit', () => system.admin.overview({ countUpTo: 0 })],
  ['admin: a dispatch of an unknown action', 'unknown_action', () => system.admin.dispatch(Bad, 'victim', 'nope')],
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
  ['call aborted before it was sent', 'call_aborted', () => system.ref(Counter, 'nobody-serves').call.add(1, { signal: AbortSignal.abort() })],
    ['call pending when its system closes', 'system_closed', async () => {
    const other = await createSystem({ backend, closeBackend: false });
    const pending = other.ref(Counter, 'nobody-serves').call.add(1);
    await other.close();
    return pending;
  }],
  ['reply of a malformed message id', 'invalid_message_id', () => untyped(system.ref(Counter, 'c').reply)['add']!('not-an-id')],
  ['no turn before the admission deadline', 'overloaded', () => overloaded().then((o) => o.refused)],
  ['store unavailable past storeDeadlineMs', 'store_unavailable', () => unavailable()],
  // Change feed and listeners
  ['changes of a definition without a feed', 'changes_not_enabled', () => system.changes(Counter)],
  ['listen on a definition without a feed', 'changes_not_enabled', () => system.listen({ name: 'l', on: Counter, handler() {} })],
  ['changes from a cursor older than retention', 'cursor_expired', () => firstValueFrom(system.changes(Fed, { from: '0'.repeat(24) }))],
  ['definition with a negative retention', 'invalid_definition', () => defineActor({ name: 'x', initialState: 0, reducers: { a() {} }, changes: { retention: { ms: -1 } } })],
  ['definition with a fractional retention count', 'invalid_definition', () => defineActor({ name: 'x', initialState: 0, reducers: { a() {} }, changes: { retention: { count: 1.5 } } })],
  ['definition with an unknown changes field', 'invalid_definition', () => defineActor({ name: 'x', initialState: 0, reducers: { a() {} }, changes: { keep: 1 } as never })],
];
/** Options with an unknown key or a bad value: `invalid_options`, naming the field. */
const options: Array<readonly [name: string, field: string, run: () => unknown]> = [
  ['changes from a malformed cursor', 'from', () => system.changes(Fed, { from: 'zz' })],
  ['changes with includeState that is not a boolean', 'includeState', () => system.changes(Fed, { includeState: 1 as never })],
  ['listen without a handler', 'handler', () => system.listen({ name: 'l', on: Fed } as never)],
  ['listen to an action the definition lacks', 'actions', () => system.listen({ name: 'l', on: Fed, actions: ['nope' as never], handler() {} })],
  ['listen with a batch size of 0', 'batchSize', () => system.listen({ name: 'l', on: Fed, batchSize: 0, handler() {} })],
  ['listen with an unknown failure policy', 'onFailure', () => system.listen({ name: 'l', on: Fed, onFailure: 'retry' as never, handler() {} })],
  ['listen with an empty name', 'name', () => system.listen({ name: '', on: Fed, handler() {} })],
  ['call timeout NaN', 'timeout', () => system.ref(Counter, 'c').call.add(1, { timeout: NaN })],
  ['call timeout negative', 'timeout', () => system.ref(Counter, 'c').call.add(1, { timeout: -5 })],
  ['call timeout 0', 'timeout', () => system.ref(Counter, 'c').call.add(1, { timeout: 0 })],
  ['call timeout over the timer maximum', 'timeout', () => system.ref(Counter, 'c').call.add(1, { timeout: 2 ** 31 })],
  ['call timeout as a string', 'timeout', () => system.ref(Counter, 'c').call.add(1, { timeout: '5000' as unknown as number })],
  ['call signal that is not an AbortSignal', 'signal', () => system.ref(Counter, 'c').call.add(1, { signal: {} as AbortSignal })],
  ['call option with a typo', 'timout', () => system.ref(Counter, 'c').call.add(1, { timout: 5_000 } as never)],
  ['call options that are not an object', '(options)', () => system.ref(Counter, 'c').call.add(1, 5_000 as never)],
  ['dispatch option with a typo', 'idempotencykey', () => system.ref(Counter, 'c').dispatch.add(1, { idempotencykey: 'k' } as never)],
  ['createSystem option with a typo', 'backnd', () => createSystem({ backnd: memory() } as never)],
  ['createSystem path that is not a string', 'path', () => createSystem({ path: 7 as never })],
  ['createSystem closeBackend that is not a boolean', 'closeBackend', () => createSystem({ backend, closeBackend: 'no' as never })],
  ['serve option with a typo', 'pollMS', () => system.serve(Counter, { pollMS: 10 } as never)],
  ['serve pollMs of 0', 'pollMs', () => system.serve(Counter, { pollMs: 0 })],
  ['serve concurrency of 1.5', 'concurrency', () => system.serve(Counter, { concurrency: 1.5 })],
  ['serve ids that are not an array', 'ids', () => system.serve(Counter, { ids: 'a' as never })],
  ['admission limit that is not positive', 'maxTransactions', () => createSystem({ backend, closeBackend: false, admission: { maxTransactions: 0 } })],
  ['admission option with a typo', 'queueTimeout', () => createSystem({ backend, closeBackend: false, admission: { queueTimeout: 5 } as never })],
  ['createSystem storeDeadlineMs of 0', 'storeDeadlineMs', () => createSystem({ backend, closeBackend: false, storeDeadlineMs: 0 })],
  ['createSystem storeDeadlineMs that is not a number', 'storeDeadlineMs', () => createSystem({ backend, closeBackend: false, storeDeadlineMs: '60s' as never })],
  ['telemetry that is not an object', 'telemetry', () => createSystem({ backend, closeBackend: false, telemetry: true as never })],
  ['telemetry meterProvider without getMeter', 'meterProvider', () => createSystem({ backend, closeBackend: false, telemetry: { meterProvider: {} as never } })],
  ['telemetry option with a typo', 'instanceId', () => createSystem({ backend, closeBackend: false, telemetry: { instanceId: true } as never })],
];
for (const [name, , run] of options) refused.push([name, 'invalid_options', run]);

/** Cases whose message is enqueued before the error: the store changes by that message. */
const enqueues = new Set(['call timeout', 'call pending when its system closes']);

/**
 * A system on its own memory engine whose one transaction slot is held: a dispatch waits past its
 * 20 ms admission deadline and is refused with `overloaded`. Returns that error and what the
 * engine held when it was raised (nothing: the refused message was never written).
 */
async function overloaded(): Promise<{ refused: Promise<never>; storedKeys: number }> {
  const engine = memory();
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const held: typeof engine = Object.create(engine, { transact: { value: (fn: never, o: never) => gate.then(() => engine.transact(fn, o)) } });
  const s = await createSystem({ backend: held, admission: { maxTransactions: 1, queueTimeoutMs: 20 } });
  const holder = s.ref(Counter, 'holder').dispatch.increment(1);
  const error = await s.ref(Counter, 'refused').dispatch.increment(1).then(() => undefined, (e: unknown) => e);
  const storedKeys = (await engine.transact((tx) => tx.getRange(Buffer.alloc(0), Buffer.from([0xff])))).length;
  open();
  await holder;
  await s.close();
  await engine.close();
  return { refused: Promise.reject(error), storedKeys };
}

/**
 * A system on its own memory engine that times out every transaction (a store that never comes
 * back), with a 200 ms storeDeadlineMs: the dispatch fails with `store_unavailable`, stored: false.
 */
async function unavailable(): Promise<never> {
  const engine = memory();
  const away: typeof engine = Object.create(engine, { transact: { value: () => Promise.reject(new TimedOutError()) } });
  const s = await createSystem({ backend: away, storeDeadlineMs: 200 });
  const error = await s.ref(Counter, 'away').dispatch.increment(1).then(() => undefined, (e: unknown) => e);
  await s.close();
  await engine.close();
  expect(error).toMatchObject({ stored: false });
  throw error;
}

/** Fail while processing: the message goes to the dead letters, the state stays as it was. */
const failing: Case[] = [
  ['state with a function', 'unserializable_value', () => bad().call.storeFunction()],
  ['state with a symbol', 'unserializable_value', () => bad().call.storeSymbol()],
  ['state with a class instance', 'unserializable_value', () => bad().call.storeClass()],
  ['state with a cycle', 'unserializable_value', () => bad().call.storeCycle()],
  ['state field name over the key limit', 'unserializable_value', () => bad().call.storeHugeKey()],
  ['state change over 10 MB in one transaction', 'transaction_too_large', () => bad().call.storeOver10MB()],
  ['state change over 10 MB counting write conflict ranges', 'transaction_too_large', () => bad().call.storeManyKeys()],
  ['reducer throwing a TypeError', 'reducer_failed', () => bad().call.typeError()],
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
  ['thunk reply with a function (after its attempts)', 'unserializable_value', () => bad().call.thunkReplyFunction()],
  ['thunk returning neither a recipe nor { recipe, reply }', 'invalid_recipe', () => bad().call.thunkReturnsNumber()],
];

describe('bad input refused at the boundary leaves the store unchanged', () => {
  it.each(refused)('%s → %s', async (name, code, run) => {
    const before = await dump();
    const error = await (async () => run())().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DgenError);
    expect(error).toMatchObject({ code });
    if (!enqueues.has(name)) expect(await dump()).toEqual(before);
    if (enqueues.has(name)) expect(error).toMatchObject({ stored: true, messageId: expect.any(String) }); // stored, and says so
  });
});

describe('invalid options name the field at fault', () => {
  it.each(options)('%s → %s', async (_name, field, run) => {
    await expect((async () => run())()).rejects.toMatchObject({ code: 'invalid_options', field, message: expect.stringContaining(`'${field}'`) });
  });

  it('accepts a call timeout of Infinity: the call waits for its reply', async () => {
    expect(await bad().call.ok(undefined, { timeout: Infinity })).toBeUndefined();
  });
});

describe('bad input failing while processing leaves the state unchanged', () => {
  it.each(failing)('%s → %s', async (_name, code, run) => {
    const state = await system.admin.state(Bad, 'victim');
    const letters = (await system.admin.deadLetters(Bad, 'victim')).length;
    await expect(run()).rejects.toMatchObject({ code });
    expect(await system.admin.state(Bad, 'victim')).toEqual(state);
    const after = await system.admin.deadLetters(Bad, 'victim');
    expect(after).toHaveLength(letters + 1);
    expect(after.at(-1)!.error.code).toBe(code); // the dead letter keeps the code the caller saw
    expect(await bad().call.ok()).toBeUndefined(); // the actor goes on
  });
});

describe('a stored state its migration cannot convert leaves the state unchanged', () => {
  const V1 = defineActor({ name: 'evolving', initialState: () => ({ n: -1 }), reducers: { touch(state) { state.n -= 1; } } });
  const V2 = defineActor({
    name: 'evolving',
    version: 2,
    initialState: () => ({ n: 0, root: 0 }),
    migrations: { 2: (d) => { if (d.n < 0) throw new RangeError('no square root of a negative n'); d.root = Math.sqrt(d.n); } },
    reducers: { touch(state) { state.n -= 1; } },
  });
  it('migration throwing → migration_failed', async () => {
    const backend = memory();
    const [old, next] = [await createSystem({ backend, closeBackend: false }), await createSystem({ backend, closeBackend: false })];
    try {
      const serving = old.serve(V1);
      await old.ref(V1, 'v').dispatch.touch();
      await expect.poll(() => old.admin.state(V1, 'v')).toEqual({ n: -2 });
      await serving.stop();
      next.serve(V2);
      await expect(next.ref(V2, 'v').call.touch()).rejects.toMatchObject({ code: 'migration_failed' });
      expect(await next.admin.state(V2, 'v')).toEqual({ n: -2 });
      expect((await next.admin.deadLetters(V2, 'v')).map((l) => l.error.code)).toEqual(['migration_failed']);
    } finally {
      await old.close();
      await next.close();
      await backend.close();
    }
  });
});

describe('bad input at the dgen CLI: a message on stderr and a non-zero exit, nothing written', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dgen-bad-cli-'));
    const s = await createSystem({ path: dir });
    await s.ref(Counter, 'a').dispatch.increment();
    await s.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cli: Array<readonly [name: string, code: string, exit: number, argv: string[]]> = [
    ['an actor with no stored instance', 'unknown_actor', 1, ['instances', 'countr']],
    ['an instance with nothing stored', 'unknown_instance', 1, ['state', 'counter', 'zz']],
    ['destroy of an instance with nothing stored', 'unknown_instance', 1, ['destroy', 'counter', 'zz', '--yes']],
    ['an unknown command', 'invalid_cli_usage', 2, ['instancs', 'counter']],
    ['help on an unknown command', 'invalid_cli_usage', 2, ['help', 'instancs']],
    ['an unknown output format', 'invalid_cli_usage', 2, ['actors', '--format', 'yaml']],
    ['a missing argument', 'invalid_cli_usage', 2, ['state', 'counter']],
    ['inspect: a port that is not a number', 'invalid_cli_usage', 2, ['inspect', '--port', 'http']],
    ['inspect: a port over 65535', 'invalid_cli_usage', 2, ['inspect', '--port', '70000']],
    ['inspect: both --token and --token-file', 'invalid_cli_usage', 2, ['inspect', '--token', 'a'.repeat(20), '--token-file', 'f']],
    ['inspect: a token file that cannot be read', 'invalid_cli_usage', 2, ['inspect', '--token-file', '/nonexistent/token']],
    ['inspect: an argument', 'invalid_cli_usage', 2, ['inspect', 'counter']],
    ['inspect: a module to --import that does not load', 'invalid_cli_usage', 2, ['inspect', '--port', '0', '--import', '/nonexistent/actors.js']],
    ['inspect: a host other than loopback without a chosen token', 'insecure_host', 1, ['inspect', '--host', '0.0.0.0']],
    ['inspect: a token too short to be unguessable', 'invalid_token', 1, ['inspect', '--token', 'secret']],
    ["an inspector flag on another command", 'invalid_cli_usage', 2, ['actors', '--port', '4400']],
    ['migrate: no module defining the actor', 'invalid_cli_usage', 2, ['migrate', 'counter']],
    ['migrate: a module to --import that does not load', 'invalid_cli_usage', 2, ['migrate', 'counter', '--import', '/nonexistent/actors.js']],
    ['migrate: a page size of 0', 'invalid_cli_usage', 2, ['migrate', 'counter', '--page', '0']],
    ['migrate: no actor', 'invalid_cli_usage', 2, ['migrate']],
    ['a migrate flag on another command', 'invalid_cli_usage', 2, ['actors', '--dry-run']],
  ];
  it.each(cli)('%s → %s', async (_name, code, exit, argv) => {
    const { main } = await import('../../src/ops/cli.js');
    let out = '';
    let err = '';
    expect(await main([...argv, '--path', dir], (l) => (out += l), (l) => (err += l))).toBe(exit);
    expect(out).toBe('');
    expect(err).toContain(`error [${code}]`);
    const s = await createSystem({ path: dir });
    try {
      expect(await s.admin.actors()).toEqual([{ name: 'counter', instances: 1, queued: 1, deadLetters: 0 }]);
    } finally {
      await s.close();
    }
  });
});

describe("bad input at the inspector's HTTP API: a typed error and its status, nothing written", () => {
  let inspector: Inspector;
  let base: string;
  beforeAll(async () => {
    await bad().call.ok();
    inspector = await system.inspector();
    base = inspector.url.replace(/\/\?token=.*$/, '');
  });
  afterAll(() => inspector.close());

  const victim = '/api/actors/bad/instances/victim';
  type HttpCase = readonly [name: string, code: string, status: number, method: string, path: string, body?: string, headers?: Record<string, string>];
  const http: HttpCase[] = [
    ['a read without the token', 'unauthorized', 401, 'GET', '/api/actors', undefined, { 'x-dgen-token': '' }],
    ['a wrong token', 'unauthorized', 401, 'GET', '/api/actors', undefined, { 'x-dgen-token': 'x'.repeat(43) }],
    ['a mutation with the token in the query only', 'unauthorized', 401, 'POST', `${victim}/resume?token=TOKEN`, '{}', { 'x-dgen-token': '' }],
    ['a Host header that is not loopback (DNS rebinding)', 'forbidden_host', 403, 'GET', '/api/actors', undefined, { host: 'evil.example:80' }],
    ['an unknown route', 'not_found', 404, 'GET', '/api/nope'],
    ['a limit of 0', 'invalid_request', 400, 'GET', `${victim}/queue?limit=0`],
    ['a limit that is not a number', 'invalid_request', 400, 'GET', '/api/actors/bad/instances?limit=ten'],
    ['a path segment that is not percent-encoding', 'invalid_request', 400, 'GET', '/api/actors/%E0%A4%A/instances'],
    ['an event stream at a path that is not percent-encoding', 'invalid_request', 400, 'GET', '/api/actors/bad/instances/%E0%A4%A/events'],
    ['an event stream of an empty id', 'invalid_id', 400, 'GET', '/api/actors/bad/instances//events'],
    ['an empty id', 'invalid_id', 400, 'GET', '/api/actors/bad/instances//queue'],
    ['a queue cursor that is not a position', 'invalid_position', 400, 'GET', `${victim}/queue?after=zz`],
    ['a state node that is not hex', 'invalid_address', 400, 'GET', `${victim}/state?node=xyz`],
    ['a state node where nothing is stored', 'not_found', 404, 'GET', `${victim}/state?node=02ff00`],
    ['the state as of no version', 'invalid_request', 400, 'GET', `${victim}/state-at`],
    ['the state as of a version not committed yet', 'history_unavailable', 409, 'GET', `${victim}/state-at?version=999999`],
    ['an instance with nothing stored', 'not_found', 404, 'GET', '/api/actors/bad/instances/nobody'],
    ['a requeue of a dead letter that is not there', 'not_found', 404, 'POST', `${victim}/dead-letters/000000000000000000000000/requeue`],
    ['a requeue at a malformed position', 'invalid_position', 400, 'POST', `${victim}/dead-letters/zz/requeue`],
    ['a body that is not JSON', 'invalid_request', 400, 'POST', `${victim}/dispatch`, '{"action":'],
    ['a body that is not an object', 'invalid_request', 400, 'POST', `${victim}/dispatch`, '[1]'],
    ['a dispatch without an action', 'invalid_request', 400, 'POST', `${victim}/dispatch`, '{"payload":1}'],
    ['a dispatch with an unknown field', 'invalid_request', 400, 'POST', `${victim}/dispatch`, '{"action":"ok","paylod":1}'],
    ['a dispatch of an unknown action', 'unknown_action', 400, 'POST', `${victim}/dispatch`, '{"action":"nope"}'],
    ['a dispatch to an actor the inspector has no definition of', 'unknown_definition', 409, 'POST', '/api/actors/stranger/instances/x/dispatch', '{"action":"ok"}'],
    ['a body over the size limit', 'payload_too_large', 413, 'POST', `${victim}/dispatch`, `{"action":"ok","payload":"${'x'.repeat(4_100_000)}"}`],
    ['a destroy confirmed with another id', 'confirmation_mismatch', 400, 'POST', `${victim}/destroy`, '{"confirm":"victim "}'],
    ['a timer named by neither key nor message id', 'invalid_timer', 400, 'POST', `${victim}/timers/cancel`, '{}'],
  ];
  it.each(http.map((c) => [`${c[0]} → ${c[1]}`, c] as const))('%s', async (_title, [, code, status, method, path, body, headers = {}]) => {
    const before = await dump();
    const res = await request(method, `${base}${path.replace('TOKEN', inspector.token)}`, body, { 'x-dgen-token': inspector.token, ...headers });
    expect(res).toMatchObject({ status, body: { error: { code } } });
    expect(await dump()).toEqual(before);
  });

  const starts: Case[] = [
    ['inspector: a host other than loopback without a chosen token', 'insecure_host', () => system.inspector({ host: '0.0.0.0' })],
    ['inspector: a token too short to be unguessable', 'invalid_token', () => system.inspector({ token: 'secret' })],
    ['inspector: a token with characters a URL cannot carry as they are', 'invalid_token', () => system.inspector({ token: 'a b'.repeat(10) })],
    ['inspector: a port out of range', 'invalid_port', () => system.inspector({ port: 70_000 })],
  ];
  it.each(starts)('%s → %s', async (_name, code, run) => {
    await expect((async () => run())()).rejects.toMatchObject({ code });
  });
});

describe('bad input to dgen/testing', () => {
  let t: TestSystem;
  beforeAll(async () => {
    t = await createTestSystem({ thunks: { hang: () => new Promise(() => {}) } });
  });
  afterAll(() => t.close());
  const Hanging = defineActor({ name: 'hanging', initialState: 0, thunks: { hang: async () => {} }, reducers: { go(_s, _: void, ctx) { ctx.lock('hang'); } } });
  const passing = { definitions: [Counter], workload: async () => {}, invariants: () => {}, faults: false as const };

  const cases: Case[] = [
    ['createTestSystem: an unknown option', 'invalid_options', () => createTestSystem({ clock: 1 } as never)],
    ['createTestSystem: a thunk fake that is not a function', 'invalid_options', () => createTestSystem({ thunks: { mail: 'no' as never } })],
    ['createTestSystem: a start time that is a string', 'invalid_options', () => createTestSystem({ now: '2030-01-01' as never })],
    ['createTestSystem: actor options with a retry of 0 ms', 'invalid_options', () => createTestSystem({ actorOptions: { thunkRetryMs: 0 } })],
    ['createTestSystem: an unknown actor option', 'invalid_options', () => createTestSystem({ actorOptions: { retries: 3 } as never })],
    ['clock.advance: a negative time', 'invalid_options', () => t.clock.advance(-1)],
    ['clock.set: a time before the clock', 'invalid_options', () => t.clock.set(t.clock.now() - 1)],
    ['advance: NaN', 'invalid_options', () => t.advance(NaN)],
    ['settle: a timeout of 0', 'invalid_options', () => t.settle({ timeoutMs: 0 })],
    ['settle: a thunk that never returns', 'settle_timeout', async () => {
      t.serve(Hanging);
      await t.ref(Hanging, 'h').dispatch.go();
      await t.settle({ timeoutMs: 50 });
    }],
    ['fakeThunk: a thunk the definition does not have', 'unknown_thunk', () => fakeThunk(Counter, 'mail' as never, (async () => {}) as never)],
    ['reduce: an unknown action (untyped)', 'unknown_action', () => reduce(Counter, { count: 0, log: [] }, 'nope' as never)],
    ['reduce: an empty id', 'invalid_options', () => reduce(Counter, { count: 0, log: [] }, 'increment', 1, { id: '' })],
    ['reduce: something that is not a definition', 'invalid_options', () => reduce({} as never, {}, 'x' as never)],
    ['simulate: no workload', 'invalid_options', () => simulate({ ...passing, workload: undefined as never })],
    ['simulate: 0 seeds', 'invalid_options', () => simulate({ ...passing, seeds: 0 })],
    ['simulate: faults that are not an object', 'invalid_options', () => simulate({ ...passing, faults: 'all' as never })],
    ['simulate: a workload ref of a definition not simulated', 'simulation_failed', () => simulate({ ...passing, seeds: [1], workload: async ({ ref }) => void ref(Bad, 'x') })],
    ['simulate: an invariant that does not hold', 'simulation_failed', () => simulate({ ...passing, seeds: [1], invariants: () => ['never holds'] })],
  ];
  it.each(cases)('%s → %s', async (_name, code, run) => {
    await expect((async () => run())()).rejects.toMatchObject({ code });
  });
});

/** One HTTP request with any headers (fetch would not send a Host header of ours); the JSON body of the answer. */
function request(method: string, url: string, body: string | undefined, headers: Record<string, string>): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers: Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== '')) }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' || e.code === 'EPIPE' ? undefined : reject(e)));
    req.end(body);
  });
}

describe('errors say whether the message was stored', () => {
  it('overloaded: stored false, retryable, and nothing was written', async () => {
    const { refused, storedKeys } = await overloaded();
    const error = await refused.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OverloadedError);
    expect(error).toMatchObject({ code: 'overloaded', stored: false, retryable: true });
    expect(storedKeys).toBe(0);
  });

  it('call_timeout: stored true with the message id; ref.reply awaits the reply later, once', async () => {
    const ref = system.ref(Counter, 'late-reply');
    const error = (await ref.call.add(5, { timeout: 20 }).catch((e: unknown) => e)) as CallTimeoutError;
    expect(error).toBeInstanceOf(CallTimeoutError);
    expect(error).toMatchObject({ code: 'call_timeout', stored: true, messageId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(error.message).toContain(error.messageId);
    expect(await system.admin.queue(Counter, 'late-reply')).toHaveLength(1);
    const serving = system.serve(Counter, { ids: ['late-reply'] });
    try {
      expect(await ref.reply.add(error.messageId, { timeout: 10_000 })).toBe(5);
      await expect(ref.reply.add(error.messageId, { timeout: 50 })).rejects.toMatchObject({ code: 'call_timeout' }); // delivered once
      expect(await ref.query((s) => s.count)).toBe(5); // applied once
    } finally {
      await serving.stop();
    }
  });

  it('call_aborted after the enqueue: stored true with the message id', async () => {
    const controller = new AbortController();
    const call = system.ref(Counter, 'aborted').call.add(1, { signal: controller.signal });
    controller.abort();
    await expect(call).rejects.toMatchObject({ code: 'call_aborted', stored: true, messageId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(await system.admin.queue(Counter, 'aborted')).toHaveLength(1);
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

  it('refuses an LMDB watchPollMs that is not a number of milliseconds ≥ 0, before creating anything', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dgen-bad-'));
    try {
      for (const watchPollMs of [-1, Number.NaN, '10' as unknown as number]) {
        expect(() => lmdb({ path: join(dir, 'db'), watchPollMs })).toThrow(expect.objectContaining({ code: 'open_failed', message: expect.stringContaining('watchPollMs') }));
      }
      expect(existsSync(join(dir, 'db'))).toBe(false);
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
