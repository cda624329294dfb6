/**
 * The inspector end to end in a real browser (Debian's chromium driven by playwright-core): an
 * LMDB store with a few actors, walked to an instance; a commit arriving live; a dispatch, a
 * requeue and a lock release through the page, each checked in the store afterwards; a request
 * without the token refused. DGEN_SCREENSHOT=1 rewrites docs/inspector.png from this run.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createSystem, type System } from '../../src/index.js';
import type { Inspector } from '../../src/inspect/server.js';
import { Flaky, Locker, lockerStarted } from './actors.js';

/** Waits for what the page or a consumer does: generous, for a loaded CI machine (a passing poll returns at once). */
const POLL = { timeout: 15_000, interval: 50 };

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`inspector browser tests skipped: ${CHROMIUM} is missing (apt-get install -y chromium; .ci/run installs it)`);

describe.skipIf(!hasChromium)(`the inspector in chromium${hasChromium ? '' : ` (skipped: ${CHROMIUM} missing)`}`, () => {
  let dir: string;
  let system: System;
  let inspector: Inspector;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dgen-inspect-'));
    system = await createSystem({ path: dir });
    system.serve(Flaky);
    for (const id of ['f1', 'f2', 'g1']) await system.ref(Flaky, id).call.bump();
    await system.ref(Flaky, 'f1').call.apply(5).catch(() => undefined); // a dead letter: not enabled yet
    const locking = system.serve(Locker);
    await system.ref(Locker, 'l1').dispatch.hold();
    await lockerStarted;
    await locking.stop(); // the running thunk is abandoned: its lock stays
    inspector = await system.inspector();
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  }, 45_000); // chromium starts in a second or two; more on a loaded CI machine

  afterAll(async () => {
    await browser?.close();
    await inspector?.close();
    await system?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const base = () => inspector.url.replace(/\/\?token=.*$/, '');

  it('refuses requests without the token, and mutations with the token only in the query', async () => {
    const page = await fetch(`${base()}/`);
    expect(page.status).toBe(401);
    expect(await page.json()).toMatchObject({ error: { code: 'unauthorized' } });
    const viaQuery = await fetch(`${base()}/api/actors/flaky/instances/f1/dead-letters/000000000000000000000000/requeue?token=${inspector.token}`, { method: 'POST' });
    expect(viaQuery.status).toBe(401);
    expect(await system.admin.deadLetters(Flaky, 'f1')).toHaveLength(1);
  });

  it('walks from the actors to an instance, searching by id prefix', async () => {
    await page.goto(inspector.url);
    await page.locator('[data-test=actor]', { hasText: 'flaky' }).click();
    await expect.poll(() => page.locator('[data-test=instance]').allTextContents(), POLL).toEqual(['f1', 'f2', 'g1']);
    await page.fill('[data-test=search]', 'f');
    await page.press('[data-test=search]', 'Enter');
    await expect.poll(() => page.locator('[data-test=instance]').allTextContents(), POLL).toEqual(['f1', 'f2']);
    await page.locator('[data-test=instance]', { hasText: 'f1' }).click();
    await expect.poll(() => valueOf(page, 'total'), POLL).toBe('1');
  });

  it('shows a commit made elsewhere as it arrives', async () => {
    await page.locator('[data-test=live]').waitFor();
    await system.ref(Flaky, 'f1').dispatch.put('k1');
    await page.locator('[data-test=node][data-label=items] [data-test=toggle]').first().click();
    await page.locator('[data-test=node][data-label=k1]').waitFor();
    await system.ref(Flaky, 'f1').call.bump();
    await expect.poll(() => valueOf(page, 'total'), POLL).toBe('2');
  });

  it('dispatches a message with a JSON payload and requeues a dead letter', async () => {
    await page.selectOption('[data-test=action]', 'enable');
    await page.click('[data-test=dispatch] [data-test=dispatch]');
    await page.click('[data-test=dispatch] [data-test=confirm]');
    await expect.poll(() => valueOf(page, 'enabled'), POLL).toBe('true');
    await page.click('[data-test=dead-letters] [data-test=requeue]');
    await page.click('[data-test=dead-letters] [data-test=confirm]');
    await page.locator('[data-test=dead-letters-empty]').waitFor();
    await expect.poll(() => valueOf(page, 'total'), POLL).toBe('7');
    expect(await system.admin.deadLetters(Flaky, 'f1')).toEqual([]);
    expect(await system.admin.state(Flaky, 'f1')).toMatchObject({ total: 7, enabled: true });
    if (process.env.DGEN_SCREENSHOT === '1') await page.screenshot({ path: resolve('docs/inspector.png'), fullPage: true });
  });

  it('shows the state as of a kept commit (time travel)', async () => {
    await page.click('[data-test=commits] tr:last-child [data-test=as-of]'); // v1, the oldest
    await expect.poll(() => page.locator('[data-test=as-of-state] pre').textContent(), POLL).toBe('{total: 1, enabled: false, items: {}}');
  });

  it('refuses a payload that is not JSON before anything is sent', async () => {
    await page.selectOption('[data-test=action]', 'apply');
    await page.fill('[data-test=payload]', '{"not json');
    await page.locator('[data-test=payload-error]').waitFor();
    expect(await page.locator('[data-test=dispatch] [data-test=dispatch]').count()).toBe(0);
  });

  it('releases a stuck lock; its message goes to the dead letters', async () => {
    await page.goto(`${inspector.url}#/a/locker/l1`);
    await page.locator('[data-test=lock]').waitFor();
    await page.click('[data-test=release-lock]');
    await page.click('[data-test=lock] [data-test=confirm]');
    await page.locator('[data-test=lock]').waitFor({ state: 'detached' });
    expect(await system.admin.lock(Locker, 'l1')).toBeUndefined();
    const [letter] = await system.admin.deadLetters(Locker, 'l1');
    expect(letter).toMatchObject({ message: { action: 'hold' }, error: { code: 'lock_released' } });
    expect(await system.admin.state(Locker, 'l1')).toEqual({ held: 1 }); // what the reducer did before locking stays
    await page.locator('[data-test=dead-letters] [data-test=entry]').waitFor();
  });

  it('destroys an instance only once its id is typed', async () => {
    await page.goto(`${inspector.url}#/a/flaky/g1`);
    await page.locator('[data-test=version]').waitFor();
    await page.fill('[data-test=destroy-confirm]', 'g');
    expect(await page.isDisabled('[data-test=destroy]')).toBe(true);
    await page.fill('[data-test=destroy-confirm]', 'g1');
    await page.click('[data-test=destroy]');
    await page.locator('[data-test=destroyed]').waitFor();
    expect(await system.admin.has(Flaky, 'g1')).toBe(false);
    expect(await system.admin.has(Flaky, 'f2')).toBe(true);
  });
});

/** The text of the leaf labelled `label` at the top of the state tree. */
async function valueOf(page: Page, label: string): Promise<string | null> {
  const node = page.locator(`[data-test=state] > ul > [data-test=node][data-label=${label}] > [data-test=value]`);
  return (await node.count()) === 0 ? null : node.textContent();
}
