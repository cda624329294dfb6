/** The simulation harness itself: runs replay from their seed, and the checker catches what it should. */
import { describe, expect, it } from 'vitest';
import { memory } from '../../src/index.js';
import { check, type FinalActor } from './check.js';
import { VirtualClock } from '../../src/testing/clock.js';
import { configure } from './config.js';
import { initialSimState, mix, type SimState } from './model.js';
import type { Sent } from './producer.js';
import { runSeed } from './run.js';
import { World } from './world.js';

describe('simulation harness', () => {
  it('replays a seed exactly (same digest), in virtual time', async () => {
    const [a, b] = [await runSeed(3), await runSeed(3)];
    expect(a.ok).toBe(true);
    expect(a.digest).toBe(b.digest);
    expect(a.stats).toEqual(b.stats);
    expect(a.virtualMs).toBeGreaterThan(a.wallMs);
  });

  it('virtual timers fire in due order and time only moves when everything is idle', async () => {
    const clock = new VirtualClock(1_000, () => 0.5);
    const seen: string[] = [];
    await clock.run(async () => {
      setTimeout(() => seen.push(`b@${Date.now()}`), 20);
      setTimeout(() => seen.push(`a@${Date.now()}`), 10);
      const t = setInterval(() => seen.push(`i@${Date.now()}`), 15);
      await clock.sleep(50);
      clearInterval(t);
      expect(Math.random()).toBe(0.5);
    }, 1_000);
    expect(seen).toEqual(['a@1010', 'i@1015', 'b@1020', 'i@1030', 'i@1045']);
  });

  it('gives each simulated process its own clock offset, kept through timers and promises', async () => {
    const clock = new VirtualClock(1_000, () => 0.5);
    const seen: string[] = [];
    await clock.run(async () => {
      const proc = (name: string, offset: number) =>
        clock.within(offset, async () => {
          seen.push(`${name}@${Date.now()}`);
          await new Promise<void>((resolve) => setTimeout(resolve, 10));
          seen.push(`${name}@${Date.now()}`);
          setTimeout(() => seen.push(`${name} timer@${Date.now()}`), 5);
        });
      await Promise.all([proc('fast', 300), proc('true', 0)]);
      await clock.sleep(20);
      seen.push(`outside@${Date.now()}`);
    }, 1_000);
    expect(seen).toEqual(['fast@1300', 'true@1000', 'fast@1310', 'true@1010', 'fast timer@1315', 'true timer@1015', 'outside@1030']);
  });

  describe('the checker', () => {
    const cfg = { ...configure(1), actors: ['a0'], skewMs: 0, evolution: undefined };
    const world = () => new World(cfg, new VirtualClock(0, Math.random), memory());
    const sent = (tag: string, over: Partial<Sent> = {}): Sent => ({
      tag, action: 'add', via: 'dispatch', keyed: false, v: 1, actor: 'a0', to: undefined, issuedAt: 0, ref: 'p0#0/a0', issue: Number(tag.split('.')[1]),
      sends: 1, firstAcked: true, acked: true, reply: undefined, settledAt: undefined, rejections: [], ...over,
    });
    const finalOf = (tags: string[], proc = 'c0#0'): Map<string, FinalActor> => {
      const state: SimState = initialSimState();
      for (const t of tags) {
        state.sum += 1;
        state.hash = mix(state.hash, t, 1);
        state.log.push(`${t}|${proc}`);
      }
      return new Map([['a0', { state, queued: 0, lock: undefined, halted: undefined, deadLetters: [], timers: 0, inspected: structuredClone(state), pagedDeadLetters: [] }]]);
    };
    const withEffects = (w: World, tags: string[]) => {
      const log = tags.map((t) => `${t}|c0#0`);
      for (const t of tags) w.effects.set(`a0/${t}`, [{ proc: 'c0#0', log }]);
      return w;
    };

    it('accepts a correct run', () => {
      const msgs = new Map([sent('p0.0'), sent('p0.1')].map((s) => [s.tag, s]));
      expect(check(withEffects(world(), ['p0.0', 'p0.1']), msgs, finalOf(['p0.0', 'p0.1']))).toEqual([]);
    });

    it("reports an operator's paged view that differs from the whole read", () => {
      const msgs = new Map([sent('p0.0')].map((s) => [s.tag, s]));
      const final = finalOf(['p0.0']);
      const a0 = final.get('a0')!;
      final.set('a0', { ...a0, inspected: { ...a0.state, sum: 2 }, pagedDeadLetters: ['00'] });
      const violations = check(withEffects(world(), ['p0.0']), msgs, final).join('\n');
      expect(violations).toMatch(/a0: the state read node by node differs/);
      expect(violations).toMatch(/a0: dead letters read in pages differ/);
    });

    it('reports a lost acknowledged dispatch, a duplicate, a reordering and a missing effect', () => {
      const msgs = new Map([sent('p0.0'), sent('p0.1'), sent('p0.2')].map((s) => [s.tag, s]));
      const violations = check(withEffects(world(), ['p0.1']), msgs, finalOf(['p0.1', 'p0.0', 'p0.1']));
      expect(violations.join('\n')).toMatch(/p0\.1 applied twice/);
      expect(violations.join('\n')).toMatch(/acknowledged dispatch p0\.2 .* was never applied/);
      expect(violations.join('\n')).toMatch(/order through p0#0\/a0: p0\.0 issued before p0\.1/);
      expect(violations.join('\n')).toMatch(/effect of a0\/p0\.0 never ran, yet c0#0 did not crash/);
    });

    it('reports a reply that does not match the state at its position, and a state that is not the replay', () => {
      const reply = { ok: true as const, value: { len: 1, sum: 5, hash: 0 } };
      const msgs = new Map([sent('p0.0', { action: 'take', via: 'call', reply })].map((s) => [s.tag, s]));
      const final = finalOf(['p0.0']);
      const violations = check(withEffects(world(), ['p0.0']), msgs, final);
      expect(violations.join('\n')).toMatch(/call p0\.0: reply .* does not match the state at its position/);
      expect(violations.join('\n')).toMatch(/differs from the replay of its log/);
    });

    it('reports a timer that never fired, one applied before its due time, one that fired long after it was cancelled, and one left pending', () => {
      const msgs = new Map(
        [
          sent('p0.0', { action: 'arm', key: 'k0', delay: 10 }),
          sent('p0.1', { action: 'arm', key: 'k1', delay: 10 }),
          sent('p0.2', { action: 'disarm', key: 'k1' }),
          sent('p0.3', { action: 'arm', delay: 10 }),
        ].map((s) => [s.tag, s]),
      );
      const tags = ['p0.0', 'p0.1', 'p0.2', 'p0.1@', 'p0.3'];
      const final = finalOf(tags);
      const a0 = final.get('a0')!;
      a0.state.rings = { 'p0.1@': [5_000, 5_000] };
      a0.state.armed = { 'p0.0': 0, 'p0.1': 0, 'p0.2': 100, 'p0.3': 0 };
      final.set('a0', { ...a0, timers: 1 });
      const early = finalOf(['p0.3', 'p0.3@']);
      early.get('a0')!.state.rings = { 'p0.3@': [50, 40] };
      const violations = [...check(withEffects(world(), tags), msgs, final), ...check(withEffects(world(), ['p0.3', 'p0.3@']), msgs, early)].join('\n');
      expect(violations).toMatch(/timer of p0\.0 \(key k0\) was set and never cancelled or replaced, but never fired/);
      expect(violations).toMatch(/timer of p0\.3 \(key none\) was set and never cancelled or replaced, but never fired/);
      expect(violations).toMatch(/timer of p0\.1 \(key k1\) fired .* although p0\.2 cancelled or replaced it/);
      expect(violations).toMatch(/a0: 1 timer\(s\) still pending/);
      expect(violations).toMatch(/timer message p0\.3@ applied at .*, before its due time/);
    });

    it('allows a timer early by at most the clock skew, and reports one earlier', () => {
      const skewed = () => {
        const w = withEffects(world(), ['p0.3', 'p0.4', 'p0.3@', 'p0.4@']);
        // Two clocks: one true, one 100 ms ahead (largest offset 100, spread 100).
        w.slots.forEach((s, i) => Object.assign(s, { offset: i === 0 ? 100 : 0 }));
        return w;
      };
      const msgs = new Map([sent('p0.3', { action: 'arm', delay: 100 }), sent('p0.4', { action: 'arm', delay: 100 })].map((s) => [s.tag, s]));
      const final = finalOf(['p0.3', 'p0.4', 'p0.3@', 'p0.4@']);
      final.get('a0')!.state.armed = { 'p0.3': 900, 'p0.4': 900 };
      // Due at 1,000 on the clock that set them: one applied at 950 (true time), within the skew; one at 850.
      final.get('a0')!.state.rings = { 'p0.3@': [1_000, 950], 'p0.4@': [1_000, 850] };
      const violations = check(skewed(), msgs, final).join('\n');
      expect(violations).not.toMatch(/p0\.3@/);
      expect(violations).toMatch(/timer message p0\.4@ applied at .* before its due time .* less the largest clock offset \(100 ms\)/);
      expect(violations).toMatch(/timer message p0\.4@ applied at .* more than the clock spread \(100 ms\) before/);
    });

    it('with two versions: reports a write by an older host after the migration, a second migration, and a newer message applied by an older host', () => {
      const evolving = () => {
        const w = withEffects(new World({ ...cfg, evolution: { rolloutAt: 0, gapMs: 0, initial: {} } }, new VirtualClock(0, Math.random), memory()), ['p0.0', 'p0.1', 'p0.2']);
        for (const [proc, v] of [['c0#0', 1], ['c0#1', 2], ['p0#0', 2]] as const) w.versions.set(proc, v);
        return w;
      };
      const msgs = new Map([sent('p0.0'), sent('p0.1'), sent('p0.2')].map((s) => [s.tag, s]));
      const final = finalOf(['p0.0', 'p0.1', 'p0.2']);
      const a0 = final.get('a0')!;
      a0.state.log = ['p0.0|c0#0', 'p0.1|c0#1', 'p0.2|c0#0'];
      a0.state.migrations = 2;
      a0.state.migratedAt = 1;
      const violations = check(evolving(), msgs, final).join('\n');
      expect(violations).toMatch(/a0: migrated 2 times/);
      expect(violations).toMatch(/a0: entry 2 \(p0\.2\|c0#0\) written by a version-1 host, but the migration to 2 came at entry 1/);
      expect(violations).toMatch(/p0\.0: sent by a version-2 producer, applied by c0#0, a version-1 host/);
    });
  });
});
