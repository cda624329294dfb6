/**
 * Loads the real JavaScript layer of the `foundationdb` package (node-foundationdb) on top of the
 * simulated native module.
 *
 * The package's lib/native.js loads its addon with `require('node-gyp-build')(packageRoot)`. For
 * the duration of one load this module puts a stand-in for `node-gyp-build` — as resolved from the
 * package — into the CommonJS module cache, returning the simulated module for the package's root
 * (and deferring to the real `node-gyp-build` for any other root). The package's modules loaded
 * that way are then taken out of the cache again and whatever was cached before is put back, so
 * the simulated instance is private to its caller: `import('foundationdb')` elsewhere in the
 * process still gets the real package with the real addon. The package is loaded by the engine's
 * own loader (`requireBinding`, Node's `require`), so the simulation runs the production loading code.
 *
 * Test-only.
 */
import { createRequire, Module } from 'node:module';
import { dirname, join, resolve, sep } from 'node:path';
import { requireBinding, type FoundationDBBinding } from '../../src/backend/foundationdb-binding.js';
import type { SimulatedNativeModule } from './native.js';

const require = createRequire(import.meta.url);

/** Where the `foundationdb` package is installed, or undefined when it is not. */
export function foundationdbPackageRoot(): string | undefined {
  try {
    return dirname(require.resolve('foundationdb/package.json'));
  } catch {
    return undefined;
  }
}

/** The binding (JS layer + native module) with `native` as its addon; a new private instance each call. */
export function loadFoundationDBOver(native: SimulatedNativeModule): FoundationDBBinding {
  const root = foundationdbPackageRoot();
  if (root === undefined) {
    throw new Error('The `foundationdb` package is not installed, so its JS layer cannot be loaded over the simulated native client (run `npm ci`).');
  }
  const packageRequire = createRequire(join(root, 'package.json'));
  const gypPath = packageRequire.resolve('node-gyp-build');
  const cache = require.cache;
  const ours = (id: string) => id === gypPath || id.startsWith(root + sep);

  const saved = new Map<string, NodeJS.Module | undefined>();
  for (const id of Object.keys(cache)) {
    if (ours(id)) {
      saved.set(id, cache[id]);
      delete cache[id];
    }
  }
  const realGyp = () => (saved.get(gypPath)?.exports as ((dir: string) => unknown) | undefined) ?? packageRequire('node-gyp-build');
  const stand = new Module(gypPath);
  stand.filename = gypPath;
  stand.loaded = true;
  stand.exports = (dir: string) => (resolve(dir) === root ? native : (realGyp() as (d: string) => unknown)(dir));
  cache[gypPath] = stand;
  try {
    // the engine's own loader, as in production: only the addon under it is the simulated one
    const binding = requireBinding();
    if (binding.native !== (native as unknown)) throw new Error('the package did not load its native module through node-gyp-build');
    return binding;
  } finally {
    for (const id of Object.keys(cache)) if (ours(id)) delete cache[id];
    for (const [id, m] of saved) if (m !== undefined) cache[id] = m;
  }
}
