/**
 * The inspector served on its own port: `dgen inspect` and `system.inspector()`. Binds to
 * 127.0.0.1 unless told otherwise, and prints (returns) a URL carrying its token.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Admin } from '../ops/admin.js';
import { InspectorOptionsError } from './errors.js';
import { createInspectorHandler } from './handler.js';
import type { MetricsEndpoint } from './metrics.js';
import { isLoopback, tokenFor } from './token.js';

/**
 * Options of `system.inspector()` and {@link startInspector}.
 * @example
 * ```ts
 * const inspector = await system.inspector({ port: 4400 });
 * console.log(`dgen inspector: ${inspector.url}`);
 * ```
 */
export interface InspectorOptions {
  /** TCP port; 0 (default) picks a free one. */
  readonly port?: number;
  /** Address to listen on. Default `127.0.0.1`; any other than loopback needs `token`. */
  readonly host?: string;
  /** The token (16+ URL-safe characters). Default: a random one, on loopback only. */
  readonly token?: string;
  /** Definitions the inspector may use to dispatch and to rebuild past states (registered ones are known already). */
  readonly definitions?: readonly { readonly name: string }[];
  /** Serves `GET /metrics` through this endpoint (a PrometheusExporter; see docs/observability.md). */
  readonly metrics?: MetricsEndpoint;
}

/**
 * A running inspector.
 * @example
 * ```ts
 * const inspector = await system.inspector();
 * open(inspector.url);
 * await inspector.close();
 * ```
 */
export interface Inspector {
  /** The page's URL, token included: whoever has it can operate the store. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly token: string;
  /** Stops listening and ends open event streams. */
  close(): Promise<void>;
}

/**
 * Serves the inspector of `admin` on its own port.
 *
 * @example
 * ```ts
 * const inspector = await startInspector(system.admin, { port: 4400 });
 * console.log(inspector.url); // http://127.0.0.1:4400/?token=…
 * ```
 */
export async function startInspector(admin: Admin, options: InspectorOptions = {}): Promise<Inspector> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new InspectorOptionsError('invalid_port', `The inspector port must be an integer from 0 to 65535, got ${String(port)}.`);
  const token = tokenFor(host, options.token);
  const handler = createInspectorHandler(admin, {
    token,
    loopbackOnly: isLoopback(host),
    ...(options.definitions === undefined ? {} : { definitions: options.definitions }),
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
  });
  const server = createServer((req, res) => {
    void handler(req, res).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return { url: `http://${shown}:${bound}/?token=${token}`, host, port: bound, token, close: () => closeServer(server) };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections(); // event streams stay open otherwise
  });
}
