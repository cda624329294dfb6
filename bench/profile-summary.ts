/**
 * Summarizes a V8 .cpuprofile: self time by function and by module (source file or package),
 * as percentages of the samples. `npx tsx bench/profile-summary.ts FILE… [top=25]`; several files
 * (the main thread and tsx's loader thread) are merged; idle samples are left out.
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

const args = process.argv.slice(2);
const files = args.filter((a) => !/^\d+$/.test(a));
const top = Number(args.find((a) => /^\d+$/.test(a)) ?? '25');
if (files.length === 0) throw new Error('usage: profile-summary FILE… [top]');

const fnSelf = new Map<string, number>();
/** Samples with the function anywhere on the stack (inclusive time). */
const fnTotal = new Map<string, number>();
const modSelf = new Map<string, number>();
let total = 0;

function moduleOf(url: string, fn: string): string {
  if (url === '') return fn.startsWith('(') ? fn : '(native)';
  const built = url.indexOf('/.cache/dgen-bench/'); // the compiled bench (npm run bench)
  if (built >= 0) return url.slice(built + '/.cache/dgen-bench/'.length).replace(/\.js$/, '.ts');
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const src = url.indexOf('/src/');
  if (src >= 0) return url.slice(src + 1);
  const bench = url.indexOf('/bench/');
  if (bench >= 0) return url.slice(bench + 1);
  if (url.startsWith('node:')) return url;
  return url.replace(/^file:\/\//, '');
}

for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[] };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const hits = new Map<number, number>();
  for (const s of profile.samples) hits.set(s, (hits.get(s) ?? 0) + 1);
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = (n: Node) => `${n.callFrame.functionName || '(anonymous)'}  ${moduleOf(n.callFrame.url, n.callFrame.functionName)}`;
  for (const [id, n] of hits) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)' || functionName === '(program)') continue; // not this program's work
    total += n;
    const mod = moduleOf(url, functionName);
    const fn = `${functionName || '(anonymous)'}  ${mod}${url ? `:${lineNumber + 1}` : ''}`;
    fnSelf.set(fn, (fnSelf.get(fn) ?? 0) + n);
    const onStack = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) onStack.add(label(byId.get(at)!));
    for (const f of onStack) fnTotal.set(f, (fnTotal.get(f) ?? 0) + n);
    modSelf.set(mod, (modSelf.get(mod) ?? 0) + n);
  }
}

const pct = (n: number) => `${((100 * n) / total).toFixed(1).padStart(5)}%`;
const print = (title: string, m: Map<string, number>) => {
  process.stdout.write(`\n${title} (% of ${total} busy samples)\n`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${pct(v)}  ${k}\n`);
};
print('by module', modSelf);
print('by function', fnSelf);
fnTotal.delete('(root)  (root)');
print('by function, inclusive (self + callees)', fnTotal);
