/**
 * A serving process for the load section: opens the store the parent names, serves the bench
 * Counter and prints `ready`; stops on SIGTERM. Run as compiled JavaScript, like the parent.
 *
 *   node load-child.js lmdb PATH sync|nosync
 *   node load-child.js foundationdb CLUSTER_FILE PREFIX_JSON
 */
import { createSystem, lmdb, type Backend } from '../../src/index.js';
import { Counter } from './actors.js';

const [kind, where, extra] = process.argv.slice(2);

async function open(): Promise<Backend> {
  if (kind === 'lmdb') return lmdb({ path: where!, noSync: extra === 'nosync' });
  if (kind === 'foundationdb') {
    const { foundationdb } = await import('../../src/backend/foundationdb.js');
    return foundationdb({ clusterFile: where!, prefix: JSON.parse(extra!) as Array<string | number> });
  }
  throw new Error(`load-child: unknown engine ${kind}`);
}

const system = await createSystem({ backend: await open(), closeBackend: true });
system.serve(Counter);
process.stdout.write('ready\n');
process.on('SIGTERM', () => void system.close().then(() => process.exit(0)));
setInterval(() => {}, 1 << 30);
