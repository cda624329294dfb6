/**
 * The inspector's HTTP API from the page: every request carries the token in the X-Dgen-Token
 * header; errors come back typed (`code`, `message`) and are thrown as {@link ApiError}.
 */

export class ApiError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

export interface Api {
  get<T>(path: string, query?: Record<string, string | number | undefined>): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  /** The live events of an instance (EventSource cannot send headers: the token goes in the query of this read-only stream). */
  events(path: string): EventSource;
}

export function createApi(base: string, token: string, fetchImpl: typeof fetch = (...a) => fetch(...a)): Api {
  const url = (path: string, query: Record<string, string | number | undefined> = {}) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, String(v));
    const s = q.toString();
    return `${base}${path}${s === '' ? '' : `?${s}`}`;
  };
  const call = async <T>(method: string, path: string, query?: Record<string, string | number | undefined>, body?: unknown): Promise<T> => {
    const init: RequestInit = { method, headers: { 'x-dgen-token': token, ...(body === undefined ? {} : { 'content-type': 'application/json' }) } };
    if (body !== undefined) init.body = JSON.stringify(body);
    const res = await fetchImpl(url(path, query), init);
    const data = (await res.json().catch(() => ({ error: { code: 'invalid_response', message: `HTTP ${res.status}` } }))) as { error?: { code: string; message: string } };
    if (!res.ok || data.error !== undefined) throw new ApiError(data.error?.code ?? 'http_error', data.error?.message ?? `HTTP ${res.status}`);
    return data as T;
  };
  return {
    get: (path, query) => call('GET', path, query),
    post: (path, body) => call('POST', path, undefined, body ?? {}),
    events: (path) => new EventSource(url(path, { token })),
  };
}

/** The path of an instance's API. */
export function instancePath(name: string, id: string): string {
  return `/api/actors/${encodeURIComponent(name)}/instances/${encodeURIComponent(id)}`;
}
