/** The actor definitions the benchmarks run, with the plain-JS equivalents the baselines use. */
import { defineActor } from '../../src/index.js';

/**
 * Called once for every committed message of a {@link Counter}, after its commit, with the state
 * its batch committed (the same object for every message of one batch). Unset: nothing is counted.
 */
export const probe: { onCommitted: ((state: unknown) => void) | undefined } = { onCommitted: undefined };
export const committed = (state: unknown) => probe.onCommitted?.(state);

/** A counter: the smallest useful actor, so the figures show dgen's own cost per message. */
export const Counter = defineActor({
  name: 'bench.counter',
  initialState: () => ({ count: 0 }),
  reducers: {
    add(state, by: number, ctx) {
      state.count += by;
      ctx.after(committed);
    },
    addGet(state, by: number, ctx) {
      state.count += by;
      ctx.after(committed);
      return ctx.reply(state.count);
    },
  },
});

/** `{ k0: 0, k1: 0, … }` with `n` entries. */
export function flatState(n: number): Record<string, number> {
  const s: Record<string, number> = {};
  for (let i = 0; i < n; i++) s[`k${i}`] = 0;
  return s;
}

const wide = new Map<number, ReturnType<typeof makeWide>>();

/**
 * Entries a {@link Wide} state starts with, and most entries one `fill` message adds: a state of
 * 100,000 entries written in one transaction is about 11 MB by FoundationDB's accounting (every
 * key counts again as a write conflict range), over its 10 MB limit, so larger states are filled
 * in several messages.
 */
export const WIDE_STEP = 10_000;

function makeWide(n: number) {
  return defineActor({
    name: `bench.wide.${n}`,
    initialState: () => flatState(Math.min(n, WIDE_STEP)),
    reducers: {
      /** Adds entries `k<from>` … `k<to - 1>` (0 each): grows the state past {@link WIDE_STEP}. */
      fill(state, range: { from: number; to: number }, ctx) {
        ctx.after(committed);
        for (let i = range.from; i < range.to; i++) state[`k${i}`] = 0;
      },
      /** Changes one field: the 1-field change of the write-amplification table. */
      bump(state, i: number, ctx) {
        ctx.after(committed);
        const k = `k${i % n}`;
        state[k] = (state[k] ?? 0) + 1;
        return ctx.reply(state[k]);
      },
    },
  });
}

/** A flat object of `n` entries whose messages change one field each. */
export function Wide(n: number) {
  let d = wide.get(n);
  if (d === undefined) wide.set(n, (d = makeWide(n)));
  return d;
}

export interface Item {
  readonly id: string;
  readonly v: number;
}

export function itemList(n: number): Item[] {
  return Array.from({ length: n }, (_, i) => ({ id: `i${i}`, v: i }));
}

/** A keyed collection (an array of elements with an `id`), edited in the middle. */
/** Elements a {@link List} starts with, and most one `append` adds (10,000 in one transaction would be over FoundationDB's 10 MB). */
export const LIST_STEP = 2_500;

export const List = defineActor({
  name: 'bench.list',
  initialState: () => ({ items: itemList(LIST_STEP) }),
  reducers: {
    /** Appends elements `i<from>` … `i<to - 1>`: grows the list past {@link LIST_STEP}. */
    append(state, range: { from: number; to: number }, ctx) {
      ctx.after(committed);
      for (let i = range.from; i < range.to; i++) state.items.push({ id: `i${i}`, v: i });
    },
    insertMid(state, id: string, ctx) {
      ctx.after(committed);
      state.items.splice(state.items.length >> 1, 0, { id, v: 0 });
      return ctx.reply(state.items.length);
    },
    removeMid(state, _: void, ctx) {
      ctx.after(committed);
      state.items.splice(state.items.length >> 1, 1);
      return ctx.reply(state.items.length);
    },
  },
});

/** `{ k0: base, k1: base + 1, … }` with `n` leaves: one part of a {@link Big} state. */
export function part(n: number, base: number): Record<string, number> {
  const p: Record<string, number> = {};
  for (let i = 0; i < n; i++) p[`k${i}`] = base + i;
  return p;
}

/** A large state built part by part (one message per part keeps each transaction small). */
export const Big = defineActor({
  name: 'bench.big',
  initialState: () => ({ touched: 0, parts: {} as Record<string, Record<string, number>> }),
  reducers: {
    addPart(state, p: { name: string; leaves: number }, ctx) {
      state.parts[p.name] = part(p.leaves, 0);
      return ctx.reply(Object.keys(state.parts).length);
    },
    touch(state, _: void, ctx) {
      state.touched += 1;
      return ctx.reply(state.touched);
    },
  },
});
