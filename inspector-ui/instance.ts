/**
 * One instance: its version (live), halt, lock, state tree, queue, dead letters, timers, recent
 * commits with the state as of each, and the operator's actions. Every action is one request,
 * one admin transaction on the server, and asks for confirmation first.
 */
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { instancePath, type Api } from './api.js';
import { describePatch, formatTime, formatValue, parsePayload } from './format.js';
import { hrefOf } from './route.js';
import { StateTree } from './tree.js';
import { ConfirmButton, ErrorLine, Pager, useCursors } from './widgets.js';

interface StoredError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
}

interface Overview {
  readonly version: number;
  readonly lock: { thunk: string; action: string; messageId: string; owner: string; attempt: number; args: unknown; lastError?: StoredError } | null;
  readonly halted: { messageId: string; error: StoredError; at: number } | null;
  readonly lease: { owner: string; expires: number } | null;
  readonly timers: Array<{ key?: string; messageId: string; due: number; action?: string; payload: unknown }>;
  readonly actions: string[] | null;
}

interface Message {
  readonly id?: string;
  readonly action?: string;
  readonly payload?: unknown;
  readonly corrupt?: string;
}

interface Entry {
  readonly position: string;
  readonly message: Message;
  readonly error?: StoredError;
  readonly attempts?: number;
  readonly at?: number;
}

interface Commit {
  readonly version: number;
  readonly patches: Array<{ op: string; path: unknown[]; value?: unknown }> | null;
}

