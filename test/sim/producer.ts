/**
 * The producing side of a run: each producing process issues a seeded stream of dispatches,
 * idempotent dispatches (retried after a failure, and sometimes re-sent after an acknowledgement
 * as if it had been lost), calls, locking messages, forwards between actors and failing messages,
 * some awaited one by one and some in bursts without awaiting, and records what happened to each.
 */
import { isDgenError, type ActorRef, type CallOptions, type DispatchOptions } from '../../src/index.js';
import { type Payload, type SimActor, type SimState } from './model.js';
import { Rng } from '../../src/testing/random.js';
import type { Incarnation, Slot, World } from './world.js';

type SimRef = ActorRef<SimState, SimActor['reducers']>;

export type Action = 'add' | 'take' | 'fail' | 'lockOp' | 'forward' | 'blob' | 'poison' | 'arm' | 'disarm' | 'ring';

/** One message a producer issued, and what it learnt about it. */
export interface Sent {
  readonly tag: string;
  readonly action: Action;
  readonly via: 'dispatch' | 'call';
  readonly keyed: boolean;
  /** `lockOp` answered by its thunk's reply; such calls carry an idempotency key and are retried with it. */
  readonly thunkReply?: boolean;
  /** An idempotent call whose first send was refused (`overloaded`, nothing stored): its retry is not ordered with the ref's messages. */
  firstRefused?: boolean;
  /** A send of this idempotent call ended in a way that may have stored its message (a later refusal speaks for itself only). */
  earlierMayHaveStored?: boolean;
  readonly v: number;
  readonly actor: string;
  readonly to: string | undefined;
  /** `arm` / `disarm`: the timer key; `arm` and a delayed `ring` dispatch: the delay. */
  readonly key?: string | undefined;
  readonly delay?: number | undefined;
  /** True (virtual) time when it was issued. */
  readonly issuedAt: number;
  /** The ref of the first send (incarnation/actor) and the order of that send through it. */
  readonly ref: string;
  readonly issue: number;
  /** Send operations (more than one for retried or re-sent idempotent dispatches). */
  sends: number;
  /** Whether the first send was acknowledged (undefined while pending). */
  firstAcked: boolean | undefined;
  /** Some send was acknowledged. */
  acked: boolean;
  reply: { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown } | undefined;
  /** When the call settled (virtual ms into the run). */
  settledAt: number | undefined;
  readonly rejections: unknown[];
}

const KINDS = {
  add: 36,
  addKeyed: 12,
  addCall: 5,
  take: 12,
  forward: 12,
  lockOp: 5,
  lockCall: 5,
  /** A call answered by the thunk's reply, with an idempotency key: retried with the key after a timeout. */
  lockReplyCall: 4,
  fail: 3,
  failCall: 2,
  query: 5,
  blob: 1,
  poison: 1,
  poisonCall: 1,
  arm: 4,
  armKeyed: 6,
  disarm: 4,
  delayed: 4,
} as const;

/** The keys of named timers: few, so timers are often replaced and cancelled. */
const TIMER_KEYS = ['k0', 'k1', 'k2'];

export class Producers {
  readonly sent = new Map<string, Sent>();
  private readonly issued = new Map<string, number>();

  constructor(private readonly world: World) {}

  /** Runs every producing process to the end of its stream; resolves when every operation settled. */
  run(): Promise<void> {
    const producing = this.world.slots.filter((s) => s.role !== 'consumer');
    return Promise.all(producing.map((slot) => this.produce(slot))).then(() => undefined);
  }

