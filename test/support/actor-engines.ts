import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lmdb, memory, type Backend } from '../../src/index.js';

/** An engine the actor suites run on. */
export interface ActorEngine {
  readonly name: string;
  open(): Promise<Backend>;
  cleanup?(): Promise<void>;
}

/** The engines every actor suite runs against. */
export function actorEngines(): ActorEngine[] {
  let dir: string | undefined;
  return [
    { name: 'memory', open: async () => memory() },
    {
      name: 'lmdb',
      open: async () => {
        dir ??= mkdtempSync(join(tmpdir(), 'dgen-actors-'));
        return lmdb({ path: dir });
      },
      cleanup: async () => {
        if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
        dir = undefined;
      },
    },
  ];
}
