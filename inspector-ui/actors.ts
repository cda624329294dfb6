/** The first page: every definition with stored instances, its instance count, queue depth and dead letters. */
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import type { Api } from './api.js';
import { hrefOf } from './route.js';
import { ErrorLine } from './widgets.js';

interface ActorRow {
  readonly name: string;
  readonly instances: number;
  readonly queued: number;
  readonly deadLetters: number;
  /** Instances whose queue and dead letters were counted: fewer than `instances` in a large store. */
  readonly counted: number;
}

export function ActorsPage({ api }: { api: Api }) {
  const [rows, setRows] = useState<ActorRow[] | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  useEffect(() => {
    api.get<ActorRow[]>('/api/actors').then(setRows, setError);
  }, []);
  if (error !== undefined) return html`<${ErrorLine} error=${error} />`;
  if (rows === undefined) return html`<p class="muted">loading…</p>`;
  if (rows.length === 0) return html`<p>The store holds no actor yet.</p>`;
  return html`<h2>Actors</h2><table data-test="actors"><thead><tr><th>actor</th><th>instances</th><th>queued</th><th>dead letters</th></tr></thead><tbody>
    ${rows.map((r) => html`<tr key=${r.name}><td><a data-test="actor" href=${hrefOf({ view: 'instances', name: r.name, prefix: '' })}>${r.name}</a></td><td>${r.instances}</td><td>${r.queued}${partial(r)}</td><td class=${r.deadLetters > 0 ? 'warn' : ''}>${r.deadLetters}${partial(r)}</td></tr>`)}
  </tbody></table>`;
}

function partial(r: ActorRow): string {
  return r.counted < r.instances ? ` (in the first ${r.counted.toLocaleString()})` : '';
}