  private async produce(slot: Slot): Promise<void> {
    const { cfg, clock } = this.world;
    const rng = Rng.derive(cfg.seed, `producer ${slot.base}`);
    const pending: Promise<void>[] = [];
    let seq = 0;
    while (seq < cfg.opsPerProducer) {
      const inc = await this.world.alive(slot);
      const burst = rng.chance(0.4) ? rng.int(2, 8) : 1;
      const ops: Promise<void>[] = [];
      // Issued as code of the producing process: its clock (skewed) sets the due time of a delayed dispatch.
      for (let b = 0; b < burst && seq < cfg.opsPerProducer; b++) ops.push(this.world.within(slot, () => this.op(inc, rng, `${slot.base}.${seq++}`)));
      if (rng.chance(0.7)) await Promise.all(ops);
      else pending.push(...ops);
      if (rng.chance(0.5)) await clock.sleep(rng.int(0, 30));
    }
    await Promise.all(pending);
  }

  /** Issues one operation synchronously (so issue order is send order) and records its outcome. */
  private op(inc: Incarnation, rng: Rng, tag: string): Promise<void> {
    const { cfg } = this.world;
    const kind = rng.weighted(KINDS);
    const actor = rng.pick(cfg.actors);
    if (kind === 'query') return this.query(inc, actor);
    const action: Action =
      kind === 'addKeyed' || kind === 'addCall' ? 'add' : kind === 'lockCall' || kind === 'lockReplyCall' ? 'lockOp' : kind === 'failCall' ? 'fail' : kind === 'poisonCall' ? 'poison' : kind === 'armKeyed' ? 'arm' : kind === 'delayed' ? 'ring' : kind;
    const key = kind === 'armKeyed' || kind === 'disarm' ? rng.pick(TIMER_KEYS) : undefined;
    const delay = action === 'arm' || action === 'ring' ? rng.int(0, 1_500) : undefined;
    const via = kind === 'addCall' || kind === 'take' || kind === 'lockCall' || kind === 'lockReplyCall' || kind === 'failCall' || kind === 'poisonCall' ? 'call' : 'dispatch';
    const to = action === 'forward' ? rng.pick(cfg.actors.filter((id) => id[0] === actor[0])) : undefined;
    const v = action === 'blob' ? rng.int(0, 200_000) : rng.int(1, 9);
    // Now and then a message too large for one value: it is queued in chunks.
    const pad = rng.chance(0.005) ? 'x'.repeat(rng.int(90_000, 200_000)) : undefined;
    const thunkReply = kind === 'lockReplyCall';
    const payload: Payload = { tag, v, ...(thunkReply ? { thunkReply: true as const } : {}), ...(to === undefined ? {} : { to }), ...(pad === undefined ? {} : { pad }), ...(action === 'arm' ? { delay } : {}), ...(key === undefined ? {} : { key }) };
    const refKey = `${inc.name}/${actor}`;
    const issue = this.issued.get(refKey) ?? 0;
    this.issued.set(refKey, issue + 1);
    const sent: Sent = {
      tag, action, via, keyed: kind === 'addKeyed', thunkReply, v, actor, to, key, delay, issuedAt: this.world.clock.now, ref: refKey, issue,
      sends: 1, firstAcked: undefined, acked: false, reply: undefined, settledAt: undefined, rejections: [],
    };
    this.sent.set(tag, sent);
    let ref: SimRef;
    try {
      ref = inc.system.ref(inc.def(actor), actor);
    } catch (error) {
      // The process died since the burst started (system_closed).
      sent.firstAcked = false;
      sent.rejections.push(error);
      return sent.keyed ? this.resend(sent, (r) => (r.dispatch.add as (p: Payload, o?: DispatchOptions) => Promise<void>)(payload, { idempotencyKey: `key-${tag}` }), rng) : Promise.resolve();
    }
    if (via === 'call') {
      const options: CallOptions = { timeout: cfg.callTimeoutMs, ...(thunkReply ? { idempotencyKey: `call-${tag}` } : {}) };
      const call = ref.call[action] as (p: Payload, o: CallOptions) => Promise<unknown>;
      return (thunkReply ? this.keyedCall(sent, (r) => (r.call[action] as (p: Payload, o: CallOptions) => Promise<unknown>)(payload, options), call(payload, options)) : call(payload, options)).then(
        (value) => {
          sent.settledAt = this.world.elapsed;
          sent.reply = { ok: true, value };
          sent.firstAcked = sent.acked = true;
          const len = (value as { len?: number } | undefined)?.len;
          if (len !== undefined) this.world.committed(actor, len);
        },
        (error: unknown) => void ((sent.settledAt = this.world.elapsed), (sent.reply = { ok: false, error })),
      );
    }
    // A delayed dispatch (`ring`) is stored as a timer of the instance and enqueued when due.
    const options: DispatchOptions | undefined = sent.keyed ? { idempotencyKey: `key-${tag}` } : action === 'ring' ? { delay: delay! } : undefined;
    const dispatch = (r: SimRef) => (r.dispatch[action] as (p: Payload, o?: DispatchOptions) => Promise<void>)(payload, options);
    return dispatch(ref).then(
      async () => {
        sent.firstAcked = sent.acked = true;
        // An idempotent dispatch whose acknowledgement was lost: the producer sends it again.
        if (sent.keyed && rng.chance(0.3)) await this.resend(sent, dispatch, rng);
      },
      async (error: unknown) => {
        sent.firstAcked = false;
        sent.rejections.push(error);
        if (sent.keyed) await this.resend(sent, dispatch, rng);
      },
    );
  }

