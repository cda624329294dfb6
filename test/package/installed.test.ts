/**
 * The package as a user installs it: built, packed with `npm pack`, installed into a fresh app
 * (see install.ts), then type-checked there with `skipLibCheck: false` and run.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
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
    expect(app.files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/ops/cli.js', 'dist/inspector/app.js']));
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

  it('exports dgen/testing with its declarations, and it runs in virtual time', () => {
    expect(app.files).toEqual(expect.arrayContaining(['dist/testing/index.js', 'dist/testing/index.d.ts']));
    expect(run(process.execPath, ['testing.js'])).toMatchObject({ code: 0, err: '', out: '{"reduced":3,"before":0,"after":2}\n' });
  });

  describe('npx dgen, the installed bin', () => {
    const dgen = (...args: string[]) => run(join(app.dir, 'node_modules/.bin/dgen'), [...args]);
    const data = () => join(app.dir, 'data');
    beforeAll(() => {
      const seeded = run(process.execPath, ['seed.js', data()]); // stores instances through the installed package
      expect(seeded).toMatchObject({ code: 0, err: '' });
    }, 60_000);

    it('is an executable file with a node shebang, at the path package.json names', () => {
      expect(readFileSync(join(app.dir, 'node_modules/dgen/dist/ops/cli.js'), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
      expect(statSync(join(app.dir, 'node_modules/dgen/dist/ops/cli.js')).mode & 0o111).not.toBe(0);
    });

    it('prints help and exits 0', () => {
      expect(dgen('--help')).toMatchObject({ code: 0, err: '', out: expect.stringContaining('usage: dgen <command>') });
      expect(dgen('help', 'instances')).toMatchObject({ code: 0, err: '', out: expect.stringContaining('usage: dgen instances <actor>') });
    });

    it('lists the actors of a store as JSON', () => {
      const r = dgen('actors', '--path', data());
      expect(r).toMatchObject({ code: 0, err: '' });
      expect(JSON.parse(r.out)).toEqual([
        { name: 'counter', instances: 2, queued: 0, deadLetters: 1 },
        { name: 'idle', instances: 1, queued: 1, deadLetters: 0 },
      ]);
      expect(dgen('actors', '--path', data(), '--format', 'table').out).toMatch(/^name\s+instances\s+queued\s+deadLetters\n/);
    });

    it('prints state and dead letters as JSON; the dead letter keeps its code', () => {
      expect(JSON.parse(dgen('state', 'counter', 'a', '--path', data()).out)).toEqual({ count: 5 });
      const [letter] = JSON.parse(dgen('dead-letters', 'counter', 'b', '--path', data()).out) as Array<{ error: unknown }>;
      expect(letter!.error).toEqual({ name: 'TypeError', message: 'not today', code: 'reducer_failed' });
      expect(dgen('lock', 'counter', 'a', '--path', data())).toMatchObject({ code: 0, out: 'null\n' });
    });

    it('serves the inspector, its UI built into the package (no esbuild, no network)', async () => {
      const child = spawn(join(app.dir, 'node_modules/.bin/dgen'), ['inspect', '--path', data(), '--port', '0'], { cwd: app.dir });
      try {
        const url = await new Promise<string>((resolve, reject) => {
          let out = '';
          child.stdout.on('data', (d: Buffer) => {
            out += d.toString();
            const m = /dgen inspector: (\S+)/.exec(out);
            if (m) resolve(m[1]!);
          });
          child.on('exit', (code) => reject(new Error(`dgen inspect exited with ${code}`)));
        });
        const page = await fetch(url);
        expect(page.status).toBe(200);
        expect(await page.text()).toContain('<div id="app"');
        const actors = await fetch(new URL('/api/actors', url), { headers: { 'x-dgen-token': new URL(url).searchParams.get('token')! } });
        expect(await actors.json()).toEqual([expect.objectContaining({ name: 'counter', instances: 2 }), expect.objectContaining({ name: 'idle', instances: 1 })]);
        expect((await fetch(new URL('/api/actors', url))).status).toBe(401);
      } finally {
        child.kill('SIGTERM');
      }
    });

    it('answers a typo with a message on stderr and a non-zero exit', () => {
      expect(dgen('instances', 'rooom', '--path', data())).toMatchObject({ code: 1, out: '', err: expect.stringContaining("unknown_actor]: No stored instance of actor 'rooom'") });
      expect(dgen('state', 'counter', 'zz', '--path', data())).toMatchObject({ code: 1, out: '', err: expect.stringContaining("unknown_instance]: Actor 'counter' has no stored instance 'zz'") });
      expect(dgen('lock', 'counter', 'zz', '--path', data())).toMatchObject({ code: 1, out: '' });
      expect(dgen('instancs', 'counter', '--path', data())).toMatchObject({ code: 2, out: '', err: expect.stringContaining("unknown command 'instancs'") });
    });
  });
});
