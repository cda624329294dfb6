/** Small shared pieces of the pages: an error line, a two-step (confirmed) button, a pager. */
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import type { ApiError } from './api.js';

/** A typed error from the API, as the operator sees it. */
export function ErrorLine({ error }: { error: ApiError | Error | undefined }) {
  if (error === undefined) return null;
  const code = (error as ApiError).code;
  return html`<p class="error" role="alert" data-test="error">${code === undefined ? '' : html`<code>${code}</code> `}${error.message}</p>`;
}

/**
 * A button that asks before it acts: the first click shows "Confirm" and "Cancel", the second
 * runs `action` (one admin transaction on the server). Errors are shown beside it.
 */
export function ConfirmButton({ label, action, test, onDone }: { label: string; action: () => Promise<unknown>; test: string; onDone: () => void }) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | undefined>(undefined);
  const run = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
      setAsking(false);
      onDone();
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };
  if (!asking) return html`<span><button data-test=${test} onClick=${() => setAsking(true)}>${label}</button><${ErrorLine} error=${error} /></span>`;
  return html`<span class="confirm">${label}? <button data-test="confirm" disabled=${busy} onClick=${run}>Confirm</button> <button onClick=${() => setAsking(false)}>Cancel</button><${ErrorLine} error=${error} /></span>`;
}

/** Previous / next over cursor pages: `cursors` is the stack of cursors of the pages before. */
export function Pager({ hasPrev, next, onPrev, onNext }: { hasPrev: boolean; next: string | null; onPrev: () => void; onNext: () => void }) {
  if (!hasPrev && next === null) return null;
  return html`<div class="pager"><button disabled=${!hasPrev} onClick=${onPrev}>← Previous</button> <button data-test="next-page" disabled=${next === null} onClick=${onNext}>Next →</button></div>`;
}

/** A page of a cursor-paged list: the cursor of each page so far, the current one last. */
export function useCursors(): { cursor: string | undefined; push: (next: string) => void; pop: () => void; reset: () => void; depth: number } {
  const [stack, setStack] = useState<Array<string | undefined>>([undefined]);
  return {
    cursor: stack[stack.length - 1],
    depth: stack.length,
    push: (next) => setStack([...stack, next]),
    pop: () => setStack(stack.length > 1 ? stack.slice(0, -1) : stack),
    reset: () => setStack([undefined]),
  };
}
