/**
 * Chaos on LMDB: 3 consumer and 2 producer processes share one database path while a random one
 * of them is SIGKILLed and restarted every 100–300 ms. The producers send 20,000 increments
 * (dispatch, idempotency key per increment) and 2,000 calls, paced over the kill period. A killed
 * producer may lose increments it had not seen acknowledged: the test tracks what each producer
 * reported as acknowledged, restarts it with the rest, and the idempotency keys make every
 * increment count exactly once. At the end: the exact count, every call's reply consistent with
 * it, an empty queue and no lock held. A count that comes out wrong fails with a diagnosis: how
 * many messages were still queued, which chunks of 100 increments (`p<producer>c<n>`, counted
 * apart in the actor's state) are short, which producer lives acknowledged them when, and the
 * launches, kills and exits around those acknowledgements.
 *
 * The kill period is 30 s (`DGEN_CHAOS_MS` to change it); the whole test takes about 35-60 s on 2
 * cores, depending on the load. Workers are bundled once with esbuild and started with plain node (about 0.2 s instead
 * of 0.7 s with tsx), so the processes spend their short lives working rather than starting.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSystem } from '../../src/index.js';
import { chunkOf, ChaosCounter, fromRanges, toRanges } from './chaos-actor.js';

const INCREMENTS = 20_000;
const CALLS = 2_000;
const PRODUCERS = 2;
const CONSUMERS = 3;
const KILL_MS = Number(process.env.DGEN_CHAOS_MS ?? 30_000);
/** How long the producers may take to finish once the kills stopped (under load, 20 s and more was seen). */
const PRODUCERS_FINISH_MS = 60_000;
/** How long the consumers may take to drain the queue once the producers finished. */
const DRAIN_MS = 30_000;

const root = fileURLToPath(new URL('../../', import.meta.url));
const bundle = join(root, 'node_modules/.cache/dgen-test/chaos-worker.mjs');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Proc {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: string;
  killed: boolean;
}

function start(args: string[], onLine: (line: Record<string, unknown>) => void): Proc {
  const child = spawn(process.execPath, [bundle, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const proc: Proc = {
    child,
    exited: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal }))),
    stderr: '',
    killed: false,
  };
  child.stderr!.on('data', (d) => (proc.stderr = (proc.stderr + d).slice(-4_000)));
  createInterface({ input: child.stdout! }).on('line', (l) => {
    let line: unknown;
    try {
      line = JSON.parse(l);
    } catch {
      return; // a line cut short by SIGKILL
    }
    onLine(line as Record<string, unknown>);
  });
  return proc;
}

function percentile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
}

interface Slot {
  readonly name: string;
  proc: Proc | undefined;
  finished: boolean;
  lives: number;
}

const running = new Set<Proc>();
let path: string;
/** Set once the test is over: children killed from then on are not restarted. */
let stopping = false;

