/**
 * Turns the JSON report of `npm run bench` into the Markdown tables of BENCHMARKS.md.
 *
 *   npm run -s bench > /tmp/bench.json && npx tsx bench/markdown.ts /tmp/bench.json
 */
import { readFileSync } from 'node:fs';
import { markdown, type Row } from './lib/report.js';

const file = process.argv[2];
if (file === undefined) throw new Error('usage: markdown REPORT.json');
const text = readFileSync(file, 'utf8');
// `npm run bench > file` also catches npm's two-line banner; `npm run -s bench` does not print it.
const report = JSON.parse(text.slice(text.indexOf('{'))) as {
  date: string;
  command: string;
  machine: { cpu: string; cores: number; memoryGiB: number; node: string; os: string };
  engines: { name: string; durability: string }[];
  skipped: { engine: string; reason: string }[];
  seconds: number;
  results: Row[];
};
const m = report.machine;
const out = [
  `Run of ${report.date.slice(0, 10)}: \`${report.command}\`, ${Math.round(report.seconds)} s.`,
  '',
  `Machine: ${m.cores} cores, ${m.cpu}, ${m.memoryGiB} GiB, Node ${m.node}, ${m.os}.`,
  '',
  ...report.engines.map((e) => `- **${e.name}**: ${e.durability}`),
  ...report.skipped.map((s) => `- **${s.engine}**: skipped (${s.reason.split('. ')[0]})`),
  markdown(report.results),
];
process.stdout.write(`${out.join('\n')}\n`);
