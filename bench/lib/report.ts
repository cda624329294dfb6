/** The shape of one figure in the JSON report, and the human table printed to stderr. */
import { round } from './measure.js';
import type { BenchEngine } from './engine.js';
import type { Timing } from './measure.js';

export type Baseline = 'bare' | 'naive' | 'redux';

/** One dgen figure with its baselines, measured in the same run on the same engine. */
export interface Row {
  readonly section: string;
  readonly case: string;
  readonly engine: string;
  readonly metric: string;
  readonly unit: string;
  /** Which way is better: throughput up, latency and bytes down. */
  readonly better: 'higher' | 'lower';
  readonly dgen: number;
  readonly baselines: Partial<Record<Baseline, number>>;
  /** dgen ÷ baseline, for each baseline measured. */
  readonly ratios: Partial<Record<Baseline, number>>;
  /** Supporting numbers (batch sizes, conflicts, breakdowns). */
  readonly detail?: Record<string, unknown>;
  readonly note?: string;
}

export function row(r: Omit<Row, 'ratios' | 'dgen' | 'baselines'> & { dgen: number; baselines?: Partial<Record<Baseline, number | undefined>> }): Row {
  const baselines: Partial<Record<Baseline, number>> = {};
  const ratios: Partial<Record<Baseline, number>> = {};
  for (const [k, v] of Object.entries(r.baselines ?? {}) as [Baseline, number | undefined][]) {
    if (v === undefined || !Number.isFinite(v)) continue;
    baselines[k] = round(v);
    if (v !== 0) ratios[k] = round(r.dgen / v);
  }
  return { ...r, dgen: round(r.dgen), baselines, ratios };
}

/** What a section gets. */
export interface SectionContext {
  readonly engine: BenchEngine;
  readonly timing: Timing;
  /** Figures one section leaves for another (e.g. the processing rate the latency load uses). */
  readonly shared: Map<string, number>;
  /** Progress line on stderr. */
  progress(message: string): void;
}

export type Section = (ctx: SectionContext) => Promise<Row[]>;

function fmt(x: number | undefined): string {
  if (x === undefined) return '–';
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1e7) return x.toExponential(2);
  if (a >= 1_000) return Math.round(x).toLocaleString('en-US');
  if (a >= 10) return x.toFixed(1).replace(/\.0$/, '');
  if (a >= 1) return x.toFixed(2);
  if (a === 0) return '0';
  return x.toPrecision(2);
}

function ratio(x: number | undefined): string {
  if (x === undefined) return '';
  return ` (${x >= 10 ? x.toFixed(0) : x >= 0.1 ? x.toFixed(2) : x.toPrecision(1)}×)`;
}

/** A fixed-width table, one line per figure, grouped by section. */
export function table(rows: readonly Row[]): string {
  const head = ['engine', 'case', 'metric', 'dgen', 'bare engine', 'naive JSON actor', 'redux (memory)'];
  const lines = rows.map((r) => [
    r.engine,
    r.case,
    `${r.metric} (${r.unit})`,
    fmt(r.dgen),
    fmt(r.baselines.bare) + ratio(r.ratios.bare),
    fmt(r.baselines.naive) + ratio(r.ratios.naive),
    fmt(r.baselines.redux) + ratio(r.ratios.redux),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const out: string[] = [];
  const line = (cells: string[]) => cells.map((c, i) => (i >= 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  let section = '';
  rows.forEach((r, i) => {
    if (r.section !== section) {
      section = r.section;
      out.push('', `== ${section} ==`, line(head));
    }
    out.push(line(lines[i]!) + (r.note !== undefined ? `   ${r.note}` : ''));
  });
  out.push('', 'ratios in parentheses: dgen ÷ baseline (throughput: higher is better; latency, keys, bytes, times: lower is better)');
  return out.join('\n');
}

/** Markdown version of {@link table}, for BENCHMARKS.md. */
export function markdown(rows: readonly Row[]): string {
  const out: string[] = [];
  let section = '';
  for (const r of rows) {
    if (r.section !== section) {
      section = r.section;
      out.push('', `#### ${section}`, '', '| engine | case | metric | dgen | bare engine | naive JSON actor | redux (memory) |', '|---|---|---|---:|---:|---:|---:|');
    }
    out.push(
      `| ${r.engine} | ${r.case}${r.note !== undefined ? ` — ${r.note}` : ''} | ${r.metric} (${r.unit}) | ${fmt(r.dgen)} | ${fmt(r.baselines.bare)}${ratio(r.ratios.bare)} | ${fmt(r.baselines.naive)}${ratio(r.ratios.naive)} | ${fmt(r.baselines.redux)}${ratio(r.ratios.redux)} |`,
    );
  }
  return out.join('\n');
}
