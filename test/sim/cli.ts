/**
 * `npm run sim -- [--seeds N] [--from S] [--seed S] [--scale X] [--jobs J] [--verbose]`
 *
 * Runs the seeded simulation from the command line: `--seeds N` runs seeds S..S+N-1 (S from
 * `--from`, default 1) spread over J worker processes (default: one per CPU); `--seed S` runs one
 * seed and prints its configuration, statistics and violations. A failing seed prints the command
 * that replays it. Exit code 1 when any seed failed.
 */
import { fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { replayCommand, runSeed, type RunResult } from './run.js';

interface Args {
  seeds: number;
  from: number;
  seed: number | undefined;
  scale: number | undefined;
  jobs: number;
  verbose: boolean;
  /** Internal: this process is a worker running seeds from..from+seeds-1 with a stride. */
  worker: { index: number; stride: number } | undefined;
}

function parse(argv: string[]): Args {
  const args: Args = { seeds: 100, from: 1, seed: undefined, scale: undefined, jobs: availableParallelism(), verbose: false, worker: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v)) throw new Error(`${a} needs a number`);
      return v;
    };
    if (a === '--seeds') args.seeds = value();
    else if (a === '--from') args.from = value();
    else if (a === '--seed') args.seed = value();
    else if (a === '--scale') args.scale = value();
    else if (a === '--jobs') args.jobs = Math.max(1, value());
    else if (a === '--verbose' || a === '-v') args.verbose = true;
    else if (a === '--worker') args.worker = { index: value(), stride: value() };
    else throw new Error(`unknown argument ${a}; use --seeds N, --from S, --seed S, --scale X, --jobs J, --verbose`);
  }
  return args;
}

const args = parse(process.argv.slice(2));
const scale = args.scale === undefined ? {} : { scale: args.scale };

if (args.seed !== undefined) {
  const r = await runSeed(args.seed, scale);
  if (args.verbose || !r.ok) console.log(JSON.stringify({ config: r.config }, null, 1));
  console.log(JSON.stringify({ seed: r.seed, ok: r.ok, digest: r.digest, wallMs: Math.round(r.wallMs), virtualMs: r.virtualMs, stats: r.stats }, null, 1));
  if (r.timeline !== undefined) console.log(r.timeline.join('\n'));
  for (const v of r.violations) console.log(`  ✗ ${v}`);
  if (!r.ok) console.log(`\nreplay: ${replayCommand(r.seed, scale)}`);
  process.exit(r.ok ? 0 : 1);
} else if (args.worker !== undefined) {
  // A worker: runs its share of the seeds and reports each result to the parent.
  for (let s = args.from + args.worker.index; s < args.from + args.seeds; s += args.worker.stride) {
    const r = await runSeed(s, scale);
    process.send!({ seed: s, ok: r.ok, violations: r.violations, wallMs: r.wallMs, crashes: r.stats.crashes, messages: r.stats.messages, crashPoints: r.stats.crashPoints, steps: r.stats.steps });
  }
  process.exit(0);
} else {
  const started = Date.now();
  const jobs = Math.min(args.jobs, args.seeds);
  const failed: Array<{ seed: number; violations: string[] }> = [];
  let done = 0;
  let crashes = 0;
  let messages = 0;
  const points: Record<string, number> = {};
  const steps: Record<string, number> = {};
  const self = fileURLToPath(import.meta.url);
  const extra = args.scale === undefined ? [] : ['--scale', String(args.scale)];
  await Promise.all(
    Array.from({ length: jobs }, (_, index) => {
      const child = fork(self, ['--from', String(args.from), '--seeds', String(args.seeds), '--worker', String(index), String(jobs), ...extra], { execArgv: ['--import', 'tsx'] });
      child.on('message', (m: Pick<RunResult, 'seed' | 'ok' | 'violations' | 'wallMs'> & { crashes: number; messages: number; crashPoints: Record<string, number>; steps: Record<string, number> }) => {
        done++;
        for (const [k, n] of Object.entries(m.steps)) steps[k] = (steps[k] ?? 0) + n;
        for (const [k, n] of Object.entries(m.crashPoints)) points[k] = (points[k] ?? 0) + n;
        crashes += m.crashes;
        messages += m.messages;
        if (!m.ok) {
          failed.push({ seed: m.seed, violations: m.violations });
          console.log(`seed ${m.seed} FAILED (${m.violations.length} violation(s)); replay: ${replayCommand(m.seed, scale)}`);
          for (const v of m.violations.slice(0, 10)) console.log(`  ✗ ${v}`);
        } else if (args.verbose) console.log(`seed ${m.seed} ok (${Math.round(m.wallMs)} ms)`);
        if (done % 500 === 0) console.log(`… ${done}/${args.seeds} seeds, ${failed.length} failed, ${Math.round((Date.now() - started) / 1000)} s`);
      });
      return new Promise<void>((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker ${index} exited with ${code}`)))));
    }),
  );
  const s = Math.round((Date.now() - started) / 100) / 10;
  console.log(`\n${done} seeds (${args.from}..${args.from + args.seeds - 1}), ${messages} messages, ${crashes} crashes, ${failed.length} failed, ${s} s on ${jobs} worker(s)`);
  if (args.verbose) console.log(`commits by step: ${JSON.stringify(Object.fromEntries(Object.entries(steps).sort()), null, 1)}`);
  if (args.verbose) console.log(`crashes by point/step: ${JSON.stringify(Object.fromEntries(Object.entries(points).sort()), null, 1)}`);
  for (const f of failed) console.log(`  failed: ${replayCommand(f.seed, scale)}`);
  process.exit(failed.length === 0 ? 0 : 1);
}