export function InstancePage({ api, name, id }: { api: Api; name: string; id: string }) {
  const path = instancePath(name, id);
  const [overview, setOverview] = useState<Overview | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const [refresh, setRefresh] = useState(0);
  const [live, setLive] = useState(false);
  const [destroyed, setDestroyed] = useState(false);
  const reload = () => setRefresh((r) => r + 1);

  useEffect(() => {
    api.get<Overview>(path).then((o) => {
      setError(undefined);
      setOverview(o);
    }, setError);
  }, [refresh]);

  useEffect(() => {
    const events = api.events(`${path}/events`);
    events.onopen = () => setLive(true);
    events.onerror = () => setLive(false);
    events.addEventListener('commit', () => reload());
    return () => events.close();
  }, [path]);

  if (destroyed) return html`<p data-test="destroyed">Instance ${id} was destroyed. <a href=${hrefOf({ view: 'instances', name, prefix: '' })}>Back to ${name}</a></p>`;
  const header = html`<h2><a href="#/">Actors</a> / <a href=${hrefOf({ view: 'instances', name, prefix: '' })}>${name}</a> / ${id}
    ${overview === undefined ? null : html` <span class="badge" data-test="version">v${overview.version}</span>`}
    ${live ? html` <span class="badge live" data-test="live">live</span>` : null}</h2>
    ${overview?.lease == null ? null : html`<p class="muted" data-test="lease">served by ${overview.lease.owner}, lease ${overview.lease.expires > Date.now() ? `until ${formatTime(overview.lease.expires)}` : `expired ${formatTime(overview.lease.expires)}`}</p>`}`;
  if (overview === undefined) return html`${header}<${ErrorLine} error=${error} />${error === undefined ? html`<p class="muted">loading…</p>` : null}`;
  const post = (suffix: string, body?: unknown) => () => api.post(`${path}${suffix}`, body);
  return html`${header}<${ErrorLine} error=${error} />
    ${overview.halted === null ? null : html`<div class="panel warn" data-test="halted">Halted by message ${overview.halted.messageId} at ${formatTime(overview.halted.at)}: <code>${overview.halted.error.code ?? overview.halted.error.name}</code> ${overview.halted.error.message}
      <div><${ConfirmButton} label="Resume" test="resume" action=${post('/resume')} onDone=${reload} /></div></div>`}
    ${overview.lock === null ? null : html`<div class="panel" data-test="lock">Locked by thunk <code>${overview.lock.thunk}</code> (action ${overview.lock.action}, message ${overview.lock.messageId}), attempt ${overview.lock.attempt}, owner ${overview.lock.owner}; args ${formatValue(overview.lock.args)}
      ${overview.lock.lastError === undefined ? null : html`<div class="warn">last error: <code>${overview.lock.lastError.code ?? overview.lock.lastError.name}</code> ${overview.lock.lastError.message}</div>`}
      <div><${ConfirmButton} label="Release lock" test="release-lock" action=${post('/release-lock')} onDone=${reload} /> <span class="muted">its message goes to the dead letters; the thunk's recipe is not applied</span></div></div>`}
    <h3>State</h3><${StateTree} api=${api} path=${path} refresh=${refresh} />
    <h3>Queue</h3><${Entries} api=${api} path=${path} kind="queue" refresh=${refresh} onChange=${reload} />
    <h3>Dead letters</h3><${Entries} api=${api} path=${path} kind="dead-letters" refresh=${refresh} onChange=${reload} />
    ${overview.timers.length === 0 ? null : html`<h3>Timers</h3><${Timers} timers=${overview.timers} post=${post} onChange=${reload} />`}
    <h3>Recent commits</h3><${Commits} api=${api} path=${path} refresh=${refresh} />
    <h3>Dispatch</h3><${Dispatch} actions=${overview.actions} post=${post} onDone=${reload} />
    <h3>Destroy</h3><${Destroy} id=${id} post=${post} onDone=${() => setDestroyed(true)} />`;
}

function Entries({ api, path, kind, refresh, onChange }: { api: Api; path: string; kind: 'queue' | 'dead-letters'; refresh: number; onChange: () => void }) {
  const [page, setPage] = useState<{ entries: Entry[]; next: string | null } | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const cursors = useCursors();
  useEffect(() => {
    api.get<{ entries: Entry[]; next: string | null }>(`${path}/${kind}`, { after: cursors.cursor, limit: 20 }).then((p) => {
      setError(undefined);
      setPage(p);
    }, setError);
  }, [refresh, cursors.cursor]);
  if (error !== undefined) return html`<${ErrorLine} error=${error} />`;
  if (page === undefined) return html`<p class="muted">loading…</p>`;
  if (page.entries.length === 0 && cursors.depth === 1) return html`<p class="muted" data-test=${`${kind}-empty`}>empty</p>`;
  const dead = kind === 'dead-letters';
  return html`<table data-test=${kind}><thead><tr><th>action</th><th>payload</th>${dead ? html`<th>error</th><th>attempts</th><th>failed</th>` : null}<th></th></tr></thead><tbody>
    ${page.entries.map((e) => html`<tr key=${e.position} data-test="entry">
      <td>${e.message.corrupt === undefined ? e.message.action : html`<span class="warn">corrupt: ${e.message.corrupt}</span>`}</td>
      <td class="value">${formatValue(e.message.payload)}</td>
      ${dead ? html`<td><code>${e.error?.code ?? e.error?.name}</code> ${e.error?.message}</td><td>${e.attempts}</td><td>${e.at === undefined ? '' : formatTime(e.at)}</td>` : null}
      <td>${dead ? html`<${ConfirmButton} label="Requeue" test="requeue" action=${() => api.post(`${path}/dead-letters/${e.position}/requeue`)} onDone=${onChange} /> ` : null}
        <${ConfirmButton} label="Delete" test="delete" action=${() => api.post(`${path}/${kind === 'queue' ? 'queue' : 'dead-letters'}/${e.position}/delete`)} onDone=${onChange} /></td>
    </tr>`)}
  </tbody></table><${Pager} hasPrev=${cursors.depth > 1} next=${page.next} onPrev=${cursors.pop} onNext=${() => page.next !== null && cursors.push(page.next)} />`;
}

function Timers({ timers, post, onChange }: { timers: Overview['timers']; post: (s: string, b?: unknown) => () => Promise<unknown>; onChange: () => void }) {
  return html`<table data-test="timers"><thead><tr><th>due</th><th>key</th><th>action</th><th>payload</th><th></th></tr></thead><tbody>
    ${timers.map((t) => html`<tr key=${t.messageId}><td>${formatTime(t.due)}</td><td>${t.key ?? html`<span class="muted">(unnamed)</span>`}</td><td>${t.action}</td><td class="value">${formatValue(t.payload)}</td>
      <td><${ConfirmButton} label="Cancel timer" test="cancel-timer" action=${post('/timers/cancel', t.key === undefined ? { messageId: t.messageId } : { key: t.key })} onDone=${onChange} /></td></tr>`)}
  </tbody></table>`;
}

function Commits({ api, path, refresh }: { api: Api; path: string; refresh: number }) {
  const [commits, setCommits] = useState<Commit[] | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const [asOf, setAsOf] = useState<{ version: number; state?: unknown; error?: Error } | undefined>(undefined);
  useEffect(() => {
    api.get<Commit[]>(`${path}/commits`, { limit: 20 }).then(setCommits, setError);
  }, [refresh]);
  const travel = (version: number) => {
    api.get<{ state: unknown }>(`${path}/state-at`, { version }).then(
      (r) => setAsOf({ version, state: r.state }),
      (e: Error) => setAsOf({ version, error: e }),
    );
  };
  if (error !== undefined) return html`<${ErrorLine} error=${error} />`;
  if (commits === undefined) return html`<p class="muted">loading…</p>`;
  if (commits.length === 0) return html`<p class="muted">no commit kept</p>`;
  return html`<table data-test="commits"><thead><tr><th>version</th><th>patches</th><th></th></tr></thead><tbody>
    ${commits.map((c) => html`<tr key=${c.version}><td>v${c.version}</td><td><pre>${c.patches === null ? '(too large to keep)' : c.patches.length === 0 ? '(no state change)' : c.patches.map(describePatch).join('\n')}</pre></td><td><button data-test="as-of" onClick=${() => travel(c.version)}>State as of v${c.version}</button></td></tr>`)}
  </tbody></table>
  ${asOf === undefined ? null : html`<div class="panel" data-test="as-of-state"><strong>State as of v${asOf.version}</strong> <button onClick=${() => setAsOf(undefined)}>close</button>
    ${asOf.error === undefined ? html`<pre>${formatValue(asOf.state, 100_000)}</pre>` : html`<${ErrorLine} error=${asOf.error} />`}</div>`}`;
}

function Dispatch({ actions, post, onDone }: { actions: string[] | null; post: (s: string, b?: unknown) => () => Promise<unknown>; onDone: () => void }) {
  const [action, setAction] = useState(actions?.[0] ?? '');
  const [text, setText] = useState('');
  if (actions === null) return html`<p class="muted">The inspector does not know this actor's definition, so it cannot check an action: serve the inspector from the app (system.inspector()) or start it with --import.</p>`;
  const parsed = parsePayload(text);
  return html`<div class="panel" data-test="dispatch">
    <label>action <select data-test="action" value=${action} onChange=${(e: Event) => setAction((e.target as HTMLSelectElement).value)}>${actions.map((a) => html`<option value=${a}>${a}</option>`)}</select></label>
    <label> payload (JSON) <textarea data-test="payload" value=${text} onInput=${(e: Event) => setText((e.target as HTMLTextAreaElement).value)}></textarea></label>
    ${parsed.ok ? html`<${ConfirmButton} label=${`Dispatch ${action}`} test="dispatch" action=${post('/dispatch', { action, payload: parsed.payload })} onDone=${onDone} />` : html`<p class="error" data-test="payload-error">${parsed.error}</p>`}
  </div>`;
}

function Destroy({ id, post, onDone }: { id: string; post: (s: string, b?: unknown) => () => Promise<unknown>; onDone: () => void }) {
  const [typed, setTyped] = useState('');
  const [error, setError] = useState<Error | undefined>(undefined);
  const run = async () => {
    try {
      await post('/destroy', { confirm: typed })();
      onDone();
    } catch (e) {
      setError(e as Error);
    }
  };
  return html`<div class="panel">Deletes everything of this instance: state, queue, dead letters, lock, timers. Type its id to confirm:
    <input data-test="destroy-confirm" value=${typed} onInput=${(e: Event) => setTyped((e.target as HTMLInputElement).value)} />
    <button data-test="destroy" disabled=${typed !== id} onClick=${run}>Destroy</button><${ErrorLine} error=${error} /></div>`;
}
