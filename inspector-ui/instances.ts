/** The instances of one definition: a page at a time, searchable by id prefix (never the whole list). */
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import type { Api } from './api.js';
import { hrefOf } from './route.js';
import { ErrorLine, Pager, useCursors } from './widgets.js';

const PAGE = 50;

export function InstancesPage({ api, name, prefix }: { api: Api; name: string; prefix: string }) {
  const [search, setSearch] = useState(prefix);
  const [page, setPage] = useState<{ ids: string[]; next: string | null } | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const cursors = useCursors();
  useEffect(() => cursors.reset(), [name, prefix]);
  useEffect(() => {
    setPage(undefined);
    api.get<{ ids: string[]; next: string | null }>(`/api/actors/${encodeURIComponent(name)}/instances`, { prefix, after: cursors.cursor, limit: PAGE }).then((p) => {
      setError(undefined);
      setPage(p);
    }, setError);
  }, [name, prefix, cursors.cursor]);
  const submit = (e: Event) => {
    e.preventDefault();
    location.hash = hrefOf({ view: 'instances', name, prefix: search });
  };
  return html`<h2><a href="#/">Actors</a> / ${name}</h2>
    <form onSubmit=${submit} class="search"><input data-test="search" placeholder="id prefix" value=${search} onInput=${(e: Event) => setSearch((e.target as HTMLInputElement).value)} /> <button>Search</button></form>
    <${ErrorLine} error=${error} />
    ${page === undefined ? html`<p class="muted">loading…</p>` : page.ids.length === 0 ? html`<p>No instance${prefix === '' ? '' : ` with an id starting with '${prefix}'`}.</p>` : html`<ul class="ids" data-test="instances">${page.ids.map((id) => html`<li key=${id}><a data-test="instance" href=${hrefOf({ view: 'instance', name, id })}>${id}</a></li>`)}</ul>`}
    <${Pager} hasPrev=${cursors.depth > 1} next=${page?.next ?? null} onPrev=${cursors.pop} onNext=${() => page?.next != null && cursors.push(page.next)} />`;
}
