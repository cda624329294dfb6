/**
 * The inspector as a Node request handler: the page, the JSON API and the live event stream,
 * behind the token. Mount it under an existing `http.Server` (it answers only below its base path
 * and returns false for anything else) or let {@link startInspector} serve it alone.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { DgenError } from '../errors.js';
import type { ActorName, Admin } from '../ops/admin.js';
import { matchRoute } from './api.js';
import { uiScript } from './assets.js';
import { InspectorRequestError, NotFoundError, UnauthorizedError, statusOf } from './errors.js';
import { streamVersions } from './events.js';
import { stringify } from './json.js';
import { serveMetrics, type MetricsEndpoint } from './metrics.js';
import { checkToken, isLoopback, tokenMatches } from './token.js';

/** Options of {@link createInspectorHandler}. */
export interface InspectorHandlerOptions {
  /** The token every request must carry (see docs/operating.md). */
  readonly token: string;
  /** Where the inspector is mounted, e.g. `/inspect`. Default `/`. */
  readonly basePath?: string;
  /**
   * Definitions the inspector may use for dispatch (checking actions) and for the state as of a
   * version (their initial state). Definitions registered in the system are known already.
   */
  readonly definitions?: readonly { readonly name: string }[];
  /**
   * Refuse requests whose Host header is not a loopback name (a DNS-rebinding guard for an
   * inspector bound to loopback). Default false; {@link startInspector} sets it on loopback.
   */
  readonly loopbackOnly?: boolean;
  /**
   * Serves `GET /metrics` (Prometheus text) through this endpoint, e.g. a PrometheusExporter
   * created with `preventServerStart: true` (docs/observability.md). The token is required as for
   * every request: `?token=…` (Prometheus `params`) or the X-Dgen-Token header.
   */
  readonly metrics?: MetricsEndpoint;
}

/** Answers a request below its base path (true), or leaves it to the next handler (false). */
export type InspectorHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

/** Largest request body: a dispatched message (1 MB) as JSON, with room to spare. */
const MAX_BODY = 4_000_000;
/**
 * The header that carries the token on API requests; mutating requests accept nothing else.
 * @example
 * ```ts
 * await fetch(`${base}/api/actors`, { headers: { [TOKEN_HEADER]: token } });
 * ```
 */
export const TOKEN_HEADER = 'x-dgen-token';

/**
 * A request handler serving the inspector of `admin` under `basePath`.
 *
 * @example
 * ```ts
 * const inspect = createInspectorHandler(system.admin, { token: process.env.DGEN_INSPECTOR_TOKEN!, basePath: '/inspect' });
 * http.createServer(async (req, res) => { if (!(await inspect(req, res))) app(req, res); }).listen(8080);
 * ```
 */
export function createInspectorHandler(admin: Admin, options: InspectorHandlerOptions): InspectorHandler {
  const token = checkToken(options.token);
  const base = (options.basePath ?? '/').replace(/\/+$/, '');
  const definitions = new Map<string, ActorName>((options.definitions ?? []).map((d) => [d.name, d]));
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://inspector');
    if (url.pathname !== base && !url.pathname.startsWith(`${base}/`)) return false;
    const path = url.pathname.slice(base.length) || '/';
    try {
      if (options.loopbackOnly === true && !isLoopback(hostName(req.headers.host ?? ''))) throw new DgenError('forbidden_host', 'The inspector answers only requests addressed to a loopback host (127.0.0.1, localhost, ::1).');
      authorize(req, url, token);
      if (path === '/' && req.method === 'GET') await page(res, base);
      else if (path === '/metrics' && req.method === 'GET' && options.metrics !== undefined) serveMetrics(options.metrics, req, res);
      else if (req.method === 'GET' && path.endsWith('/events')) streamEvents(req, res, admin, path, definitions);
      else await api(req, res, admin, path, url.searchParams, definitions);
    } catch (e) {
      fail(res, e);
    }
    return true;
  };
}

/** Every request carries the token; a request that changes anything carries it in the header only. */
function authorize(req: IncomingMessage, url: URL, token: string): void {
  const header = req.headers[TOKEN_HEADER];
  const fromHeader = typeof header === 'string' ? header : undefined;
  const reads = req.method === 'GET' || req.method === 'HEAD';
  const given = fromHeader ?? (reads ? (url.searchParams.get('token') ?? undefined) : undefined);
  if (!tokenMatches(given, token)) {
    throw new UnauthorizedError(reads ? 'This inspector needs its token: open the URL it printed (with ?token=…), or send the X-Dgen-Token header.' : 'Requests that change anything need the token in the X-Dgen-Token header.');
  }
}

async function api(req: IncomingMessage, res: ServerResponse, admin: Admin, path: string, query: URLSearchParams, definitions: Map<string, ActorName>): Promise<void> {
  const match = matchRoute(req.method ?? 'GET', path);
  if (match === undefined) throw new NotFoundError(`No inspector route ${req.method} ${path}.`);
  const body = req.method === 'POST' ? await readJson(req) : undefined;
  const { a: name = '', id = '', pos: position = '' } = match.params;
  const result = await match.route({ admin, actor: definitions.get(name) ?? name, name, id, position, query, body });
  send(res, 200, stringify(result));
}

function streamEvents(req: IncomingMessage, res: ServerResponse, admin: Admin, path: string, definitions: Map<string, ActorName>): void {
  const m = /^\/api\/actors\/([^/]*)\/instances\/([^/]*)\/events$/.exec(path);
  if (m === null) throw new NotFoundError(`No inspector route GET ${path}.`);
  const [name, id] = [m[1]!, m[2]!].map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      throw new InspectorRequestError(`The path segment '${segment.slice(0, 40)}' is not valid percent-encoding.`);
    }
  }) as [string, string];
  streamVersions(req, res, admin, definitions.get(name) ?? name, id);
}

async function page(res: ServerResponse, base: string): Promise<void> {
  const script = await uiScript();
  const nonce = randomBytes(16).toString('base64');
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer', // the token is in the URL: never send it on
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>dgen inspector</title></head><body><div id="app" data-base="${escapeHtml(base)}"></div><script type="module" nonce="${nonce}">${script.replace(/<\/script/gi, '<\\/script')}</script></body></html>`);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new DgenError('payload_too_large', `The request body is over ${MAX_BODY} bytes.`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return {};
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InspectorRequestError(`The request body is not JSON: ${(e as Error).message}`);
  }
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(body);
}

function fail(res: ServerResponse, e: unknown): void {
  if (res.headersSent) return void res.destroy();
  const error = e instanceof DgenError ? { code: e.code, name: e.name, message: e.message } : { code: 'internal', name: 'Error', message: e instanceof Error ? e.message : String(e) };
  send(res, statusOf(e), JSON.stringify({ error }));
}

function hostName(host: string): string {
  const m = /^(\[[^\]]*\]|[^:]*)/.exec(host);
  return m?.[1] ?? '';
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
