/**
 * The store a bench child process opens, from the arguments its parent passes
 * (`Store.child` in bench/lib/engine.ts): `lmdb PATH sync|nosync` or
 * `foundationdb CLUSTER_FILE PREFIX_JSON`.
 */
import { lmdb, type Backend } from '../../src/index.js';

export async function openChildStore(kind: string | undefined, where: string | undefined, extra: string | undefined): Promise<Backend> {
  if (kind === 'lmdb') return lmdb({ path: where!, noSync: extra === 'nosync' });
  if (kind === 'foundationdb') {
    const { foundationdb } = await import('../../src/backend/foundationdb.js');
    return foundationdb({ clusterFile: where!, prefix: JSON.parse(extra!) as Array<string | number> });
  }
  throw new Error(`bench child: unknown engine ${kind}`);
}
