/**
 * A FoundationDB cluster recovery under load: a local 3-process cluster (`double` replication,
 * each process its own zone), 2 consumer and 2 producer processes of dgen on it, 300 actors. While
 * the producers send, the fdbserver holding the master role is SIGKILLed and restarted 5 s later;
 * the cluster recovers meanwhile (transactions wait or time out). Every dispatch and call must
 * resolve (they wait through the recovery), every message must be applied exactly once, and no
 * process may die. Needs `fdbserver` and `fdbcli` on PATH; CI installs them.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createSystem, foundationdb } from '../../src/index.js';
import { canStartServer, INSTALL_SERVER, startCluster, type LocalCluster } from '../../tools/fdb-server.js';
import { actorOf, RecoveryLog } from './fdb-recovery-actor.js';
import { spawnScript, type Child } from './spawn.js';

const worker = fileURLToPath(new URL('./fdb-recovery-worker.ts', import.meta.url));
const ACTORS = 300;
const PER_PRODUCER = 600;
const SEND_MS = 10_000;
const DOWN_MS = 5_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let cluster: LocalCluster | undefined;
const children: Child[] = [];
afterAll(async () => {
  for (const c of children) c.kill();
  await cluster?.stop();
});

interface Status {
  readonly cluster?: { readonly generation?: number; readonly processes?: Record<string, { address: string; roles?: { role: string }[] }> };
}

function status(c: LocalCluster): Status {
  const out = c.cli('status json', 10);
  return JSON.parse(out.slice(out.indexOf('{'))) as Status;
}

/** The index of the cluster's process holding the master role (the one whose loss forces a recovery). */
function masterProcess(c: LocalCluster): number {
  for (const p of Object.values(status(c).cluster?.processes ?? {})) {
    if (p.roles?.some((r) => r.role === 'master') !== true) continue;
    const i = c.processes.findIndex((s) => p.address.startsWith(`127.0.0.1:${s.port}`));
    if (i >= 0) return i;
  }
  return 0;
}

describe('FoundationDB recovery', () => {
  if (!canStartServer()) {
    it.skip(`skipped: fdbserver and fdbcli are not on PATH, so no local cluster can be started; ${INSTALL_SERVER}`, () => {});
    return;
  }

  it('dispatches and calls wait through a recovery, every message is applied exactly once, no process dies', async () => {
    cluster = await startCluster({ processes: 3, redundancy: 'double' });
    const spawn = (...args: string[]) => {
      const child = spawnScript(worker, ...args);
      children.push(child);
      return child;
    };
    const consumers = [spawn('consume', cluster.clusterFile, 'c0'), spawn('consume', cluster.clusterFile, 'c1')];
    await Promise.all(consumers.map((c) => c.line<{ ready?: boolean }>((l) => l.ready === true, 60_000)));
    const producers = [0, 1].map((p) => spawn('produce', cluster!.clusterFile, String(p), String(ACTORS), String(PER_PRODUCER), String(SEND_MS)));
    await Promise.all(producers.map((c) => c.line<{ sent?: number }>((l) => (l.sent ?? 0) >= 100, 60_000)));

    const generation = status(cluster).cluster?.generation ?? 0;
    const victim = masterProcess(cluster);
    await cluster.kill(victim);
    await sleep(DOWN_MS);
    cluster.restart(victim);

    const done = await Promise.all(producers.map((c) => c.line<{ done?: boolean; sent: number; failed: unknown[]; slowest: { dispatch: number; call: number } }>((l) => l.done === true, 180_000)));
    const slowest = (verb: 'dispatch' | 'call') => Math.max(...done.map((d) => d.slowest[verb]));
    console.info(`fdb-recovery: slowest through the recovery: dispatch ${slowest('dispatch')} ms, call ${slowest('call')} ms (storeDeadlineMs 60,000)`);
    // The kill did force a recovery: the cluster's generation moved on.
    expect(status(cluster).cluster?.generation ?? 0).toBeGreaterThan(generation);
    for (const d of done) expect(d.failed).toEqual([]);
    for (const d of done) expect(d.sent).toBe(PER_PRODUCER);
    expect(await Promise.all(producers.map((c) => c.exited))).toEqual([0, 0]);

    // Every tag of every producer applied exactly once, once the consumers have drained.
    const system = await createSystem({ backend: foundationdb({ clusterFile: cluster.clusterFile }) });
    try {
      const expected = new Map<string, Map<string, number>>();
      for (let p = 0; p < 2; p++) {
        for (let i = 0; i < PER_PRODUCER; i++) {
          const id = actorOf(i, ACTORS);
          if (!expected.has(id)) expected.set(id, new Map());
          expected.get(id)!.set(`p${p}-${i}`, 1);
        }
      }
      const read = async () => new Map(await Promise.all([...expected.keys()].map(async (id) => [id, new Map(Object.entries((await system.ref(RecoveryLog, id).query()).seen))] as const)));
      let actual = await read();
      for (let i = 0; i < 120 && [...expected].some(([id, tags]) => (actual.get(id)?.size ?? 0) < tags.size); i++) {
        await sleep(500);
        actual = await read();
      }
      expect(actual).toEqual(expected);
    } finally {
      await system.close();
    }
    for (const c of consumers) {
      expect(c.process.exitCode).toBe(null);
      expect(c.lines.filter((l) => (l as { fatal?: unknown }).fatal !== undefined)).toEqual([]);
    }
  }, 240_000);
});
