/**
 * 14. Telemetry overhead on the processing path: a backlog drained by one actor's consumer (the
 * processing path of section 2), with
 * - `off`: `telemetry: { enabled: false }`, the baseline: each hook of the runtime returns at once;
 * - `no SDK`: the default, `@opentelemetry/api` installed with no SDK registered (every instrument
 *   and span is the API's no-op), the case the ≤ 3 % goal is about;
 * - `SDK`: a MeterProvider with a reader and a TracerProvider exporting to memory (every metric
 *   and span recorded);
 * - `inspect$`: the default with a subscriber on `system.inspect$`.
 * Beside them, the hooks alone: what the runtime's calls into observe/ cost for a batch of one
 * message (the worst case: hooks run per batch and per message), in a tight loop with the API and
 * no SDK, against the CPU time one message takes with telemetry off.
 * The modes alternate over several rounds, each round starting with another mode (the machine is
 * shared and noisy), and each figure is the median of its rounds.
 */
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { createSystem, type Backend, type SystemOptions } from '../../src/index.js';
import { Counter } from '../lib/actors.js';
import { now, round, tightLoop } from '../lib/measure.js';
import { Observer } from '../../src/observe/observer.js';
import { loadTelemetry } from '../../src/observe/telemetry.js';
import { observeCommits } from '../lib/pump.js';
import { row, type Row, type SectionContext } from '../lib/report.js';

const ROUNDS = 5;

class PullReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

type Mode = 'off' | 'no SDK' | 'SDK' | 'inspect$';
const MODES: readonly Mode[] = ['off', 'no SDK', 'SDK', 'inspect$'];

/**
 * Fills `id`'s queue with `n` messages, then drains it with a system configured for `mode`:
 * messages per second of wall time, and per second of this process's CPU time (user + system),
 * which other processes on a shared machine disturb far less.
 */
async function drainRate(db: Backend, id: string, n: number, mode: Mode): Promise<{ wall: number; cpu: number }> {
  const filler = await createSystem({ backend: db, closeBackend: false, telemetry: { enabled: false } });
  const ref = filler.ref(Counter, id);
  await Promise.all(Array.from({ length: n }, () => ref.dispatch.add(1)));
  await filler.close();
  const exporter = new InMemorySpanExporter();
  const sdk = { meterProvider: new MeterProvider({ readers: [new PullReader()] }), tracerProvider: new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }) };
  const telemetry: SystemOptions['telemetry'] = mode === 'off' ? { enabled: false } : mode === 'SDK' ? sdk : {};
  const system = await createSystem({ backend: db, closeBackend: false, telemetry });
  let events = 0;
  if (mode === 'inspect$') system.inspect$.subscribe(() => events++);
  const o = observeCommits();
  const t0 = now();
  const c0 = process.cpuUsage();
  system.serve(Counter, { ids: [id] });
  while (o.processed() < n) await o.signal.wait(20);
  const ms = now() - t0;
  const c = process.cpuUsage(c0);
  o.stop();
  await system.close();
  await sdk.meterProvider.shutdown();
  await sdk.tracerProvider.shutdown();
  return { wall: n / (ms / 1_000), cpu: n / ((c.user + c.system) / 1e6) };
}

/** Nanoseconds of the hooks of one batch of `size` messages (attempt, commit, two timed transactions) with the API and no SDK. */
function hooksPerBatchNs(ms: number, size: number): number {
  const observer = new Observer(loadTelemetry({}, () => ({ commits: 0, conflicts: 0, retries: 0, keysRead: 0, bytesRead: 0, keysWritten: 0, bytesWritten: 0 }), 'memory'));
  const envelope = { id: '0190000000000000000000000000000a', action: 'add', payload: 1, at: Date.now(), wantsReply: false };
  const results = Array.from({ length: size }, () => ({ envelope, applied: { sends: [] } }));
  const taken = results.map(() => ({ envelope }));
  const timing = { started: 1, reduceStart: 2, reduceEnd: 3, bodyEnd: 4, committed: 5, published: 6, attempts: 1 };
  const perSecond = tightLoop(ms, () => {
    observer.attempted('counter', 'a', taken, results, 1);
    observer.transaction(0.5, 0.1);
    observer.transaction(0.5, 0.1);
    observer.committed('counter', 'a', 1, results, 'queue', timing);
  });
  return 1e9 / perSecond;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function telemetrySection(ctx: SectionContext): Promise<Row[]> {
  const { timing, engine } = ctx;
  const db = await engine.store().open();
  try {
    // Sized from a first drain to take about one window each.
    const probe = (await drainRate(db, 'probe', 2_000, 'off')).wall;
    const n = Math.max(2_000, Math.min(20_000, Math.round(probe * (timing.runMs / 1_000))));
    const rates = new Map<Mode, Array<{ wall: number; cpu: number }>>(MODES.map((m) => [m, []]));
    for (let r = 0; r < ROUNDS; r++) {
      // Each round starts with another mode, so that no mode always runs first (or warmest).
      for (const mode of [...MODES.slice(r % MODES.length), ...MODES.slice(0, r % MODES.length)]) {
        ctx.progress(`telemetry: round ${r + 1}/${ROUNDS}, ${mode}`);
        rates.get(mode)!.push(await drainRate(db, `t${r}-${mode}`, n, mode));
      }
    }
    const of = (mode: Mode, k: 'wall' | 'cpu') => rates.get(mode)!.map((x) => x[k]);
    const off = { wall: median(of('off', 'wall')), cpu: median(of('off', 'cpu')) };
    const messageNs = 1e9 / off.cpu;
    const hooks = [1, 256].map((size) => {
      const perMessage = hooksPerBatchNs(timing.runMs, size) / size;
      return row({
        section: '14. telemetry (processing path)',
        case: `hooks per message in a ${size}-message batch, API without SDK`,
        engine: engine.name,
        metric: 'time',
        unit: 'ns',
        better: 'lower',
        dgen: perMessage,
        detail: { messageCpuNsWithTelemetryOff: round(messageNs), percentOfMessage: round((perMessage / messageNs) * 100) },
        note: `${round((perMessage / messageNs) * 100)} % of the ${Math.round(messageNs).toLocaleString('en-US')} ns of CPU a message of the drain takes with telemetry off`,
      });
    });
    return [...hooks, ...MODES.map((mode) => {
      const cpu = median(of(mode, 'cpu'));
      const wall = median(of(mode, 'wall'));
      const overhead = round((1 - cpu / off.cpu) * 100);
      return row({
        section: '14. telemetry (processing path)',
        case: `backlog of ${n.toLocaleString('en-US')} drained, telemetry ${mode}`,
        engine: engine.name,
        metric: 'processed per CPU second',
        unit: 'msg/s',
        better: 'higher',
        dgen: cpu,
        detail: { wallPerSecond: round(wall), offWallPerSecond: round(off.wall), offCpuPerSecond: round(off.cpu), cpuRounds: of(mode, 'cpu').map(round), wallRounds: of(mode, 'wall').map(round), cpuOverheadPercent: overhead },
        note: mode === 'off' ? `baseline; wall ${Math.round(wall).toLocaleString('en-US')} msg/s` : `CPU overhead vs off ${overhead} %; wall ${Math.round(wall).toLocaleString('en-US')} msg/s (off ${Math.round(off.wall).toLocaleString('en-US')})`,
      });
    })];
  } finally {
    await db.close();
  }
}
