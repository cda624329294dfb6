/**
 * The state as a collapsible tree, read lazily: a node's children are fetched when it is opened,
 * a page at a time, and re-read when a commit arrives (`refresh` changes). A large state is never
 * fetched whole. Written here rather than taken from a tree-view package because the tree is
 * remote and paged: a package's tree would want the data up front.
 */
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import type { Api } from './api.js';
import { formatValue } from './format.js';
import { ErrorLine } from './widgets.js';

export interface Child {
  readonly label: unknown;
  readonly address: string;
  readonly kind: string;
  readonly value?: unknown;
}

interface NodeData {
  readonly kind: string;
  readonly value?: unknown;
  readonly children: Child[];
  readonly next?: string;
}

const PAGE = 100;

/** The children of the node at `address`, with a "more" button while there are more pages. */
function Children({ api, path, address, refresh }: { api: Api; path: string; address: string; refresh: number }) {
  const [node, setNode] = useState<NodeData | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const load = async (after?: string) => {
    // a refresh re-reads as many children as are shown, so pages opened with "more…" stay open
    const limit = after === undefined ? Math.min(1_000, Math.max(PAGE, node?.children.length ?? 0)) : PAGE;
    try {
      const page = await api.get<NodeData>(`${path}/state`, { node: address, after, limit });
      setError(undefined);
      setNode((prev) => (after === undefined || prev === undefined ? page : { ...page, children: [...prev.children, ...page.children] }));
    } catch (e) {
      setError(e as Error);
    }
  };
  useEffect(() => void load(), [address, refresh]);
  if (error !== undefined) return html`<${ErrorLine} error=${error} />`;
  if (node === undefined) return html`<div class="muted">loading…</div>`;
  if (node.kind === 'leaf') return html`<div class="leaf" data-test="leaf">${formatValue(node.value, 100_000)}</div>`;
  return html`<ul class="tree">
    ${node.children.map((c) => html`<${TreeNode} key=${c.address} api=${api} path=${path} child=${c} refresh=${refresh} />`)}
    ${node.next === undefined ? null : html`<li><button data-test="more" onClick=${() => load(node.next)}>more…</button></li>`}
  </ul>`;
}

function TreeNode({ api, path, child, refresh }: { api: Api; path: string; child: Child; refresh: number }) {
  const [open, setOpen] = useState(false);
  const label = typeof child.label === 'string' ? child.label : formatValue(child.label);
  if (child.kind === 'leaf' && 'value' in child) {
    return html`<li data-test="node" data-label=${label}><span class="key">${label}</span>: <span class="value" data-test="value">${formatValue(child.value)}</span></li>`;
  }
  return html`<li data-test="node" data-label=${label}>
    <button class="toggle" data-test="toggle" aria-expanded=${open} onClick=${() => setOpen(!open)}>${open ? '▾' : '▸'}</button>
    <span class="key">${label}</span> <span class="muted">${child.kind}</span>
    ${open ? html`<${Children} api=${api} path=${path} address=${child.address} refresh=${refresh} />` : null}
  </li>`;
}

/** The whole state, from its root. */
export function StateTree({ api, path, refresh }: { api: Api; path: string; refresh: number }) {
  return html`<div data-test="state"><${Children} api=${api} path=${path} address="" refresh=${refresh} /></div>`;
}
