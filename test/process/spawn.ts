import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import type { System } from '../../src/index.js';

const worker = fileURLToPath(new URL('./worker.ts', import.meta.url));

/** A worker child process whose JSON lines can be awaited. */
export interface Child {
  readonly process: ChildProcess;
  readonly lines: unknown[];
  /** Resolves with the first line (already seen or to come) matching `test`. */
  line<T>(test: (line: T) => boolean, timeoutMs?: number): Promise<T>;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  kill(): void;
}

export function spawnWorker(...args: string[]): Child {
  return spawnScript(worker, ...args);
}

/** A child process running the TypeScript file `script` with `args`. */
export function spawnScript(script: string, ...args: string[]): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: unknown[] = [];
  const listeners = new Set<() => void>();
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  createInterface({ input: child.stdout! }).on('line', (l) => {
    lines.push(JSON.parse(l));
    for (const f of listeners) f();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    process: child,
    lines,
    exited,
    kill: () => child.kill('SIGKILL'),
    line<T>(test: (line: T) => boolean, timeoutMs = 30_000) {
      return new Promise<T>((resolve, reject) => {
        const check = () => {
          const found = lines.find((l) => test(l as T));
          if (found === undefined) return false;
          listeners.delete(check);
          clearTimeout(timer);
          resolve(found as T);
          return true;
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no matching line within ${timeoutMs} ms; got ${JSON.stringify(lines.slice(-5))}; stderr: ${stderr.slice(-2000)}`));
        }, timeoutMs);
        if (!check()) listeners.add(check);
        void exited.then(() => setTimeout(check, 10));
      });
    },
  };
}

/**
 * What the tests of one file start and must not leave behind: systems (closed), child processes
 * (killed) and temporary directories (removed), cleaned up after each test.
 */
export function cleanedUp(prefix: string): { readonly children: Child[]; readonly systems: System[]; tempDir(): string } {
  const children: Child[] = [];
  const systems: System[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const s of systems.splice(0)) await s.close();
    for (const c of children.splice(0)) c.kill();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return {
    children,
    systems,
    tempDir() {
      const d = mkdtempSync(join(tmpdir(), prefix));
      dirs.push(d);
      return d;
    },
  };
}