  /** A strictly serializable read: it must see at least every state known to be committed before it started. */
  private query(inc: Incarnation, actor: string): Promise<void> {
    const atLeast = this.world.committedLen.get(actor) ?? 0;
    let pending: Promise<SimState>;
    try {
      pending = inc.system.ref(inc.def(actor), actor).query();
    } catch {
      return Promise.resolve(); // the process died
    }
    return pending.then(
      (state) => void this.world.queries.push({ proc: inc.name, actor, atLeast, log: state.log }),
      () => {},
    );
  }

  /**
   * An idempotent call: after a `call_timeout` or `overloaded` it is sent again with the same key
   * (by the same process, while it lives) until it settles otherwise, a few times; the
   * retry gets the first message's reply and enqueues nothing.
   */
  private async keyedCall(sent: Sent, call: (r: SimRef) => Promise<unknown>, first: Promise<unknown>): Promise<unknown> {
    const inc = this.world.incarnations.get(sent.ref.split('/')[0]!)!;
    let pending = first;
    for (let i = 0; ; i++) {
      try {
        return await pending;
      } catch (error) {
        // Retried by the same process only: a call of a process that closed settles by its close.
        if (i >= 3 || !inc.alive || !(isDgenError(error, 'call_timeout') || isDgenError(error, 'overloaded'))) throw error;
        if (i === 0 && isDgenError(error, 'overloaded')) sent.firstRefused = true;
        if (!isDgenError(error, 'overloaded')) sent.earlierMayHaveStored = true;
      }
      // At once: a process that is closing settles the retry by its close, as it did the first call.
      sent.sends++;
      try {
        pending = call(inc.system.ref(inc.def(sent.actor), sent.actor));
      } catch (error) {
        pending = Promise.reject(error);
      }
    }
  }

  /** Sends an idempotent dispatch again (same key, same payload) until one send is acknowledged. */
  private async resend(sent: Sent, dispatch: (r: SimRef) => Promise<void>, rng: Rng): Promise<void> {
    const slot = this.world.incarnations.get(sent.ref.split('/')[0]!)!.slot;
    for (let i = 0; i < 10; i++) {
      await this.world.clock.sleep(rng.int(0, 50));
      const inc = await this.world.alive(slot);
      sent.sends++;
      try {
        await this.world.within(slot, () => dispatch(inc.system.ref(inc.def(sent.actor), sent.actor)));
        sent.acked = true;
        return;
      } catch (error) {
        sent.rejections.push(error);
      }
    }
  }
}
