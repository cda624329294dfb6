/**
 * The architecture as a test: which folder of src/ may import which, no import cycles, and the
 * runtime reaching storage engines only through the contract. See src/README.md.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

/** The storage contract: the only part of backend/ the runtime may import. */
const CONTRACT = ['backend/contract', 'backend/errors', 'backend/subspace'];
const LOW = ['errors', 'util', ...CONTRACT];

/** What each folder may import, besides itself. `errors` is src/errors.ts, the shared error base. */
const ALLOWED: Record<string, readonly string[]> = {
  errors: [],
  backend: ['errors'],
  state: ['errors', ...CONTRACT],
  util: [...CONTRACT],
  define: ['errors', 'util'],
  store: [...LOW, 'state', 'define'],
  // telemetry and inspect$: told by the runtime what happens to messages
  observe: [...LOW, 'store'],
  runtime: [...LOW, 'store', 'define', 'observe'],
  time: [...LOW, 'state', 'store', 'define', 'runtime'],
  // the batch writes the change feed's entry through one file of changes/
  serve: [...LOW, 'state', 'store', 'define', 'runtime', 'time', 'evolution', 'changes/entry', 'changes/keys'],
  changes: [...LOW, 'state', 'store', 'define', 'runtime'],
  // evolving definitions: migrations, upcasting, outdated hosts, the eager walk (used by serve/ and ops/)
  evolution: [...LOW, 'state', 'store', 'define', 'runtime'],
  // createSystem composes the parts: refs, servers, `system.admin`, and LMDB as the default engine.
  client: [...LOW, 'state', 'store', 'define', 'runtime', 'time', 'serve', 'changes', 'ops/admin', 'backend/lmdb', 'inspect', 'observe'],
  // the web inspector: an HTTP face of `system.admin`, below the system that serves it
  inspect: ['errors', 'ops/admin'],
  // the CLI opens the engine its flags name, and serves the inspector
  ops: [...LOW, 'state', 'store', 'define', 'runtime', 'time', 'changes', 'evolution', 'client', 'backend/foundationdb', 'inspect'],
  // the test toolkit (dgen/testing): test systems on the memory engine, simulations on the shared engine
  testing: [...LOW, 'state', 'store', 'define', 'runtime', 'time', 'serve', 'client', 'ops/admin', 'backend/memory', 'backend/faults', 'backend/random'],
  index: ['*'],
};

/** Every .ts file of src/, as a path relative to src/ without its extension. */
function sources(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') ? [relative(SRC, path).replace(/\.ts$/, '')] : [];
  });
}

/** The src/ files a file imports (relative specifiers only; packages are not layers). */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(join(SRC, `${file}.ts`), 'utf8'), true, true);
  return info.importedFiles
    .map((f) => f.fileName)
    .filter((s) => s.startsWith('.'))
    .map((s) => relative(SRC, resolve(SRC, dirname(file), s)).replace(/\.js$/, ''));
}

/** The layer of a file: its top folder, or its own name for a file directly under src/. */
function layerOf(file: string): string {
  return file.includes('/') ? file.slice(0, file.indexOf('/')) : file;
}

/** A rule names a layer (any of its files) or one file; backend/ is reached only through named files. */
function allowed(from: string, to: string): boolean {
  const layer = layerOf(from);
  if (layerOf(to) === layer) return true;
  return (ALLOWED[layer] ?? []).some((r) => r === '*' || r === to || (r === layerOf(to) && r !== 'backend'));
}

const graph = new Map(sources().map((f) => [f, importsOf(f)]));

describe('src/ layout', () => {
  it('every file sits in a known layer', () => {
    const unknown = [...graph.keys()].filter((f) => ALLOWED[layerOf(f)] === undefined);
    expect(unknown).toEqual([]);
  });

  it('no layer imports one above it, and only the contract of backend/', () => {
    const wrong = [...graph].flatMap(([from, tos]) => tos.filter((to) => !allowed(from, to)).map((to) => `${from} -> ${to}`));
    expect(wrong).toEqual([]);
  });

  it('has no import cycles', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (f: string, path: string[]): void => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...path.slice(path.indexOf(f)), f].join(' -> '));
        return;
      }
      state.set(f, 'open');
      for (const to of graph.get(f) ?? []) visit(to, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of graph.keys()) visit(f, []);
    expect(cycles).toEqual([]);
  });

  it('the checks see a violation (backend importing the runtime would fail)', () => {
    expect(allowed('backend/memory', 'runtime/runtime')).toBe(false);
    expect(allowed('state/store', 'store/keys')).toBe(false);
    expect(allowed('serve/consumer', 'backend/lmdb')).toBe(false);
    expect(allowed('serve/consumer', 'backend/contract')).toBe(true);
  });
});
