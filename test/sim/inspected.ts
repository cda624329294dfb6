/**
 * The operator's paged views, as the inspector reads them: a state rebuilt node by node from
 * `admin.stateNode` pages, and dead letters read a page at a time. The simulation checks that they
 * show what a whole read shows.
 */
import type { Admin } from '../../src/index.js';

const PAGE = 7;

/** The state of an instance rebuilt from pages of its nodes (undefined when none is stored). */
export async function inspectedState(admin: Admin, name: string, id: string): Promise<unknown> {
  const rebuild = async (address: string): Promise<unknown> => {
    const first = await admin.stateNode(name, id, address, { limit: PAGE });
    if (first === undefined) return undefined;
    if (first.kind === 'leaf') return first.value;
    const children = [...first.children];
    for (let next = first.next; next !== undefined; ) {
      const page = (await admin.stateNode(name, id, address, { after: next, limit: PAGE }))!;
      children.push(...page.children);
      next = page.next;
    }
    const values = await Promise.all(children.map((c) => ('value' in c ? c.value : rebuild(c.address))));
    if (first.kind === 'object') return Object.fromEntries(children.map((c, i) => [c.label, values[i]]));
    if (first.kind === 'map') return new Map(children.map((c, i) => [c.label, values[i]]));
    if (first.kind === 'set') return new Set(values);
    return values;
  };
  return rebuild('');
}

/** Positions of the dead letters, read a page of 2 at a time. */
export async function pagedDeadLetters(admin: Admin, name: string, id: string): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const page = await admin.deadLetters(name, id, { limit: 2, ...(out.length === 0 ? {} : { after: out.at(-1)! }) });
    out.push(...page.map((l) => l.position));
    if (page.length < 2) return out;
  }
}

/** JSON with object keys sorted: the stored order of fields is the key order, not insertion order. */
export function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x !== null && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x));
}
