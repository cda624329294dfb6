/** docs/observability.md lists every instrument dgen creates, with its kind, unit and attributes. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ACTOR_INSTRUMENTS, ENGINE_INSTRUMENTS, SYSTEM_INSTRUMENTS } from '../../src/observe/instruments.js';

const doc = readFileSync(new URL('../../docs/observability.md', import.meta.url), 'utf8');
const rows = new Map(doc.split('\n').filter((l) => /^\| `dgen\.[^`]+` \| (counter|histogram|up-down counter|observable counter) \|/.test(l)).map((l) => [/^\| `([^`]+)`/.exec(l)![1]!, l]));
const all = [...Object.values(ACTOR_INSTRUMENTS), ...Object.values(SYSTEM_INSTRUMENTS), ...Object.values(ENGINE_INSTRUMENTS)];

describe('docs/observability.md', () => {
  it.each(all.map((s) => [s.name, s] as const))('lists %s with its unit and attributes', (name, s) => {
    const line = rows.get(name);
    expect(line, `${name} is missing from docs/observability.md`).toBeDefined();
    expect(line).toContain(`| \`${s.unit}\` |`);
    for (const a of s.attributes) expect(line).toContain(`\`${a}\``);
  });

  it('lists no instrument that does not exist', () => {
    const names = new Set(all.map((s) => s.name));
    expect([...rows.keys()].filter((n) => !names.has(n))).toEqual([]);
  });
});
