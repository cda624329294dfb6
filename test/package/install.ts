/**
 * Builds the package, packs it with `npm pack` and installs the tarball into a fresh app in a
 * temp directory, laid out as npm lays it out: the package under node_modules/dgen, its bin
 * linked (and made executable) in node_modules/.bin. Its dependencies are linked from this
 * project's node_modules, so the install needs no network and takes a few seconds.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface InstalledApp {
  readonly dir: string;
  /** The packed file names, relative to the package root. */
  readonly files: readonly string[];
  remove(): void;
}

interface Manifest {
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
  readonly bin?: Record<string, string>;
}

export function installPackedApp(): InstalledApp {
  const tmp = mkdtempSync(join(tmpdir(), 'dgen-package-'));
  const stage = join(tmp, 'stage');
  mkdirSync(stage);
  for (const f of ['package.json', 'README.md']) cpSync(join(ROOT, f), join(stage, f));
  cpSync(join(ROOT, 'src'), join(stage, 'src'), { recursive: true });
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(stage, 'dist')]);
  execFileSync(process.execPath, [join(ROOT, 'inspector-ui/build.mjs'), join(stage, 'dist/inspector/app.js')]); // what npm run build does after tsc
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], { cwd: stage, encoding: 'utf8' })) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const tarball = join(tmp, packed[0]!.filename);

  const app = join(tmp, 'app');
  const modules = join(app, 'node_modules');
  mkdirSync(join(modules, '.bin'), { recursive: true });
  execFileSync('tar', ['xzf', tarball, '-C', modules]);
  renameSync(join(modules, 'package'), join(modules, 'dgen'));
  const manifest = JSON.parse(readFileSync(join(modules, 'dgen/package.json'), 'utf8')) as Manifest;
  for (const dep of [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.optionalDependencies ?? {}), '@types/node']) {
    mkdirSync(dirname(join(modules, dep)), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', dep), join(modules, dep));
  }
  for (const [name, target] of Object.entries(manifest.bin ?? {})) {
    symlinkSync(join('..', 'dgen', target), join(modules, '.bin', name));
    chmodSync(join(modules, 'dgen', target), 0o755); // what npm does when it links a bin
  }
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module', dependencies: { dgen: `file:${tarball}` } }));
  const fixture = join(ROOT, 'test/package/app');
  for (const f of readdirSync(fixture)) cpSync(join(fixture, f), join(app, f));
  return { dir: app, files: packed[0]!.files.map((f) => f.path), remove: () => rmSync(tmp, { recursive: true, force: true }) };
}
