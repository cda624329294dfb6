/**
 * Live updates of one instance as Server-Sent Events: an event `commit` with the version and its
 * patches (null when too large to keep) after each commit, read through the admin API's version
 * watch. The page then re-reads only the parts of the state it shows, so a large state is never
 * sent whole. A comment line every 15 s keeps proxies from closing an idle stream.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ActorName, Admin } from '../ops/admin.js';
import { stringify } from './json.js';

const KEEP_ALIVE_MS = 15_000;

export function streamVersions(req: IncomingMessage, res: ServerResponse, admin: Admin, actor: ActorName, id: string): void {
  const versions = admin.version$(actor, id); // checks the actor and the id before anything is sent
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  res.write(': dgen inspector\n\n');
  let last = -1;
  const subscription = versions.subscribe({
    next: (version) => {
      if (version === last) return;
      last = version;
      admin.commits(actor, id, { limit: 1 }).then(
        ([commit]) => res.write(`event: commit\ndata: ${stringify({ version, patches: commit?.version === version ? commit.patches : null })}\n\n`),
        () => res.write(`event: commit\ndata: ${stringify({ version, patches: null })}\n\n`),
      );
    },
    error: () => res.end(),
    complete: () => res.end(),
  });
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
  keepAlive.unref();
  req.on('close', () => {
    clearInterval(keepAlive);
    subscription.unsubscribe();
  });
}