beforeAll(async () => {
  mkdirSync(join(root, 'node_modules/.cache/dgen-test'), { recursive: true });
  await build({ entryPoints: [join(root, 'test/process/chaos-worker.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile: bundle, logLevel: 'warning' });
  path = mkdtempSync(join(tmpdir(), 'dgen-chaos-'));
});

afterAll(async () => {
  stopping = true;
  for (const p of running) {
    p.killed = true;
    p.child.kill('SIGKILL');
  }
  await Promise.all([...running].map((p) => p.exited));
  rmSync(path, { recursive: true, force: true });
});

describe('chaos on LMDB', () => {
  it(`3 consumers, 2 producers, a random process SIGKILLed and restarted every 100-300 ms for ${KILL_MS / 1000} s: ${INCREMENTS} increments and ${CALLS} calls, exactly`, async () => {
    const t0 = Date.now();
    const perProducer = INCREMENTS / PRODUCERS;
    const acked = Array.from({ length: PRODUCERS }, () => new Set<number>());
    const callsDone = Array.from({ length: PRODUCERS }, () => 0);
    const replies: Array<{ producer: number; life: number; c: number; lo: number; i: number }> = [];
    const problems: string[] = [];
    const latencies: number[] = [];
    const callFailures: string[] = [];
    let kills = 0;
    // A timeline for the diagnosis of a short count: launches, kills, exits and acknowledgements.
    const timeline: string[] = [];
    const note = (event: string) => timeline.push(`${Date.now() - t0} ms ${event}`);
    const ackedBy = new Map<string, string[]>(); // chunk -> "p<producer>/<life> at <ms>: <ids>"

    const consumers: Slot[] = Array.from({ length: CONSUMERS }, (_, k) => ({ name: `c${k}`, proc: undefined, finished: false, lives: 0 }));
    const producers: Slot[] = Array.from({ length: PRODUCERS }, (_, p) => ({ name: `p${p}`, proc: undefined, finished: false, lives: 0 }));

    const launch = (slot: Slot): void => {
      const life = slot.lives++;
      const p = producers.indexOf(slot);
      let args: string[];
      if (p < 0) args = ['consume', path, slot.name];
      else {
        const pending = Array.from({ length: perProducer }, (_, i) => i).filter((i) => !acked[p]!.has(i));
        const plan = { producer: p, ids: toRanges(pending), calls: CALLS / PRODUCERS - callsDone[p]!, acked: acked[p]!.size, until: t0 + KILL_MS * 0.85 };
        args = ['produce', path, JSON.stringify(plan)];
      }
      note(`launch ${slot.name} life ${life}`);
      const proc = start(args, (line) => {
        if (p < 0) return;
        if (typeof line.a === 'string') {
          const ids = fromRanges(line.a);
          for (const id of ids) acked[p]!.add(id);
          note(`ack ${slot.name} life ${life}: ${line.a}`);
          for (const id of ids) {
            const chunk = chunkOf(p, id);
            const list = ackedBy.get(chunk) ?? [];
            if (list.at(-1)?.startsWith(`${slot.name}/${life} at ${Date.now() - t0} ms`) !== true) list.push(`${slot.name}/${life} at ${Date.now() - t0} ms: ${line.a}`);
            ackedBy.set(chunk, list);
          }
        }
        if (typeof line.c === 'number') {
          callsDone[p]!++;
          replies.push({ producer: p, life, c: line.c, lo: line.lo as number, i: line.i as number });
        }
        if (typeof line.ms === 'number') latencies.push(line.ms);
        if (typeof line.failed === 'string') callFailures.push(line.failed);
        if (line.done === true) slot.finished = true;
      });
      slot.proc = proc;
      running.add(proc);
      void proc.exited.then(({ code, signal }) => {
        running.delete(proc);
        note(`exit ${slot.name} life ${life}: code ${code}, signal ${signal}${proc.killed ? ' (killed)' : ''}`);
        if (proc.killed || stopping) return;
        if (code === 0 && slot.finished) return;
        problems.push(`${slot.name} (life ${life}) exited by itself: code ${code}, signal ${signal}; stderr: ${proc.stderr}`);
        if (!slot.finished) launch(slot);
      });
    };

    const kill = async (slot: Slot): Promise<void> => {
      const proc = slot.proc!;
      proc.killed = true;
      note(`kill ${slot.name}`);
      proc.child.kill('SIGKILL');
      await proc.exited;
      kills++;
    };

    for (const slot of [...consumers, ...producers]) launch(slot);

    // The chaos: a random live process killed and restarted every 100–300 ms.
    let next = Date.now();
    while (Date.now() - t0 < KILL_MS) {
      next += 100 + Math.random() * 200;
      await sleep(next - Date.now());
      const live = [...consumers, ...producers].filter((s) => !s.finished && s.proc !== undefined && running.has(s.proc));
      if (live.length === 0) continue;
      const victim = live[Math.floor(Math.random() * live.length)]!;
      await kill(victim);
      if (!victim.finished) launch(victim);
    }
    const killEnded = Date.now();

    // No more kills: the producers finish what is left, then the consumers drain the queue. Each
    // wait has its own deadline: a producer is done once its increments are enqueued and its calls
    // answered, which can leave its last increments still queued, so the drain must not inherit
    // whatever time the producers left over (a shared deadline once read the count while the last
    // 100 increments of a producer were still in the queue).
    const producersDeadline = Date.now() + PRODUCERS_FINISH_MS;
    while (producers.some((s) => !s.finished) && Date.now() < producersDeadline) await sleep(50);
    const producersFinished = Date.now();
    note('producers finished');
    expect(producers.map((s) => s.finished), `producers unfinished; problems: ${problems.join('\n')}`).toEqual([true, true]);

    const system = await createSystem({ path });
    const counter = system.ref(ChaosCounter, 'shared');
    let count = -1;
    let queued = -1;
    let chunks: Record<string, number> = {};
    const deadline = Date.now() + DRAIN_MS;
    while (Date.now() < deadline) {
      ({ count, chunks } = await counter.query((s) => ({ count: s.count, chunks: s.chunks })));
      queued = (await system.admin.queue(ChaosCounter, 'shared', { limit: 10 })).length;
      if (count >= INCREMENTS && queued === 0) break;
      await sleep(50);
    }
    note(`drain loop ended: count ${count}, queued ${queued}`);
    const lock = await system.admin.lock(ChaosCounter, 'shared');
    const deadLetters = await system.admin.deadLetters(ChaosCounter, 'shared');
    await system.close();

    // Every increment acknowledged (each producer saw all of its own acknowledged), counted once.
    expect(acked.map((s) => s.size)).toEqual([perProducer, perProducer]);
    expect(count, count === INCREMENTS ? '' : diagnose(count, queued, chunks, ackedBy, timeline)).toBe(INCREMENTS);
    expect(queued).toBe(0);
    expect(lock).toBeUndefined();
    expect(deadLetters).toEqual([]);
    // Every call answered with a count consistent with the run: at least the increments its
    // producer had acknowledged before issuing it, at most the total, never decreasing along one
    // producer's issue order (the counter only grows and one ref keeps its order).
    expect(replies).toHaveLength(CALLS);
    for (const r of replies) {
      expect(Number.isInteger(r.c) && r.c >= r.lo && r.c <= INCREMENTS, `reply ${JSON.stringify(r)}`).toBe(true);
    }
    const lives = new Map<string, typeof replies>();
    for (const r of replies) lives.set(`${r.producer}/${r.life}`, [...(lives.get(`${r.producer}/${r.life}`) ?? []), r]);
    for (const [life, rs] of lives) {
      rs.sort((a, b) => a.i - b.i);
      for (let k = 1; k < rs.length; k++) expect(rs[k]!.c, `replies of producer life ${life} out of order`).toBeGreaterThanOrEqual(rs[k - 1]!.c);
    }
    expect(problems).toEqual([]);
    // The chaos happened: at least half the kills of one every 300 ms (the loop waits for each
    // victim's exit, which takes long on a loaded machine: 89 of 90 was once seen at load 18).
    expect(kills).toBeGreaterThan((KILL_MS / 300) * 0.5);
    console.log(
      `chaos: ${kills} kills in ${Math.round((killEnded - t0) / 100) / 10} s, ${consumers.reduce((n, s) => n + s.lives, 0)} consumer and ${producers.reduce((n, s) => n + s.lives, 0)} producer lives; ` +
        `producers finished ${Math.round((producersFinished - killEnded) / 100) / 10} s and the queue drained ${Math.round((Date.now() - killEnded) / 100) / 10} s after the last kill; total ${Math.round((Date.now() - t0) / 100) / 10} s; ` +
        `calls: p50 ${percentile(latencies, 0.5)} ms, p99 ${percentile(latencies, 0.99)} ms, max ${percentile(latencies, 1)} ms, ${callFailures.length} failed and made again${callFailures.length > 0 ? ` (${[...new Set(callFailures)].slice(0, 3).join('; ')})` : ''}`,
    );
  }, KILL_MS + PRODUCERS_FINISH_MS + DRAIN_MS + 30_000);
});

/** What a short (or long) count says: which chunks are off, who acknowledged them when, and the timeline around. */
function diagnose(count: number, queued: number, chunks: Record<string, number>, ackedBy: Map<string, string[]>, timeline: string[]): string {
  const off: string[] = [];
  const times: number[] = [];
  for (let p = 0; p < PRODUCERS; p++) {
    for (let c = 0; c < INCREMENTS / PRODUCERS / 100; c++) {
      const chunk = `p${p}c${c}`;
      const n = chunks[chunk] ?? 0;
      if (n === 100) continue;
      const acks = ackedBy.get(chunk) ?? [];
      off.push(`${chunk}: counted ${n} of 100; acknowledged by ${acks.join(' | ') || 'nobody'}`);
      for (const a of acks) times.push(Number(/ at (\d+) ms/.exec(a)?.[1] ?? NaN));
    }
  }
  const near = timeline.filter((e) => times.some((t) => Math.abs(Number(e.split(' ')[0]) - t) < 3_000));
  const text = [`count ${count}, queued ${queued}`, ...off, 'timeline within 3 s of those acknowledgements:', ...near].join('\n');
  console.error(`chaos diagnosis:\n${text}`);
  return text;
}
