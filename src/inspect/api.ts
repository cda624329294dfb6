/**
 * The inspector's JSON API: one route a function, each one admin call (so each action is one
 * transaction). Parameters are checked here, at the boundary, and refused with typed errors.
 */
import type { ActorName, Admin } from '../ops/admin.js';
import { ConfirmationError, InspectorRequestError, NotFoundError } from './errors.js';

/** What a route gets: the admin API, the actor as the admin should be given it, the request's parts. */
export interface RouteContext {
  readonly admin: Admin;
  /** The definition when the inspector was given it, else the name. */
  readonly actor: ActorName;
  readonly name: string;
  readonly id: string;
  readonly position: string;
  readonly query: URLSearchParams;
  readonly body: unknown;
}

type Route = (c: RouteContext) => Promise<unknown>;

/** Routes by method and path pattern (`:a` actor, `:id` instance, `:pos` position). */
export const ROUTES: Record<string, Route> = {
  'GET /api/actors': async ({ admin }) => (await admin.overview()).map((a) => ({ ...a, actions: admin.actions(a.name) ?? null })),
  'GET /api/actors/:a/instances': async ({ admin, actor, query }) => {
    const limit = intParam(query, 'limit', 1, 1_000) ?? 50;
    const ids = await admin.instances(actor, { limit: limit + 1, ...strParams(query, 'after', 'prefix') });
    return { ids: ids.slice(0, limit), next: ids.length > limit ? ids[limit - 1] : null };
  },
  'GET /api/actors/:a/instances/:id': async ({ admin, actor, name, id }) => {
    await mustExist(admin, actor, name, id);
    const [commits, lock, lease, halted, timers] = await Promise.all([admin.commits(actor, id, { limit: 1 }), admin.lock(actor, id), admin.lease(actor, id), admin.halted(actor, id), admin.timers(actor, id)]);
    return { name, id, version: commits[0]?.version ?? 0, lock: lock ?? null, lease: lease ?? null, halted: halted ?? null, timers, actions: admin.actions(actor) ?? null };
  },
  'GET /api/actors/:a/instances/:id/state': async ({ admin, actor, id, query }) => {
    const node = await admin.stateNode(actor, id, query.get('node') ?? '', { ...strParams(query, 'after'), limit: intParam(query, 'limit', 1, 1_000) ?? 100 });
    if (node === undefined) throw new NotFoundError('No state is stored at that node (the instance has no state yet, or the node was removed by a later commit).');
    return node;
  },
  'GET /api/actors/:a/instances/:id/queue': ({ admin, actor, id, query }) => page(query, (o) => admin.queue(actor, id, o)),
  'GET /api/actors/:a/instances/:id/dead-letters': ({ admin, actor, id, query }) => page(query, (o) => admin.deadLetters(actor, id, o)),
  'GET /api/actors/:a/instances/:id/commits': async ({ admin, actor, id, query }) => {
    const before = intParam(query, 'before', 1, Number.MAX_SAFE_INTEGER);
    return admin.commits(actor, id, { limit: intParam(query, 'limit', 1, 256) ?? 20, ...(before === undefined ? {} : { before }) });
  },
  'GET /api/actors/:a/instances/:id/state-at': async ({ admin, actor, id, query }) => ({ state: await admin.stateAt(actor, id, intParam(query, 'version', 0, Number.MAX_SAFE_INTEGER) ?? missing('version')) }),

  'POST /api/actors/:a/instances/:id/dead-letters/:pos/requeue': async ({ admin, actor, id, position }) => done(await admin.requeue(actor, id, position), 'dead letter'),
  'POST /api/actors/:a/instances/:id/dead-letters/:pos/delete': async ({ admin, actor, id, position }) => done(await admin.deleteDeadLetter(actor, id, position), 'dead letter'),
  'POST /api/actors/:a/instances/:id/queue/:pos/delete': async ({ admin, actor, id, position }) => done(await admin.deleteQueued(actor, id, position), 'queued message'),
  'POST /api/actors/:a/instances/:id/release-lock': async ({ admin, actor, id }) => done(await admin.releaseLock(actor, id), 'lock'),
  'POST /api/actors/:a/instances/:id/resume': async ({ admin, actor, id }) => done(await admin.resume(actor, id), 'halt'),
  'POST /api/actors/:a/instances/:id/timers/cancel': async ({ admin, actor, id, body }) => {
    const { key, messageId } = fields(body, ['key', 'messageId']);
    return done(await admin.cancelTimer(actor, id, typeof key === 'string' ? { key } : { messageId: messageId as string }), 'timer');
  },
  'POST /api/actors/:a/instances/:id/dispatch': async ({ admin, actor, id, body }) => {
    const { action, payload } = fields(body, ['action', 'payload']);
    if (typeof action !== 'string' || action === '') throw new InspectorRequestError('dispatch: the body needs "action", the name of one of the actor\'s reducers.');
    return { messageId: await admin.dispatch(actor, id, action, payload) };
  },
  'POST /api/actors/:a/instances/:id/destroy': async ({ admin, actor, name, id, body }) => {
    const { confirm } = fields(body, ['confirm']);
    if (confirm !== id) throw new ConfirmationError(id);
    await mustExist(admin, actor, name, id);
    await admin.destroy(actor, id);
    return { done: true };
  },
};

