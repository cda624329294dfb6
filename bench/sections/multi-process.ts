/**
 * 9. Several processes on one store (LMDB and FoundationDB; the memory engine lives in one
 * process), with the targets of FoundationDB's issue beside them, all measured in the same run:
 *
 * - multi-process throughput: 2 consumer processes serving the Counter and 4 producer processes
 *   dispatching to 1,000 actors (each producer keeps 250 dispatches awaiting their enqueue),
 *   end to end (first dispatch → last message processed). Reference: dgen's own single-process
 *   backlog drain on the same store (one actor's queue filled, then drained by one process), as
 *   in section 2. Target on FoundationDB: multi-process ≥ 0.5× the backlog drain.
 * - a call served by another process: calls one at a time to an idle actor served by a child
 *   process, p50. Baseline: one bare read-modify-write transaction on the same store (read a key,
 *   write it, commit), p50. Target on FoundationDB: ≤ 2× the bare transaction.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createSystem, type Backend } from '../../src/index.js';
import { Counter } from '../lib/actors.js';
import type { Store } from '../lib/engine.js';
import { distribution, now, sleep } from '../lib/measure.js';
import { observeCommits } from '../lib/pump.js';
import { row, type Row, type SectionContext } from '../lib/report.js';

const SECTION = '9. several processes on one store';
const PRODUCERS = 4;
const CONSUMERS = 2;
const ACTORS = 1_000;
const CAP = 250;
const CALLS = 200;

interface Child {
  readonly process: ChildProcess;
  ask<T>(message: unknown): Promise<T>;
}

async function spawnChild(role: 'consume' | 'produce', store: Store): Promise<Child> {
  const script = fileURLToPath(new URL('../lib/multi-child.js', import.meta.url));
  const child = fork(script, [role, ...store.child!], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const nextMessage = <T>() =>
    new Promise<T>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`multi-child ${role} exited with ${code}`));
      child.once('exit', onExit);
      child.once('message', (m) => {
        child.off('exit', onExit);
        resolve(m as T);
      });
    });
  await nextMessage();
  return {
    process: child,
    ask<T>(message: unknown) {
      const reply = nextMessage<T>();
      child.send(message as never);
      return reply;
    },
  };
}

async function stop(children: readonly Child[]): Promise<void> {
  await Promise.all(
    children.map(async ({ process: child }) => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5_000)]);
      child.kill('SIGKILL');
    }),
  );
}

/** 4 producer and 2 consumer processes, `total` messages over 1,000 actors: messages per second end to end. */
async function multiProcess(store: Store, total: number): Promise<number> {
  const children: Child[] = [];
  try {
    const consumers = await Promise.all(Array.from({ length: CONSUMERS }, () => spawnChild('consume', store)));
    children.push(...consumers);
    const producers = await Promise.all(Array.from({ length: PRODUCERS }, () => spawnChild('produce', store)));
    children.push(...producers);
    const share = Math.ceil(total / PRODUCERS);
    const t0 = now();
    const produced = producers.map((p, i) => p.ask({ from: i * share, count: Math.min(share, total - i * share), actors: ACTORS, cap: CAP }));
    for (;;) {
      const counts = await Promise.all(consumers.map((c) => c.ask<{ processed: number }>('count')));
      if (counts.reduce((n, c) => n + c.processed, 0) >= total) break;
      await sleep(20);
    }
    const ms = now() - t0;
    await Promise.all(produced);
    return (total / ms) * 1_000;
  } finally {
    await stop(children);
  }
}

/** One process drains one actor's backlog of `n` messages: messages per second (section 2's backlog). */
async function backlogDrain(db: Backend, n: number): Promise<number> {
  const producer = await createSystem({ backend: db });
  const ref = producer.ref(Counter, 'backlog');
  await Promise.all(Array.from({ length: n }, () => ref.dispatch.add(1)));
  await producer.close();
  const consumer = await createSystem({ backend: db });
  const o = observeCommits();
  const t0 = now();
  consumer.serve(Counter, { ids: ['backlog'] });
  while (o.processed() < n) await o.signal.wait(20);
  const ms = now() - t0;
  o.stop();
  await consumer.close();
  return (n / ms) * 1_000;
}

/** p50 of calls one at a time to an idle actor served by a child process, and of a bare read-modify-write. */
async function remoteCall(store: Store, db: Backend) {
  const server = await spawnChild('consume', store);
  const system = await createSystem({ backend: db });
  try {
    const ref = system.ref(Counter, 'remote');
    await ref.call.addGet(1); // warm: the reply listener, the server's consumer
    const call: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      await sleep(2); // idle again
      const t0 = now();
      await ref.call.addGet(1);
      call.push(now() - t0);
    }
    const key = Buffer.from('bench-rmw');
    const rmw: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      await sleep(2);
      const t0 = now();
      await db.transact(async (tx) => {
        const v = await tx.get(key);
        tx.set(key, Buffer.from(String(Number(v?.toString() ?? '0') + 1)));
      });
      rmw.push(now() - t0);
    }
    return { call: distribution(call), rmw: distribution(rmw) };
  } finally {
    await system.close();
    await stop([server]);
  }
}

export async function multiProcessSection(ctx: SectionContext): Promise<Row[]> {
  const { engine } = ctx;
  if (engine.store().child === undefined) return []; // the memory engine lives in one process
  const processing = ctx.shared.get(`${engine.name}.processing`);
  // about a few seconds of work at the measured single-process rate
  const total = Math.max(5_000, Math.min(40_000, Math.round((processing ?? 5_000) * 3)));
  ctx.progress(`multi-process: ${PRODUCERS} producers + ${CONSUMERS} consumers, ${total.toLocaleString('en-US')} messages over ${ACTORS.toLocaleString('en-US')} actors`);
  const multi = await multiProcess(ctx.engine.store(), total);
  ctx.progress('multi-process: single-process backlog drain (the reference)');
  const db = await engine.store().open();
  let drain: number;
  try {
    drain = await backlogDrain(db, Math.min(total, 20_000));
  } finally {
    await db.close();
  }
  ctx.progress('multi-process: a call served by another process, and a bare read-modify-write');
  const store = engine.store();
  const callDb = await store.open();
  let remote;
  try {
    remote = await remoteCall(store, callDb);
  } finally {
    await callDb.close();
  }
  const ratio = multi / drain;
  return [
    row({
      section: SECTION,
      case: `${PRODUCERS} producer + ${CONSUMERS} consumer processes, ${ACTORS.toLocaleString('en-US')} actors`,
      engine: engine.name,
      metric: 'processed',
      unit: 'msg/s',
      better: 'higher',
      dgen: multi,
      detail: { singleProcessBacklogDrain: drain, ratio, target: '≥ 0.5× on FoundationDB', messages: total },
      note: `${ratio.toFixed(2)}× dgen's single-process backlog drain (${Math.round(drain).toLocaleString('en-US')} msg/s, same run; target ≥ 0.5×)`,
    }),
    row({
      section: SECTION,
      case: 'call served by another process, idle actor',
      engine: engine.name,
      metric: 'p50',
      unit: 'ms',
      better: 'lower',
      dgen: remote.call.p50,
      baselines: { bare: remote.rmw.p50 },
      detail: { call: remote.call, bareReadModifyWrite: remote.rmw, target: '≤ 2× the bare read-modify-write on FoundationDB' },
      note: `bare: one read-modify-write transaction; p99 ${remote.call.p99.toFixed(1)} ms vs ${remote.rmw.p99.toFixed(1)} ms`,
    }),
  ];
}
