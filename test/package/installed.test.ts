/**
 * The package as a user installs it: built, packed with `npm pack`, installed into a fresh app
 * (see install.ts), then type-checked there with `skipLibCheck: false` and run.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, installPackedApp, type InstalledApp } from './install.js';

let app: InstalledApp;

beforeAll(() => {
  app = installPackedApp();
}, 120_000);
afterAll(() => app?.remove());

/** Runs a command in the app; never throws. */
function run(command: string, args: readonly string[]) {
  const r = spawnSync(command, args, { cwd: app.dir, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('the packed package', () => {
  it('holds the built JavaScript, its declarations and the CLI', () => {
    expect(app.files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/ops/cli.js']));
    expect(app.files.filter((f) => f.startsWith('test/') || f.startsWith('node_modules/'))).toEqual([]);
  });

  it('type-checks an app with skipLibCheck: false; typos and wrong payloads are compile errors', () => {
    const tsc = run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', '.']);
    expect(tsc.out + tsc.err).toBe('');
    expect(tsc.code).toBe(0);
  }, 60_000);

  it('is ESM only: import works; require() works where Node loads ES modules through it, else fails with Node\'s message', () => {
    const imported = run(process.execPath, ['--input-type=module', '-e', "const m = await import('dgen'); console.log(typeof m.createSystem)"]);
    expect(imported).toMatchObject({ code: 0, out: 'function\n' });
    const required = run(process.execPath, ['--input-type=commonjs', '-e', "console.log(typeof require('dgen').createSystem)"]);
    const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
    if ((major === 20 && minor >= 19) || (major === 22 && minor >= 12) || major >= 23) {
      expect(required).toMatchObject({ code: 0, out: 'function\n' });
    } else {
      expect(required.code).not.toBe(0);
      expect(required.err).toContain('ERR_REQUIRE_ESM');
    }
  });
});