/** The route for a method and path, and the path's parameters. */
export function matchRoute(method: string, path: string): { route: Route; params: Record<string, string> } | undefined {
  const parts = path.split('/');
  for (const [key, route] of Object.entries(ROUTES)) {
    const [m, pattern] = key.split(' ') as [string, string];
    const want = pattern.split('/');
    if (m !== method || want.length !== parts.length) continue;
    const params: Record<string, string> = {};
    if (want.every((w, i) => (w.startsWith(':') ? ((params[w.slice(1)] = decode(parts[i]!)), true) : w === parts[i]))) return { route, params };
  }
  return undefined;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new InspectorRequestError(`The path segment '${segment.slice(0, 40)}' is not valid percent-encoding.`);
  }
}

async function mustExist(admin: Admin, actor: ActorName, name: string, id: string): Promise<void> {
  if (!(await admin.has(actor, id))) throw new NotFoundError(`Actor '${name}' has no stored instance '${id}'.`);
}

function done(found: boolean, what: string): { done: true } {
  if (!found) throw new NotFoundError(`That ${what} is not there any more (another operator or the consumer got to it first): reload.`);
  return { done: true };
}

async function page<T extends { position: string }>(query: URLSearchParams, read: (o: { limit: number; after?: string }) => Promise<T[]>) {
  const limit = intParam(query, 'limit', 1, 1_000) ?? 50;
  const entries = await read({ limit: limit + 1, ...strParams(query, 'after') });
  return { entries: entries.slice(0, limit), next: entries.length > limit ? entries[limit - 1]!.position : null };
}

/** An integer query parameter within [min, max], or undefined when absent. */
export function intParam(query: URLSearchParams, name: string, min: number, max: number): number | undefined {
  const raw = query.get(name);
  if (raw === null) return undefined;
  const n = /^-?\d{1,16}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new InspectorRequestError(`Query parameter '${name}' must be an integer from ${min} to ${max}, got '${raw.slice(0, 40)}'.`);
  return n;
}

function strParams<K extends string>(query: URLSearchParams, ...names: K[]): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const n of names) {
    const v = query.get(n);
    if (v !== null) out[n] = v;
  }
  return out;
}

function missing(name: string): never {
  throw new InspectorRequestError(`Query parameter '${name}' is required.`);
}

/** The fields of a JSON object body; any other field is refused, so a typo is never ignored. */
function fields(body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InspectorRequestError(`The request body must be a JSON object with ${allowed.map((f) => `"${f}"`).join(' or ')}.`);
  const extra = Object.keys(body).filter((k) => !allowed.includes(k));
  if (extra.length > 0) throw new InspectorRequestError(`Unknown field '${extra[0]}' in the request body (expected ${allowed.map((f) => `"${f}"`).join(', ')}).`);
  return body as Record<string, unknown>;
}
