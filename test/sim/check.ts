/**
 * The invariants checked at the end of every run, against what producers, effects and the
 * external service recorded and the final stored data read by an independent system.
 */
import { isDgenError, type DeadLetterEntry, type LockInfo } from '../../src/index.js';
import { STRICT, blobOf, nameOf, procOf, step, tagOf, type Payload, type SimState, type Snap } from './model.js';
import { CrashError } from '../../src/testing/process.js';
import { canonical } from './inspected.js';
import type { Sent } from './producer.js';
import { describe, type World } from './world.js';
import { checkEvolution } from './evolution.js';

/** What the store holds for one actor once the run is over. */
export interface FinalActor {
  readonly state: SimState;
  readonly queued: number;
  readonly lock: LockInfo | undefined;
  readonly halted: unknown;
  readonly deadLetters: readonly DeadLetterEntry[];
  /** Timers still pending. */
  readonly timers: number;
  /** The state as the inspector reads it, node by node in pages (see inspected.ts). */
  readonly inspected: unknown;
  /** Dead-letter positions read a page at a time. */
  readonly pagedDeadLetters: readonly string[];
}

interface Position {
  readonly actor: string;
  readonly index: number;
  readonly proc: string;
}

export function check(world: World, sent: ReadonlyMap<string, Sent>, final: ReadonlyMap<string, FinalActor>): string[] {
  const out: string[] = [...world.violations];
  const fail = (message: string) => void out.push(message);
  const where = new Map<string, Position>();
  const logs = new Map<string, readonly string[]>();

  // Every message is applied at most once, anywhere.
  for (const [actor, f] of final) {
    logs.set(actor, f.state.log);
    f.state.log.forEach((entry, index) => {
      const tag = tagOf(entry);
      const seen = where.get(tag);
      if (seen !== undefined) fail(`${tag} applied twice: ${seen.actor}[${seen.index}] and ${actor}[${index}]`);
      else where.set(tag, { actor, index, proc: procOf(entry) });
    });
    if (f.queued > 0) fail(`${actor}: ${f.queued} message(s) left in the queue`);
    if (f.lock !== undefined) fail(`${actor}: lock still held (${f.lock.thunk} for ${f.lock.action}, owner ${f.lock.owner}, attempt ${f.lock.attempt})`);
    if (f.halted !== undefined) fail(`${actor}: halted`);
    if (f.timers > 0) fail(`${actor}: ${f.timers} timer(s) still pending`);
    // The operator's paged views show what a whole read shows.
    if (f.state.log.length > 0 && canonical(f.inspected) !== canonical(f.state)) fail(`${actor}: the state read node by node differs from the state read whole`);
    if (canonical(f.pagedDeadLetters) !== canonical(f.deadLetters.map((l) => l.position))) fail(`${actor}: dead letters read in pages differ from the whole list`);
  }
  const at = (actor: string, index: number): string | undefined => {
    const e = logs.get(actor)?.[index];
    return e === undefined ? undefined : tagOf(e);
  };

  // Dead letters hold failing messages and locking messages whose thunk gave up, once each.
  const dead = new Map<string, string>();
  /** When each message was dead-lettered (virtual ms into the run). */
  const deadAt = new Map<string, number>();
  for (const [actor, f] of final) {
    for (const letter of f.deadLetters) {
      const tag = 'action' in letter.message ? (letter.message.payload as Payload).tag : `corrupt:${letter.position}`;
      if (dead.has(tag)) fail(`${tag} dead-lettered twice`);
      dead.set(tag, actor);
      deadAt.set(tag, letter.at - world.clock.start);
      const s = sent.get(tag);
      if (s === undefined || s.actor !== actor) fail(`${actor}: unknown dead letter ${tag}`);
      else if (s.action !== 'fail' && s.action !== 'poison' && s.action !== 'lockOp') fail(`${tag} (${s.action}) dead-lettered: ${letter.error.message}`);
    }
  }

  // A dead-letter event is no false alarm: its message is in the dead letters, reported once
  // (a process may crash between the commit and the event, so a dead letter may go unreported).
  const deadIds = new Set([...final.values()].flatMap((f) => f.deadLetters.map((l) => ('id' in l.message ? l.message.id : ''))));
  const reported = new Set<string>();
  for (const id of world.reportedDead) {
    if (reported.has(id)) fail(`message-failed reported ${id} twice`);
    reported.add(id);
    if (!deadIds.has(id)) fail(`message-failed reported ${id}, which is not in the dead letters`);
  }

  // inspect$ agrees with the outcomes: a message is reported committed once at most (its batch
  // committed once), one reported dead-lettered is in the dead letters, and a committed message is
  // dead-lettered only when it locked (its thunk gave up after the lock committed).
  const committedIds = new Set<string>();
  for (const c of world.inspected.committed) {
    if (committedIds.has(c.id)) fail(`inspect$ reported ${c.id} (${c.action}) committed twice`);
    committedIds.add(c.id);
    if (deadIds.has(c.id) && c.action !== 'lockOp') fail(`inspect$ reported ${c.id} (${c.action}) committed, and it is in the dead letters`);
  }
  for (const id of world.inspected.dead) if (!deadIds.has(id)) fail(`inspect$ reported ${id} dead-lettered, which is not in the dead letters`);

  // The operator deleted only messages that halted their actor, once each.
  const deleted = new Set<string>();
  for (const d of world.deleted) {
    if (deleted.has(d.tag)) fail(`${d.tag} deleted twice by the operator`);
    deleted.add(d.tag);
    const s = sent.get(d.tag);
    if ((s?.action !== 'fail' && s?.action !== 'poison') || s.actor !== d.actor) fail(`the operator deleted ${d.tag} from ${d.actor}, which did not fail there`);
  }

  // Every applied entry comes from a message that was sent (or derived from one that was applied).
  for (const [actor, log] of logs) {
    log.forEach((entry, index) => {
      const tag = tagOf(entry);
      if (tag.endsWith('!') || tag.endsWith('~')) {
        // A recipe (`!`) or a compensation (`~`): applied right after its locking message, the queue paused between.
        const base = tag.slice(0, -1);
        const s = sent.get(base);
        const what = tag.endsWith('!') ? 'recipe' : 'compensation';
        if (s?.action !== 'lockOp' || s.actor !== actor) fail(`${actor}[${index}]: ${what} ${tag} of no locking message of this actor`);
        else if (at(actor, index - 1) !== base) fail(`${actor}[${index}]: ${what} ${tag} does not follow its locking message (previous: ${at(actor, index - 1)})`);
      } else if (tag.endsWith('@')) {
        // The message of a timer set by an `arm` of this actor, which was applied before it.
        const base = tag.slice(0, -1);
        const s = sent.get(base);
        if (s?.action !== 'arm' || s.actor !== actor) fail(`${actor}[${index}]: timer message ${tag} of no arm of this actor`);
        else if ((where.get(base)?.index ?? Infinity) >= index || where.get(base)?.actor !== actor) fail(`${actor}[${index}]: timer message ${tag} applied before its arm was`);
      } else if (tag.endsWith('>')) {
        const base = tag.slice(0, -1);
        const s = sent.get(base);
        if (s?.action !== 'forward' || s.to !== actor) fail(`${actor}[${index}]: ${tag} was not forwarded to this actor`);
        else if (where.get(base)?.actor !== s.actor) fail(`${actor}[${index}]: ${tag} received but its forward was never applied`);
      } else {
        const s = sent.get(tag);
        if (s === undefined) fail(`${actor}[${index}]: ${tag} was never sent`);
        else if (s.actor !== actor) fail(`${actor}[${index}]: ${tag} was sent to ${s.actor}`);
        else if (s.action === 'fail' || s.action === 'poison') fail(`${actor}[${index}]: failing message ${tag} changed the state`);
      }
    });
  }

  // The final state is a sequential replay of the log; keep each prefix for the replies.
  const prefixes = new Map<string, Array<{ sum: number; hash: number }>>();
  for (const [actor, f] of final) {
    const replay = { sum: 0, hash: 0, recipes: 0, compensations: 0, blob: '' };
    const states = [{ sum: 0, hash: 0 }];
    for (const entry of f.state.log) {
      const tag = tagOf(entry);
      step(replay, tag, delta(sent, tag));
      if (tag.endsWith('!')) replay.recipes++;
      if (tag.endsWith('~')) replay.compensations++;
      const s = sent.get(tag);
      if (s?.action === 'blob') replay.blob = blobOf(tag, s.v);
      states.push({ sum: replay.sum, hash: replay.hash });
    }
    prefixes.set(actor, states);
    const s = f.state;
    if (s.sum !== replay.sum || s.hash !== replay.hash || s.recipes !== replay.recipes || s.compensations !== replay.compensations) {
      fail(`${actor}: final state (sum ${s.sum}, hash ${s.hash}, recipes ${s.recipes}, compensations ${s.compensations}) differs from the replay of its log (sum ${replay.sum}, hash ${replay.hash}, recipes ${replay.recipes}, compensations ${replay.compensations})`);
    }
    if (s.blob !== replay.blob) fail(`${actor}: final blob (${s.blob.length} chars) differs from the replay (${replay.blob.length} chars)`);
  }

  for (const s of sent.values()) checkSent(s);
  checkTimers();

  /**
   * Timers, with every process's clock running ahead of true time by its own offset (up to
   * `skew.max`; `skew.spread` between the fastest and the slowest clock):
   * - a timer's message is applied never before its due time on the fastest clock (a host fires
   *   when its own clock reaches the due time), and never earlier than the true time it was meant
   *   for (set time + delay) by more than the spread of the clocks;
   * - an `arm` not superseded in its log by a later `arm` or `disarm` of the same key fired
   *   exactly once (at most once is the "applied twice" check), with its own payload (its tag);
   * - a superseded one may have fired only if it came due (on the fastest clock) before the
   *   superseding message committed, which follows its processing by at most a partition and a
   *   commit delay.
   */
  function checkTimers(): void {
    const slack = world.cfg.partition.maxMs + 100;
    const skew = world.skew;
    const ms = (t: number) => `${t - world.clock.start} ms`;
    for (const [actor, f] of final) {
      for (const [tag, [due, appliedAt]] of Object.entries(f.state.rings)) {
        if (appliedAt < due - skew.max) fail(`${actor}: timer message ${tag} applied at ${ms(appliedAt)} (true time), before its due time ${ms(due)} less the largest clock offset (${skew.max} ms)`);
        const base = tag.endsWith('@') ? tag.slice(0, -1) : tag;
        const s = sent.get(base);
        const setAt = s?.action === 'arm' ? f.state.armed[base] : s?.action === 'ring' ? s.issuedAt : undefined;
        if (setAt !== undefined && s?.delay !== undefined && appliedAt < setAt + s.delay - skew.spread) {
          fail(`${actor}: timer message ${tag} applied at ${ms(appliedAt)} (true time), more than the clock spread (${skew.spread} ms) before ${ms(setAt + s.delay)} (set at ${ms(setAt)} + ${s.delay} ms)`);
        }
      }
      const log = f.state.log.map(tagOf);
      log.forEach((tag, index) => {
        const s = sent.get(tag);
        if (s?.action !== 'arm') return;
        const supersededBy = s.key === undefined ? undefined : log.slice(index + 1).find((t) => {
          const o = sent.get(t);
          return (o?.action === 'arm' || o?.action === 'disarm') && o.key === s.key && o.actor === actor;
        });
        const ring = f.state.rings[`${tag}@`];
        if (supersededBy === undefined) {
          if (ring === undefined) fail(`${actor}: timer of ${tag} (key ${s.key ?? 'none'}) was set and never cancelled or replaced, but never fired`);
          return;
        }
        const supersededAt = f.state.armed[supersededBy];
        if (ring !== undefined && supersededAt !== undefined && ring[0] - skew.max > supersededAt + slack) {
          fail(`${actor}: timer of ${tag} (key ${s.key}) fired at due ${ms(ring[0])} although ${supersededBy} cancelled or replaced it at ${ms(supersededAt)} (true time; largest clock offset ${skew.max} ms)`);
        }
      });
    }
  }

  function checkSent(s: Sent): void {
    const pos = where.get(s.tag);
    const endedProducer = world.ended.has(s.ref.split('/')[0]!);
    if (s.action === 'poison') {
      // Policy dead-letter: in the dead letters. Policy halt: it halted its actor until the operator deleted it.
      const strict = nameOf(s.actor) === STRICT;
      const removed = strict ? deleted.has(s.tag) : dead.has(s.tag);
      const where = strict ? 'deleted by the operator of the halted actor' : 'in the dead letters';
      if (s.via === 'dispatch' && s.acked && !removed) fail(`acknowledged poison dispatch ${s.tag} is not ${where}`);
      if (s.reply?.ok === true) fail(`call ${s.tag} of a state the store refuses got a reply`);
      if (s.reply?.ok === false && isLimitError(s.reply.error) && !removed) fail(`failed call ${s.tag} is not ${where}`);
      if (strict && dead.has(s.tag)) fail(`poison ${s.tag} dead-lettered by an actor with policy halt`);
      // the limit the caller hears is the one the message broke, naming the actor
      const code = s.v % 2 === 1 ? 'transaction_too_large' : 'unserializable_value';
      if (s.reply?.ok === false && isLimitError(s.reply.error) && !isDgenError(s.reply.error, code)) fail(`poison call ${s.tag} failed with ${describe(s.reply.error)}, not ${code}`);
      if (s.reply?.ok === false && isDgenError(s.reply.error, 'transaction_too_large') && !String((s.reply.error as Error).message).includes(`'${nameOf(s.actor)}' id '${s.actor}'`)) {
        fail(`poison call ${s.tag}: the error does not name its actor: ${describe(s.reply.error)}`);
      }
    } else if (s.action === 'fail') {
      // Policy dead-letter: the failed message is in the dead letters. Policy halt: it halted
      // its actor until the operator deleted it.
      const removed = nameOf(s.actor) === STRICT ? deleted.has(s.tag) : dead.has(s.tag);
      const where = nameOf(s.actor) === STRICT ? 'deleted by the operator of the halted actor' : 'in the dead letters';
      if (s.via === 'dispatch' && s.acked && !removed) fail(`acknowledged failing dispatch ${s.tag} is not ${where}`);
      if (s.reply?.ok === true) fail(`call ${s.tag} of a failing reducer got a reply`);
      if (s.reply?.ok === false && isDgenError(s.reply.error, 'sim_refused') && !removed) fail(`failed call ${s.tag} is not ${where}`);
      if (nameOf(s.actor) === STRICT && dead.has(s.tag)) fail(`${s.tag} dead-lettered by an actor with policy halt`);
      // A call whose message halted its actor gets the reducer's error soon after (not a timeout).
      const halted = world.haltSeen.get(s.tag);
      const slack = world.cfg.partition.maxMs + 250;
      if (halted !== undefined && !endedProducer && s.reply?.ok === false && isDgenError(s.reply.error, 'call_timeout') && s.settledAt! > halted + slack) {
        fail(`call ${s.tag} timed out at ${Math.round(s.settledAt!)} ms although its message had halted the actor by ${Math.round(halted)} ms`);
      }
    } else if (pos === undefined) {
      if (s.via === 'dispatch' && s.acked) fail(`acknowledged dispatch ${s.tag} (${s.action} to ${s.actor}) was never applied`);
      if (s.reply?.ok === true) fail(`call ${s.tag} got a reply but was never applied`);
      if (dead.has(s.tag)) fail(`${s.tag} dead-lettered but never applied`);
    } else {
      if (s.action === 'forward' && where.get(`${s.tag}>`)?.actor !== s.to) fail(`forward ${s.tag} applied but ${s.to} never received it`);
      if (s.action === 'lockOp') {
        const recipe = where.get(`${s.tag}!`);
        if (recipe === undefined && !dead.has(s.tag)) fail(`locking message ${s.tag} applied but its recipe never was (and it is not dead-lettered)`);
        if (recipe !== undefined && dead.has(s.tag)) fail(`locking message ${s.tag} both completed and dead-lettered`);
        if (s.reply?.ok === true && recipe === undefined) fail(`call ${s.tag} got a reply but its thunk never completed`);
        // A thunk that gave up is compensated exactly once (twice is "applied twice"), one that completed never:
        // after a give-up the state is never left between lock and release.
        const compensation = where.get(`${s.tag}~`);
        if (dead.has(s.tag) && compensation === undefined) fail(`locking message ${s.tag} dead-lettered but never compensated`);
        if (!dead.has(s.tag) && compensation !== undefined) fail(`locking message ${s.tag} compensated but not dead-lettered`);
        if (s.thunkReply === true && s.reply?.ok === true && s.reply.value !== `${s.tag}!`) fail(`call ${s.tag} got ${JSON.stringify(s.reply.value)}, not its thunk's reply`);
      }
    }
    if (s.action !== 'fail' && s.action !== 'poison' && s.thunkReply !== true && s.reply?.ok === true && pos !== undefined) {
      const value = s.reply.value as Snap | undefined;
      if (s.action === 'add') {
        if (value !== undefined) fail(`call ${s.tag}: add replied ${JSON.stringify(value)}`);
      } else {
        const expected = prefixes.get(pos.actor)![pos.index + 1]!;
        if (value?.len !== pos.index + 1 || value.sum !== expected.sum || value.hash !== expected.hash) {
          fail(`call ${s.tag}: reply ${JSON.stringify(value)} does not match the state at its position ${pos.actor}[${pos.index}] (len ${pos.index + 1}, sum ${expected.sum}, hash ${expected.hash})`);
        }
      }
    }
    // A call whose message was dead-lettered gets the error soon after (not a timeout).
    const lettered = deadAt.get(s.tag);
    const recovering = world.recoveries.some((r) => lettered !== undefined && r.at <= s.settledAt! && r.at + r.ms >= lettered);
    if (lettered !== undefined && !endedProducer && !recovering && s.reply?.ok === false && isDgenError(s.reply.error, 'call_timeout') && s.settledAt! > lettered + world.cfg.partition.maxMs + 250) {
      fail(`call ${s.tag} timed out at ${Math.round(s.settledAt!)} ms although its message was dead-lettered at ${Math.round(lettered)} ms`);
    }
    if (s.reply?.ok === false) {
      const e = s.reply.error;
      const ok =
        isDgenError(e, 'call_timeout') ||
        isDgenError(e, 'overloaded') ||
        isDgenError(e, 'store_unavailable') ||
        (endedProducer && (e instanceof CrashError || isDgenError(e, 'system_closed'))) ||
        (s.action === 'fail' && isDgenError(e, 'sim_refused')) ||
        (s.action === 'poison' && isLimitError(e)) ||
        (s.action === 'lockOp' && dead.has(s.tag) && isDgenError(e));
      if (!ok) fail(`call ${s.tag} (${s.action}) failed unexpectedly: ${describe(e)}`);
    }
    // close() leaves no call waiting: each call of a closed process settled by the time it closed
    // (a call refused before it was issued, by system.ref() of a closed system, has a rejection).
    const closedAt = world.closedAt.get(s.ref.split('/')[0]!);
    if (s.via === 'call' && s.rejections.length === 0 && closedAt !== undefined && (s.settledAt === undefined || s.settledAt > closedAt)) {
      fail(`call ${s.tag} was still pending when its process's close() resolved at ${Math.round(closedAt)} ms (settled ${s.settledAt === undefined ? 'never' : `at ${Math.round(s.settledAt)} ms`})`);
    }
    for (const e of s.rejections) {
      const owner = world.incarnations.get(s.ref.split('/')[0]!);
      if (isDgenError(e, 'overloaded') || isDgenError(e, 'store_unavailable')) continue;
      if (!(e instanceof CrashError || isDgenError(e, 'system_closed')) || owner?.slot.role === 'producer') fail(`dispatch ${s.tag} rejected: ${describe(e)}`);
    }
    // Every error that says whether its message was stored says the truth ('unknown': at most once, checked with the log above).
    const processed = where.has(s.tag) || dead.has(s.tag) || deleted.has(s.tag);
    for (const e of [...s.rejections, ...(s.reply?.ok === false ? [s.reply.error] : [])]) {
      const claim = (e as { stored?: unknown } | undefined)?.stored;
      // Each send of a keyed message makes its own claim: one whose outcome no claim tells (its process crashed, 'unknown') may have stored it.
      const otherSendMayHaveStored = s.rejections.some((r) => (r as { stored?: unknown } | undefined)?.stored !== false);
      if (claim === false && processed && !s.acked && !otherSendMayHaveStored && s.earlierMayHaveStored !== true) fail(`${s.tag}: ${describe(e)} said nothing was stored, yet it was processed`);
      if (claim === true && !processed) fail(`${s.tag}: ${describe(e)} said it was stored, yet it was never processed`);
    }
  }

  // Messages sent through one ref are applied in the order they were issued.
  const byRef = new Map<string, Sent[]>();
  for (const s of sent.values()) {
    // A delayed dispatch (`ring`) is not ordered with the ref's other messages.
    if (!where.has(s.tag) || (s.via === 'dispatch' && s.firstAcked !== true) || s.firstRefused === true || s.action === 'ring') continue;
    const list = byRef.get(s.ref) ?? [];
    list.push(s);
    byRef.set(s.ref, list);
  }
  for (const [ref, list] of byRef) {
    list.sort((a, b) => a.issue - b.issue);
    for (let i = 1; i < list.length; i++) {
      const a = where.get(list[i - 1]!.tag)!;
      const b = where.get(list[i]!.tag)!;
      if (b.index <= a.index) fail(`order through ${ref}: ${list[i - 1]!.tag} issued before ${list[i]!.tag} but applied at ${a.index} and ${b.index}`);
    }
  }

  // Forwards from one actor to another arrive in the order they were applied.
  const lastForward = new Map<string, { tag: string; index: number }>();
  for (const [actor, log] of logs) {
    for (const entry of log) {
      const s = sent.get(tagOf(entry));
      if (s?.action !== 'forward') continue;
      const received = where.get(`${s.tag}>`);
      if (received === undefined) continue;
      const pair = `${actor}->${s.to}`;
      const prev = lastForward.get(pair);
      if (prev !== undefined && received.index <= prev.index) fail(`forwards ${pair}: ${prev.tag} then ${s.tag} applied, received in the other order`);
      lastForward.set(pair, { tag: s.tag, index: received.index });
    }
  }

  // After-commit effects: once per applied message, by the process that committed it, with a
  // committed state; missing only when that process crashed (between the commit and the effects).
  for (const [key, runs] of world.effects) {
    const [actor, tag] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
    const pos = where.get(tag);
    if (pos === undefined || pos.actor !== actor) {
      fail(`effect of ${key} ran but the message was never applied there`);
      continue;
    }
    if (runs.length > 1) fail(`effect of ${key} ran ${runs.length} times (${runs.map((r) => r.proc).join(', ')})`);
    const log = logs.get(actor)!;
    for (const run of runs) {
      if (run.proc !== pos.proc) fail(`effect of ${key} ran in ${run.proc} but ${pos.proc} applied it`);
      if (run.log.length <= pos.index || run.log.some((e, i) => e !== log[i])) fail(`effect of ${key} saw a state that was never committed`);
    }
  }
  for (const [actor, log] of logs) {
    for (const entry of log) {
      const tag = tagOf(entry);
      if (tag.endsWith('!') || tag.endsWith('~') || world.effects.has(`${actor}/${tag}`)) continue; // recipes and compensations have no effects
      if (!world.crashed.has(procOf(entry))) fail(`effect of ${actor}/${tag} never ran, yet ${procOf(entry)} did not crash`);
    }
  }

  // Queries and state$ see committed states only; queries see every state committed before they started.
  const isPrefix = (log: readonly string[], full: readonly string[] | undefined) => full !== undefined && log.length <= full.length && log.every((e, i) => e === full[i]);
  for (const q of world.queries) {
    if (!isPrefix(q.log, logs.get(q.actor))) fail(`query of ${q.actor} in ${q.proc} saw a state that was never committed (length ${q.log.length})`);
    else if (q.log.length < q.atLeast) fail(`query of ${q.actor} in ${q.proc} saw ${q.log.length} entries, but ${q.atLeast} were committed before it started`);
  }
  for (const [key, emissions] of world.observed) {
    const [proc, actor] = key.split('/') as [string, string];
    const full = logs.get(actor);
    emissions.forEach((log, i) => {
      if (!isPrefix(log, full)) fail(`state$ of ${actor} in ${proc} emitted a state that was never committed (#${i}, length ${log.length})`);
      // In commit order; a commit that changed nothing (only failed messages) may be emitted again, unchanged.
      if (i > 0 && log.length < emissions[i - 1]!.length) fail(`state$ of ${actor} in ${proc} went from ${emissions[i - 1]!.length} to ${log.length} entries`);
    });
    if (!world.ended.has(proc) && emissions.at(-1)?.length !== full?.length) fail(`state$ of ${actor} in ${proc} ended at ${emissions.at(-1)?.length} entries, not ${full?.length}`);
  }

  // The external service: every applied recipe was requested at least once, under one key per message.
  const keysByTag = new Map<string, Set<string>>();
  const tagByKey = new Map<string, string>();
  for (const r of world.requests) {
    const keys = keysByTag.get(r.tag) ?? new Set();
    keys.add(r.key);
    keysByTag.set(r.tag, keys);
    const other = tagByKey.get(r.key);
    if (other !== undefined && other !== r.tag) fail(`idempotency key ${r.key} used for ${other} and ${r.tag}`);
    tagByKey.set(r.key, r.tag);
    if (!r.key.startsWith(`${nameOf(r.actor)}/${r.actor}/`)) fail(`idempotency key ${r.key} does not name its actor ${r.actor}`);
  }
  for (const [tag, keys] of keysByTag) if (keys.size > 1) fail(`thunk of ${tag} ran under ${keys.size} idempotency keys`);
  // Fencing: a later run of a thunk holds a lease at least as recent as an earlier one's.
  const runs = new Map<string, Array<{ attempt: number; token: number }>>();
  for (const r of world.requests) runs.set(r.key, [...(runs.get(r.key) ?? []), { attempt: r.attempt, token: r.fencingToken }]);
  for (const [key, list] of runs) {
    for (const a of list) for (const b of list) if (a.attempt < b.attempt && a.token > b.token) fail(`thunk ${key}: run ${b.attempt} had fencing token ${b.token}, lower than run ${a.attempt}'s ${a.token}`);
  }
  for (const tag of where.keys()) if (tag.endsWith('!') && !keysByTag.has(tag.slice(0, -1))) fail(`recipe ${tag} applied without any service request`);

  checkEvolution(world, sent, final, fail);
  return out;
}

/** How a logged tag changes `sum`, from what was sent. */
function delta(sent: ReadonlyMap<string, Sent>, tag: string): number {
  if (tag.endsWith('!') || tag.endsWith('@')) return 1;
  if (tag.endsWith('~')) return -1;
  if (tag.endsWith('>')) return sent.get(tag.slice(0, -1))?.v ?? NaN;
  const s = sent.get(tag);
  if (s === undefined) return NaN;
  if (s.action === 'blob') return 0;
  return s.action === 'take' || s.action === 'forward' ? -s.v : s.v;
}

/** The errors of a message whose state change the store refuses (see the model's `poison`). */
function isLimitError(e: unknown): boolean {
  return isDgenError(e, 'unserializable_value') || isDgenError(e, 'transaction_too_large');
}
