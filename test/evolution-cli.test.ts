/**
 * `dgen migrate <actor> --import MODULE [--dry-run]`: walks every stored instance in pages,
 * reports failures with their instance ids, and writes nothing in a dry run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSystem } from '../src/index.js';
import { WalletV1 } from './fixtures/wallet.js';
import { runCli } from './support/cli.js';

let path: string;
const fixtures = resolve('test/fixtures/wallet.ts');
const run = (...argv: string[]) => runCli([...argv, '--path', path]);
const stateOf = async (id: string) => {
  const s = await createSystem({ path });
  try {
    return await s.admin.state('wallet', id);
  } finally {
    await s.close();
  }
};

beforeAll(async () => {
  path = mkdtempSync(join(tmpdir(), 'dgen-migrate-'));
  const system = await createSystem({ path });
  system.serve(WalletV1);
  for (const [id, amount] of [['w1', 5], ['w2', -3], ['w3', 7], ['w4', 1], ['w5', 2]] as const) {
    await system.ref(WalletV1, id).dispatch.deposit(amount);
    await system.ref(WalletV1, id).call.read();
  }
  await system.close();
});
afterAll(() => rmSync(path, { recursive: true, force: true }));

describe('dgen migrate', () => {
  it('--dry-run reports what would be migrated and the failures by instance id, and writes nothing', async () => {
    const before = await stateOf('w1');
    const r = await run('migrate', 'wallet', '--import', fixtures, '--dry-run', '--page', '2');
    expect(r.code).toBe(1); // one instance cannot be migrated
    expect(JSON.parse(r.out)).toMatchObject({ actor: 'wallet', version: 3, dryRun: true, migrated: 4, current: 0, failed: [{ id: 'w2', code: 'migration_failed' }] });
    expect(await stateOf('w1')).toEqual(before);
  });

  it('migrates every instance, page by page; a second run finds them current', async () => {
    const r = await run('migrate', 'wallet', '--import', fixtures, '--page', '2');
    expect(JSON.parse(r.out)).toMatchObject({ dryRun: false, migrated: 4, current: 0, failed: [{ id: 'w2' }] });
    expect(await stateOf('w3')).toEqual({ balance: { amount: 7, currency: 'EUR' }, owner: 'nobody', log: ['v1 deposit 7'], audited: true });
    expect(await stateOf('w2')).toMatchObject({ balance: -3 });
    const again = await run('migrate', 'wallet', '--import', fixtures, '--after', 'w3');
    expect(JSON.parse(again.out)).toMatchObject({ migrated: 0, current: 2, failed: [] });
    expect(again.code).toBe(0);
  });

  it('prints its help', async () => {
    const r = await run('help', 'migrate');
    expect(r.code).toBe(0);
    expect(r.out).toContain('--dry-run');
  });
});
