import { describe, expect, it } from 'vitest';
import { Subspace } from '../../src/backend/subspace.js';
import { readNode, type NodeView } from '../../src/state/node.js';
import { StateStore } from '../../src/state/store.js';
import { FakeTx } from './support.js';

const space = new Subspace(Buffer.from([0x15, 0x07])).at('s');

const sample = () => ({
  count: 3,
  name: 'sample',
  big: 'x'.repeat(250_000), // a leaf stored in chunks
  list: [1, 'two', { three: 3 }],
  users: [{ id: 'u1', age: 30 }, { id: 7, age: 40 }],
  tags: new Set(['a', 'b']),
  byKey: new Map<unknown, unknown>([['k1', { deep: [true] }], [2, 'two']]),
  nested: { a: { b: { c: null } } },
});

async function stored(state: unknown): Promise<FakeTx> {
  const tx = new FakeTx();
  new StateStore(space).writeAll(tx.tx, state);
  return tx;
}

/** Reads every page of the node at `address`. */
async function allPages(tx: FakeTx, address: Buffer, limit: number): Promise<NodeView> {
  const first = (await readNode(tx.tx, space, address, { limit }))!;
  const children = [...first.children];
  for (let next = first.next; next !== undefined; ) {
    const page = (await readNode(tx.tx, space, address, { after: next, limit }))!;
    expect(page.children.length).toBeLessThanOrEqual(limit);
    children.push(...page.children);
    next = page.next;
  }
  return { ...first, children };
}

/** Rebuilds a value from its nodes, one subtree at a time. */
async function rebuild(tx: FakeTx, address: Buffer, limit: number): Promise<unknown> {
  const node = await allPages(tx, address, limit);
  if (node.kind === 'leaf') return node.value;
  const values = await Promise.all(node.children.map((c) => (c.kind === 'leaf' && 'value' in c ? c.value : rebuild(tx, c.address, limit))));
  const labels = node.children.map((c) => c.label);
  switch (node.kind) {
    case 'object':
      return Object.fromEntries(labels.map((l, i) => [l, values[i]]));
    case 'map':
      return new Map(labels.map((l, i) => [l, values[i]]));
    case 'set':
      return new Set(values);
    default:
      return values;
  }
}

describe('readNode: a stored state read one node and one page at a time', () => {
  it('rebuilds every kind of node from pages of one child', async () => {
    const tx = await stored(sample());
    expect(await rebuild(tx, Buffer.alloc(0), 1)).toEqual(sample());
  });

  it('lists a node\'s direct children with their labels, kinds and leaf values', async () => {
    const tx = await stored(sample());
    const root = (await readNode(tx.tx, space, Buffer.alloc(0), { limit: 100 }))!;
    expect(root.kind).toBe('object');
    expect(root.next).toBeUndefined();
    const byLabel = Object.fromEntries(root.children.map((c) => [String(c.label), c]));
    expect(byLabel.count).toMatchObject({ kind: 'leaf', value: 3 });
    expect(byLabel.big).toMatchObject({ kind: 'leaf' });
    expect(byLabel.big).not.toHaveProperty('value'); // chunked: read on demand
    expect((await readNode(tx.tx, space, byLabel.big!.address, { limit: 1 }))!.value).toBe('x'.repeat(250_000));
    expect(byLabel.users!.kind).toBe('keyed-array');
    const users = (await readNode(tx.tx, space, byLabel.users!.address, { limit: 10 }))!;
    expect(users.children.map((c) => c.label)).toEqual(['u1', 7]);
    expect(byLabel.byKey!.kind).toBe('map');
    expect(byLabel.tags!.kind).toBe('set');
  });

  it('pages a large object without reading the subtrees of its children', async () => {
    const wide: Record<string, unknown> = {};
    for (let i = 0; i < 500; i++) wide[`k${String(i).padStart(3, '0')}`] = { payload: 'y'.repeat(100), n: i };
    const tx = await stored({ wide });
    const [wideNode] = (await readNode(tx.tx, space, Buffer.alloc(0), { limit: 10 }))!.children;
    const page = (await readNode(tx.tx, space, wideNode!.address, { limit: 20 }))!;
    expect(page.children.map((c) => c.label)).toEqual(Array.from({ length: 20 }, (_, i) => `k${String(i).padStart(3, '0')}`));
    expect(page.children.every((c) => c.kind === 'object')).toBe(true);
    const second = (await readNode(tx.tx, space, wideNode!.address, { after: page.next!, limit: 20 }))!;
    expect(second.children[0]!.label).toBe('k020');
  });

  it('is undefined where no node is stored', async () => {
    const tx = await stored({ a: 1 });
    expect(await readNode(tx.tx, space, Buffer.from('02ff00', 'hex'), { limit: 1 })).toBeUndefined();
  });
});
